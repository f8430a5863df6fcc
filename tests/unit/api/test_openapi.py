"""The OpenAPI document served at ``/openapi.json``: a valid OpenAPI 3.1 document whose every
``$ref`` resolves in ``components``, errors described by the ``Error`` schema, decision answers
as the server renders them, and a security requirement on every operation."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from guardian.api.openapi import OPTIONAL_CREDENTIALS
from support import API_KEY, Signer, decision_body

PUBLIC = {("post", "/v1/sessions"), ("post", "/v1/sessions/webauthn/options"),
          ("post", "/v1/sessions/webauthn"), ("get", "/v1/health")}


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in spec["paths"].items()
            for method, op in item.items()]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def _validator(spec: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_the_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)  # raises OpenAPIValidationError on any violation

    assert spec["openapi"].startswith("3.1")


def test_every_ref_resolves_in_components(spec: dict[str, Any]) -> None:
    refs = set(_refs(spec))
    schemas = spec["components"]["schemas"]

    assert refs, "the document has no $ref at all"
    assert all(r.startswith("#/components/schemas/") for r in refs), refs
    assert {r.rsplit("/", 1)[1] for r in refs} <= set(schemas)
    assert "$defs" not in str(spec)


def test_fastapis_validation_error_is_replaced_by_the_error_schema(
    spec: dict[str, Any],
) -> None:
    schemas = spec["components"]["schemas"]
    decide = spec["paths"]["/v1/decisions"]["post"]["responses"]

    assert "HTTPValidationError" not in schemas
    assert decide["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    for status in ("401", "403", "413"):
        assert decide[status]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/Error")
    assert "503" not in decide, "a decision the journal refuses is a deny, not a 503"


def test_every_error_response_refers_to_error(spec: dict[str, Any]) -> None:
    for method, path, op in _operations(spec):
        for status, response in op["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_the_decision_request_body_is_a_component(spec: dict[str, Any]) -> None:
    body = spec["paths"]["/v1/decisions"]["post"]["requestBody"]
    batch = spec["paths"]["/v1/decisions:batch"]["post"]["requestBody"]

    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DecisionBody"}
    assert batch["content"]["application/json"]["schema"]["$ref"].endswith("/BatchBody")
    subject = spec["components"]["schemas"]["DecisionBody"]["properties"]["subject"]
    assert subject == {"$ref": "#/components/schemas/Subject"}


def test_every_operation_says_how_it_authenticates(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]

    assert schemes["ApiKey"] == {**schemes["ApiKey"], "type": "apiKey", "in": "header",
                                 "name": "X-API-Key"}
    assert (schemes["Bearer"]["type"], schemes["Bearer"]["scheme"]) == ("http", "bearer")
    for method, path, op in _operations(spec):
        security = op["security"]
        if (method, path) in PUBLIC:
            assert security in ([], [{}, {"Bearer": []}]), (method, path, security)
        else:
            assert security and {} not in security, (method, path, security)
        names = {p["name"].lower() for p in op.get("parameters", ())}
        assert not names & {"authorization", "x-api-key"}, (method, path)
    assert ("get", "/v1/health") in OPTIONAL_CREDENTIALS


def test_operations_carry_the_scheme_they_really_check(spec: dict[str, Any]) -> None:
    paths = spec["paths"]

    assert paths["/v1/decisions"]["post"]["security"] == [{"ApiKey": []}]
    assert paths["/v1/keys"]["get"]["security"] == [{"Bearer": []}]
    assert paths["/v1/metrics"]["get"]["security"] == [{"Bearer": []}]
    assert paths["/v1/customers/{customer_id}/consents"]["get"]["security"] == [
        {"ApiKey": []}, {"Bearer": []}]
    assert paths["/v1/sessions"]["post"]["security"] == []


def test_a_real_decision_matches_the_decision_schema(
    client: TestClient, signer: Signer, spec: dict[str, Any],
) -> None:
    token = signer.token("alice")
    headers = {"X-API-Key": API_KEY}
    one = client.post("/v1/decisions", headers=headers, json=decision_body("alice", token))
    batch = client.post("/v1/decisions:batch", headers=headers, json={"requests": [
        decision_body("alice", token), decision_body("mallory", None)]})

    assert one.status_code == batch.status_code == 200
    _validator(spec, "Decision").validate(one.json())
    _validator(spec, "DecisionBatch").validate(batch.json())
    assert [d["decision"] for d in batch.json()["decisions"]] == ["permit", "deny"]


def test_the_decision_schema_refuses_what_the_server_never_answers(
    spec: dict[str, Any],
) -> None:
    decision = _validator(spec, "Decision")

    assert not decision.is_valid({"decision_id": "x", "decision": "maybe", "reasons": [],
                                  "obligations": [], "policy_version": "v", "audit": None})


def test_a_real_error_matches_the_error_schema(
    client: TestClient, spec: dict[str, Any],
) -> None:
    refused = client.post("/v1/decisions", headers={"X-API-Key": API_KEY},
                          json={"subject": {"id": "alice"}})

    assert refused.status_code == 422
    _validator(spec, "Error").validate(refused.json())
    assert not _validator(spec, "Error").is_valid({"detail": "FastAPI's shape"})


def test_a_real_session_matches_the_session_schema(
    client: TestClient, signer: Signer, spec: dict[str, Any],
) -> None:
    signer.clock.advance(30)
    response = client.post("/v1/sessions", json={
        "user": "ivan", "password": "ivan-demo-pass", "otp": signer.code("ivan")})

    assert response.status_code == 201
    _validator(spec, "Session").validate(response.json())


def test_customer_ids_are_documented_with_the_organisations_pattern(
    spec: dict[str, Any],
) -> None:
    items = spec["components"]["schemas"]["Resource"]["properties"]["customer_ids"]["items"]

    assert items["pattern"] == "^(?:[A-Za-z0-9._:-]{1,128})$"
    assert jsonschema.Draft202012Validator(items).is_valid("C-1001")
    assert not jsonschema.Draft202012Validator(items).is_valid("C-1005\u200b")

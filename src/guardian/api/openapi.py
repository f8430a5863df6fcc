"""The OpenAPI document of the HTTP contract, in a shape generators and fuzzers can use.

FastAPI's own document is the starting point; this module then makes it say what the server
really does: every schema in ``components/schemas`` (pydantic's ``$defs`` of the decision
bodies hoisted there, their ``$ref`` rewritten), the decision and session answers as
:meth:`~guardian.policy.model.Decision.as_dict` and ``render_session`` produce them, one
``Error`` schema (``{"error": {"code", "message"}}``, see :mod:`guardian.api.errors`) for every
4xx and 503 an operation answers instead of FastAPI's ``HTTPValidationError``, and the security
schemes ``ApiKey`` (``X-API-Key``) and ``Bearer`` on each operation as it authenticates: the
credential headers leave the parameters for the operation's ``security``. An operation reading
neither header is public (``security: []``). ``install`` puts it in place as ``app.openapi``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from guardian.policy.vocabulary import AuthMethod, Outcome, ReasonCode

Json = dict[str, Any]
_SCHEMAS = "#/components/schemas/"
_JSON = "application/json"

SECURITY_SCHEMES: Json = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
               "description": "an application's API key (scope `decide` or `consent`)"},
    "Bearer": {"type": "http", "scheme": "bearer",
               "description": "a session token from `POST /v1/sessions`"},
}
_CREDENTIAL_HEADERS = {"authorization": "Bearer", "x-api-key": "ApiKey"}
OPTIONAL_CREDENTIALS = frozenset({("get", "/v1/health")})
"""Public operations that show more to a caller with credentials (and refuse wrong ones)."""

_STORE_FREE = frozenset({
    ("post", "/v1/decisions"), ("post", "/v1/decisions:batch"),  # a deny, never a 503
    ("get", "/v1/health"), ("get", "/v1/metrics"),
})
"""Operations that never answer 503: decisions deny ``audit_unavailable`` instead."""

EXTRA_ERRORS: dict[tuple[str, str], tuple[int, ...]] = {
    ("post", "/v1/sessions"): (401, 429),
    ("post", "/v1/sessions/webauthn"): (401, 429),
    ("post", "/v1/sessions/step-up"): (429,),
    ("post", "/v1/mfa/totp/activate"): (404, 429),
    ("delete", "/v1/keys/{key_id}"): (404,),
    ("delete", "/v1/grants/{grant_id}"): (404, 409),
    ("get", "/v1/reports/{report_id}"): (404,),
}
"""Statuses an operation answers beyond those its credentials and input imply."""

SUCCESS_SCHEMAS: dict[tuple[str, str], str] = {
    ("post", "/v1/decisions"): "Decision",
    ("post", "/v1/decisions:batch"): "DecisionBatch",
    ("post", "/v1/sessions"): "Session",
    ("post", "/v1/sessions/step-up"): "Session",
    ("post", "/v1/sessions/webauthn"): "Session",
}
SUCCESS_MEDIA: dict[tuple[str, str], tuple[str, ...]] = {
    ("get", "/v1/metrics"): ("text/plain",),
    ("get", "/v1/customers/{customer_id}/access-report"): (_JSON, "text/html"),
    ("get", "/v1/reports/{report_id}"): (
        _JSON, "text/html", "text/csv", "application/zip", "application/pdf"),
}
"""Operations answering other media types than JSON (by ``format`` or ``Accept``)."""

_DESCRIPTIONS = {
    401: "no credentials, or wrong ones (`invalid_api_key`, `invalid_token`, "
         "`invalid_credentials`)",
    403: "the credentials do not open this (`scope_required`, `role_required`, "
         "`fresh_mfa_required`, ...)",
    404: "nothing under this id",
    408: "the request's headers or body arrived too slowly (`request_timeout`)",
    409: "the state forbids it (e.g. `grant_already_revoked`)",
    413: "the body is over the configured size (`payload_too_large`)",
    422: "the input breaks the contract (`invalid_request`, `malformed_json`, "
         "`duplicate_key`, or a more precise code)",
    429: "too many failed attempts (`account_locked`)",
    503: "the store, the directory or the audit journal cannot be used",
}


def _ref(name: str) -> Json:
    return {"$ref": _SCHEMAS + name}


def _string_enum(values: list[str]) -> Json:
    return {"type": "string", "enum": values}


def contract_schemas() -> dict[str, Json]:
    """The answers the routes render by hand (not pydantic models), and the error body."""
    return {
        "Error": {
            "type": "object", "required": ["error"], "additionalProperties": False,
            "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "pattern": "^[a-z0-9_]+$"},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": _ref("ErrorDetail")},
                }}},
        },
        "ErrorDetail": {
            "type": "object", "required": ["loc", "message", "type"],
            "properties": {"loc": {"type": "array", "items": {"type": "string"}},
                           "message": {"type": "string"}, "type": {"type": "string"}},
        },
        "Reason": {
            "type": "object", "required": ["code", "message"], "additionalProperties": False,
            "properties": {"code": _string_enum([c.value for c in ReasonCode]),
                           "message": {"type": "string"},
                           "customer_ids": {"type": "array", "items": {"type": "string"}}},
        },
        "Obligation": {
            "type": "object", "required": ["type", "fields"], "additionalProperties": False,
            "properties": {"type": {"type": "string"},
                           "fields": {"type": "array", "items": {"type": "string"}}},
        },
        "AuditReceipt": {
            "type": "object", "required": ["seq", "hash"], "additionalProperties": False,
            "properties": {"seq": {"type": "integer", "minimum": 0},
                           "hash": {"type": "string"}},
        },
        "Decision": {
            "type": "object", "additionalProperties": False,
            "required": ["decision_id", "decision", "reasons", "obligations", "policy_version",
                         "audit"],
            "properties": {
                "decision_id": {"type": "string"},
                "decision": _string_enum([o.value for o in Outcome]),
                "reasons": {"type": "array", "minItems": 1, "items": _ref("Reason")},
                "obligations": {"type": "array", "items": _ref("Obligation")},
                "policy_version": {"type": "string"},
                "audit": {"anyOf": [_ref("AuditReceipt"), {"type": "null"}],
                          "description": "where the decision is in the journal"},
            },
        },
        "DecisionBatch": {
            "type": "object", "required": ["decisions"], "additionalProperties": False,
            "properties": {"decisions": {"type": "array", "items": _ref("Decision")}},
        },
        "Session": {
            "type": "object", "additionalProperties": False,
            "required": ["token", "user", "auth_time", "amr", "expires_at"],
            "properties": {
                "token": {"type": "string"}, "user": {"type": "string"},
                "auth_time": {"type": "string"},
                "amr": {"type": "array", "items": _string_enum([m.value for m in AuthMethod])},
                "expires_at": {"type": "string"},
            },
        },
    }


def _hoist_defs(node: Any, into: dict[str, Json]) -> Any:
    """``node`` with every ``$defs`` moved into ``into`` and ``#/$defs/X`` refs rewritten."""
    if isinstance(node, list):
        return [_hoist_defs(item, into) for item in node]
    if not isinstance(node, dict):
        return node
    out: Json = {}
    for key, value in node.items():
        if key == "$defs":
            for name, schema in value.items():
                hoisted = _hoist_defs(schema, into)
                if into.setdefault(name, hoisted) != hoisted:
                    raise ValueError(f"two different schemas are named {name!r}")
        elif key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
            out[key] = _SCHEMAS + value.removeprefix("#/$defs/")
        else:
            out[key] = _hoist_defs(value, into)
    return out


def _hoist_body(operation: Json, schemas: dict[str, Json]) -> None:
    """An inline, titled request body schema (``openapi_extra``) becomes a component."""
    content = operation.get("requestBody", {}).get("content", {}).get(_JSON)
    schema = content.get("schema") if content else None
    if not schema or "$ref" in schema or "title" not in schema:
        return
    name = schema["title"]
    if schemas.setdefault(name, schema) != schema:
        raise ValueError(f"two different schemas are named {name!r}")
    content["schema"] = _ref(name)


def _security(key: tuple[str, str], operation: Json) -> list[Json]:
    """The operation's security requirement, from the credential headers it reads (removed
    from its parameters: they are the security schemes')."""
    parameters = operation.get("parameters", [])
    schemes = [_CREDENTIAL_HEADERS[p["name"].lower()] for p in parameters
               if p.get("in") == "header" and p["name"].lower() in _CREDENTIAL_HEADERS]
    kept = [p for p in parameters
            if not (p.get("in") == "header" and p["name"].lower() in _CREDENTIAL_HEADERS)]
    if kept:
        operation["parameters"] = kept
    else:
        operation.pop("parameters", None)
    requirements: list[Json] = [{s: []} for s in sorted(set(schemes))]
    if key in OPTIONAL_CREDENTIALS:
        requirements.insert(0, {})
    return requirements


def _error_statuses(key: tuple[str, str], operation: Json, security: list[Json]) -> set[int]:
    statuses = set(EXTRA_ERRORS.get(key, ()))
    if any(security):
        statuses |= {401, 403}
    if "requestBody" in operation:
        statuses |= {408, 413, 422}
    if operation.get("parameters"):
        statuses.add(422)
    if key not in _STORE_FREE:
        statuses.add(503)
    return statuses


def _responses(key: tuple[str, str], operation: Json, security: list[Json]) -> None:
    responses: Json = operation.setdefault("responses", {})
    responses.pop("422", None)  # FastAPI's HTTPValidationError, even for credential headers
    for status in _error_statuses(key, operation, security):
        responses[str(status)] = {
            "description": _DESCRIPTIONS[status],
            "content": {_JSON: {"schema": _ref("Error")}}}
    success = next((s for s in responses if s.startswith("2")), "200")
    answer = responses.setdefault(success, {"description": "Successful Response"})
    if key in SUCCESS_SCHEMAS:
        answer["content"] = {_JSON: {"schema": _ref(SUCCESS_SCHEMAS[key])}}
    elif key in SUCCESS_MEDIA:
        answer["content"] = {media: {"schema": {} if media == _JSON else {"type": "string"}}
                             for media in SUCCESS_MEDIA[key]}


def _customer_ids_match(schemas: dict[str, Json], pattern: str) -> None:
    """The organisation's customer id pattern, which the body model checks at run time."""
    ids = schemas.get("Resource", {}).get("properties", {}).get("customer_ids", {})
    if isinstance(ids.get("items"), dict):
        ids["items"]["pattern"] = f"^(?:{pattern.removeprefix('^').removesuffix('$')})$"


def contract_document(app: FastAPI, customer_id_pattern: str | None = None) -> Json:
    """The OpenAPI document of ``app``, shaped as the module docstring says; with
    ``customer_id_pattern``, customer ids in decision bodies are documented as matching it."""
    doc = get_openapi(title=app.title, version=app.version, summary=app.summary,
                      openapi_version=app.openapi_version, routes=app.routes)
    components: Json = doc.setdefault("components", {})
    schemas: dict[str, Json] = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(contract_schemas())
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            key = (method, path)
            _hoist_body(operation, schemas)
            operation["security"] = _security(key, operation)
            _responses(key, operation, operation["security"])
    hoisted: dict[str, Json] = {}
    doc["paths"] = _hoist_defs(doc.get("paths", {}), hoisted)
    named = {name: _hoist_defs(schema, hoisted) for name, schema in schemas.items()}
    for name, schema in hoisted.items():
        if named.setdefault(name, schema) != schema:
            raise ValueError(f"two different schemas are named {name!r}")
    if customer_id_pattern is not None:
        _customer_ids_match(named, customer_id_pattern)
    components["schemas"] = dict(sorted(named.items()))
    components["securitySchemes"] = SECURITY_SCHEMES
    return doc


def install(app: FastAPI, customer_id_pattern: str | None = None) -> None:
    """Serve :func:`contract_document` as ``app.openapi()`` (built once, on first use)."""

    def openapi() -> Json:
        if app.openapi_schema is None:
            app.openapi_schema = contract_document(app, customer_id_pattern)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""The one table from Guardian errors to HTTP statuses: every client mistake is a 4xx, every
service that is down a 5xx, and only the errors listed here as the server's own fall through
to 500; every answer is ``{"error": {"code", "message"}}``, a 500 without the exception's text."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request

from guardian import errors as e
from guardian.api.errors import (
    on_guardian_error,
    on_http_error,
    on_unexpected,
    status_of,
    validation_refusal,
)

CLIENT_FAMILIES = {e.InvalidRequest: 422, e.PolicyError: 422, e.NotFound: 404,
                   e.Conflict: 409, e.AuthenticationError: 401, e.PermissionDenied: 403}
SERVER_OWN = {e.GuardianError, e.ConfigurationError, e.ServerUnreachable, e.ServerRefused,
              e.DirectoryWriteFailed}
"""Errors with no row of their own (500): configuration, the CLI's client-side errors, and the
clock's directory remediation (never raised by a request)."""


def _every_error() -> list[type[e.GuardianError]]:
    found, todo = [], [e.GuardianError]
    while todo:
        cls = todo.pop()
        if cls.__module__ == "guardian.errors":  # the documented tree, not private ones
            found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _status(cls: type[e.GuardianError]) -> int:
    return status_of(cls.__new__(cls))


def test_every_client_mistake_is_its_family_s_4xx() -> None:
    for cls in _every_error():
        family = next((f for f in cls.__mro__ if f in CLIENT_FAMILIES), None)
        if family is not None and cls is not e.AccountLocked:
            assert _status(cls) == CLIENT_FAMILIES[family], cls


def test_only_the_server_s_own_errors_are_500() -> None:
    assert {cls for cls in _every_error() if _status(cls) == 500} == SERVER_OWN


def test_services_that_are_down_are_503_and_a_refused_delivery_502() -> None:
    for cls in (e.StoreUnavailable, e.DirectoryUnavailable, e.AuditUnavailable,
                e.AuditIndexUnavailable, e.WitnessUnavailable, e.ChainBroken,
                e.ReportRendererUnavailable):
        assert _status(cls) == 503, cls
    assert _status(e.DeliveryFailed) == 502


def test_the_documented_statuses() -> None:
    assert _status(e.NotYourItem) == 403 and _status(e.StageClosed) == 409
    assert _status(e.JustificationRequired) == 422 and _status(e.InvalidCredentials) == 401
    assert _status(e.AccountLocked) == 429


def _request(path: str = "/v1/grants") -> Request:
    return Request({"type": "http", "method": "POST", "path": path, "headers": [],
                    "query_string": b""})


def test_a_guardian_error_answers_its_code_and_message() -> None:
    response = asyncio.run(on_guardian_error(_request(), e.StageClosed("stage 2 closed")))

    assert response.status_code == 409
    assert orjson.loads(response.body) == {
        "error": {"code": "stage_closed", "message": "stage 2 closed"}}


def test_an_unexpected_error_is_500_without_its_text() -> None:
    response = asyncio.run(on_unexpected(_request(), RuntimeError("password=hunter2")))

    assert response.status_code == 500
    assert orjson.loads(response.body) == {
        "error": {"code": "internal_error", "message": "internal error"}}


def test_an_http_error_gets_a_code_and_keeps_its_headers() -> None:
    refused = HTTPException(405, "Method Not Allowed", headers={"Allow": "GET"})
    response = asyncio.run(on_http_error(_request(), refused))

    assert response.status_code == 405 and response.headers["allow"] == "GET"
    assert orjson.loads(response.body)["error"]["code"] == "method_not_allowed"
    odd = asyncio.run(on_http_error(_request(), HTTPException(418, "teapot")))
    assert orjson.loads(odd.body)["error"]["code"] == "http_error"


@pytest.mark.parametrize(("types", "code"), [
    (["missing"], "invalid_request"),
    (["missing", "invalid_client_ip"], "invalid_client_ip"),
    (["invalid_client_ip", "invalid_customer_id"], "invalid_customer_id"),
    (["bulk_scope_required", "json_invalid"], "malformed_json"),
])
def test_a_refused_body_is_422_with_the_most_precise_code(types: list[str], code: str) -> None:
    raw = [{"loc": ("body", "x", i), "msg": f"bad {i}", "type": t} for i, t in enumerate(types)]

    response = validation_refusal("/v1/decisions", raw)
    body = orjson.loads(response.body)["error"]

    assert response.status_code == 422 and body["code"] == code
    assert body["message"] == "body.x.0: bad 0"
    assert [d["type"] for d in body["details"]] == types


def test_details_are_capped_and_an_empty_refusal_still_says_something() -> None:
    raw = [{"loc": ("body",), "msg": "m", "type": "missing"}] * 50

    assert len(orjson.loads(validation_refusal("/p", raw).body)["error"]["details"]) == 20
    assert orjson.loads(validation_refusal("/p", []).body)["error"]["message"] == (
        "body: invalid request")

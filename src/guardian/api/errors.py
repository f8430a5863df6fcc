"""The one table from Guardian errors to HTTP statuses, and the JSON error body.

Every error leaves as ``{"error": {"code": ..., "message": ...}}``; bad input is a 4xx with a
machine-readable code, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from guardian import errors as e
from guardian.logging import get_logger

log = get_logger("guardian.api")

STATUS: dict[type[e.GuardianError], int] = {
    e.InvalidRequest: 422,
    e.PolicyError: 422,
    e.NotFound: 404,
    e.Conflict: 409,
    e.AuthenticationError: 401,
    e.AccountLocked: 429,
    e.PermissionDenied: 403,
    e.StoreUnavailable: 503,
    e.DirectoryUnavailable: 503,
    e.AuditError: 503,
    e.ReportRendererUnavailable: 503,
    e.DeliveryFailed: 502,
}

_HTTP_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 408: "request_timeout", 409: "conflict",
    413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid_request",
    429: "too_many_requests",
}

INPUT_CODES = {
    "json_invalid": "malformed_json",
    "duplicate_key": "duplicate_key",
    "invalid_customer_id": "invalid_customer_id",
    "customers_required": "customers_required",
    "bulk_scope_required": "bulk_scope_required",
    "invalid_client_ip": "invalid_client_ip",
}
"""422 codes more precise than ``invalid_request``, by pydantic error type: the first listed
that a request breaks is its code. Anything else the schema refuses is ``invalid_request``."""


def status_of(exc: e.GuardianError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(code: str, message: str, **extra: Any) -> bytes:
    """The JSON body of every error answer: ``{"error": {"code", "message", ...}}``."""
    return orjson.dumps({"error": {"code": code, "message": message, **extra}})


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    return Response(error_body(code, message, **extra), status_code=status,
                    media_type="application/json", headers=headers)


async def on_guardian_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, e.GuardianError)
    status = status_of(exc)
    log.info("request refused", path=request.url.path, code=exc.code, status=status)
    return error_response(status, exc.code, exc.message)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return validation_response(request, exc.errors())


def validation_response(request: Request, raw_errors: Any) -> Response:
    return validation_refusal(request.url.path, raw_errors)


def validation_refusal(path: str, raw_errors: Any) -> Response:
    """The 422 answer (and its log line) for pydantic's errors of a body sent to ``path``."""
    details = [
        {"loc": [str(p) for p in err.get("loc", ())], "message": str(err.get("msg", "")),
         "type": str(err.get("type", ""))}
        for err in raw_errors
    ]
    types = {d["type"] for d in details}
    code = next((c for t, c in INPUT_CODES.items() if t in types), "invalid_request")
    # Refused input is never decided, but operators see it (without any secret in it).
    log.warning("invalid request", path=path, code=code,
                errors=[f"{'.'.join(d['loc'])}: {d['message']}" for d in details][:10])
    first = details[0] if details else {"loc": [], "message": "invalid request"}
    message = f"{'.'.join(first['loc']) or 'body'}: {first['message']}"
    return error_response(422, code, message, details=details[:20])


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unexpected error", path=request.url.path, error=type(exc).__name__)
    return error_response(500, "internal_error", "internal error")

"""Operator logging with structlog: console in development, JSON lines in production.

This stream is for operators. The audit trail is a separate, hash-chained journal for
auditors; nothing here is part of it, and no secret (password, code, key, token) is logged.
Callers never pass one; as a second line of defence, :func:`redact` replaces the value of any
field whose name says it holds a secret.

Every line logged while a request is served carries its ``request_id`` (bound by
:func:`bind_request` for the request's context, threads it hands work to included).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from contextvars import Token
from typing import Any, TextIO

import orjson
import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}
_SECRET_WORDS = ("password", "passwd", "secret", "token", "otp", "totp", "api_key", "apikey",
                 "authorization", "recovery_code", "invitation", "credential", "cookie")
REDACTED = "[redacted]"
_debug = False


def debug_enabled() -> bool:
    """Whether ``debug`` lines are rendered: lets the hot path skip building them at all."""
    return _debug


def _dumps(event: Any, **kw: Any) -> str:
    return orjson.dumps(event, default=kw.get("default")).decode()


def redact(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: the value of a field named like a secret is never rendered."""
    for key in event:
        lowered = key.lower()
        if any(word in lowered for word in _SECRET_WORDS):
            event[key] = REDACTED
    return event


def configure_logging(
    fmt: str = "console", level: str = "info", *, stream: TextIO | None = None
) -> None:
    """Configure structlog once for the process; ``stream`` defaults to standard error."""
    global _debug
    _debug = level == "debug"
    out = stream if stream is not None else sys.stderr
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(serializer=_dumps) if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            redact,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=stream is None,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]


def bind_request(request_id: str) -> Mapping[str, Token[Any]]:
    """Bind ``request_id`` to every line logged in this context; undo with
    :func:`unbind_request`."""
    return structlog.contextvars.bind_contextvars(request_id=request_id)


def unbind_request(tokens: Mapping[str, Token[Any]]) -> None:
    structlog.contextvars.reset_contextvars(**tokens)

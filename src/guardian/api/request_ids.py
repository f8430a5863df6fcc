"""Request ids: every request gets one, every log line it causes carries it, the answer echoes it.

The id is the caller's ``X-Request-ID`` when it is sane (1–64 characters of letters, digits and
``.-_:``, so a log line can never be forged or bloated through it), else a new ULID. It is bound
to the structlog context for the request (worker threads the request hands work to inherit it),
returned in the ``X-Request-ID`` response header, and one ``request`` line per request records
method, path, status and duration, at ``debug`` (a line per request at ``info`` was measurable on
the decision path; refusals and errors have lines of their own). A pure ASGI middleware: no body
buffering, no extra task.
"""

from __future__ import annotations

import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guardian.ids import new_ulid
from guardian.logging import bind_request, debug_enabled, get_logger, unbind_request

log = get_logger("guardian.http")
_SANE = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
HEADER = b"x-request-id"


def request_id_of(raw: bytes | None) -> str:
    """The caller's id if sane, else a fresh one."""
    if raw is not None:
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            text = ""
        if _SANE.fullmatch(text):
            return text
    return new_ulid(time.time())


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = next((v for k, v in scope["headers"] if k == HEADER), None)
        request_id = request_id_of(raw)
        encoded = request_id.encode("ascii")
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k != HEADER]
                message = {**message, "headers": [*headers, (HEADER, encoded)]}
            await send(message)

        tokens = bind_request(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if debug_enabled():
                log.debug("request", method=scope["method"], path=scope["path"],
                          status=status,
                          duration_ms=round((time.perf_counter() - started) * 1000, 3))
            unbind_request(tokens)

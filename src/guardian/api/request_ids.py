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


class RequestLog:
    """One request's id (:func:`request_id_of`) bound to every line logged while it is
    answered, and its ``request`` line at ``debug`` when it ends. Set :attr:`status` once it is
    known::

        with RequestLog("POST", path, raw_id) as entry:
            ...
            entry.status = 200
    """

    __slots__ = ("_started", "_tokens", "id", "method", "path", "status")

    def __init__(self, method: str, path: str, raw_id: bytes | None, status: int = 500) -> None:
        self.method = method
        self.path = path
        self.id = request_id_of(raw_id)
        self.status = status

    def __enter__(self) -> RequestLog:
        self._tokens = bind_request(self.id)
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if debug_enabled():
            log.debug("request", method=self.method, path=self.path, status=self.status,
                      duration_ms=round((time.perf_counter() - self._started) * 1000, 3))
        unbind_request(self._tokens)


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = next((v for k, v in scope["headers"] if k == HEADER), None)
        with RequestLog(scope["method"], scope["path"], raw) as entry:
            encoded = entry.id.encode("ascii")

            async def send_with_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    entry.status = message["status"]
                    headers = [(k, v) for k, v in message.get("headers", ()) if k != HEADER]
                    message = {**message, "headers": [*headers, (HEADER, encoded)]}
                await send(message)

            await self.app(scope, receive, send_with_id)

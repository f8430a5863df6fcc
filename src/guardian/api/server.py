"""The HTTP server's connection protocol: uvicorn's httptools protocol with deadlines.

uvicorn times out an idle keep-alive connection but never a request that is being sent: a
client that opens a connection and sends half a request line, or the headers and half the body,
holds a connection (and its memory) for as long as it likes, and a few hundred of them starve
the server. Here every request must have its line and headers within ``head_timeout_s`` of its
first byte (of the connection opening, for the first request) and its body within
``body_timeout_s`` of its headers; past a deadline the server answers ``408 request_timeout``
(unless a response is already under way) and closes the connection. The deadline is one timer
per connection, re-armed only when it fires (at most every ``min(head, body)`` seconds); the
parser's callbacks just move the deadline, so it costs nothing per byte and almost nothing per
request (a timer armed and cancelled per request was 3-5 % of the event loop under load).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from guardian.logging import get_logger

log = get_logger("guardian.api")


def _timeout_response(part: str) -> bytes:
    body = orjson.dumps({"error": {"code": "request_timeout",
                                   "message": f"the request {part} did not arrive in time"}})
    return (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
            + body)


class DeadlineHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` timing out slow request heads and bodies (see module)."""

    head_timeout_s: float = 10.0
    body_timeout_s: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._due: float | None = None  # loop time by which self._part must have arrived
        self._part = "head"
        self._tick = min(self.head_timeout_s, self.body_timeout_s)

    @classmethod
    def with_timeouts(cls, head_s: float, body_s: float) -> type[DeadlineHttpToolsProtocol]:
        """A subclass with these deadlines (uvicorn builds the protocol from a class)."""
        return type("GuardianHttpProtocol", (cls,),
                    {"head_timeout_s": head_s, "body_timeout_s": body_s})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.head_timeout_s, "head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._due = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._due is None:
            self._arm(self.head_timeout_s, "head")

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_timeout_s, "body")

    def on_message_complete(self) -> None:
        self._due = None
        super().on_message_complete()

    def _arm(self, seconds: float, part: str) -> None:
        """Set the deadline of ``part``. One timer per connection, not one per deadline: it
        fires at most ``_tick`` (the shorter timeout) after it was armed, so never after a
        deadline set meanwhile (each is at least ``_tick`` away), and then either times the
        request out, re-arms itself, or stops (no request under way)."""
        self._due = self.loop.time() + seconds
        self._part = part
        if self._timer is None:
            self._timer = self.loop.call_later(min(seconds, self._tick), self._fire)

    def _fire(self) -> None:
        self._timer = None
        due = self._due
        if due is None:
            return
        now = self.loop.time()
        if now >= due:
            self._due = None
            self._expired(self._part)
            return
        self._timer = self.loop.call_at(min(due, now + self._tick), self._fire)

    def _expired(self, part: str) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        cycle = self.cycle
        responding = cycle is not None and cycle.response_started and not cycle.response_complete
        answered = part == "body" and cycle is not None and cycle.response_complete
        if not responding and not answered:
            transport.write(_timeout_response(part))
        log.info("request timed out", part=part, client=self.client and self.client[0])
        transport.close()

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

The two decision endpoints are answered by the protocol itself when the request is the plain
kind every application sends: ``POST /v1/decisions`` or ``/v1/decisions:batch``, HTTP/1.1, a
``Content-Length`` within the body limit (and at most 64 KiB, uvicorn's read-buffer mark), no
``Transfer-Encoding``, no ``Expect``, nothing pipelined before it. The body is handed to
:meth:`guardian.api.decision_route.DecisionRoute.answer_body` (the same checks, codes and
answers as through ASGI) and the answer written to the transport, with uvicorn's default
headers. Everything else, including any such request that is not plain, goes through uvicorn
and the ASGI application as before. Measured (docs/benchmarks.md): uvicorn's request cycle,
its ASGI messages and the middlewares around the app cost more CPU per single decision than
deciding and journalling it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import orjson
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from guardian.api.errors import error_body
from guardian.api.request_ids import HEADER, RequestLog
from guardian.logging import get_logger

if TYPE_CHECKING:
    from guardian.api.decision_route import DecisionRoute

log = get_logger("guardian.api")
_OWN_PATHS = (b"/v1/decisions", b"/v1/decisions:batch")


def _timeout_response(part: str) -> bytes:
    body = orjson.dumps({"error": {"code": "request_timeout",
                                   "message": f"the request {part} did not arrive in time"}})
    return (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
            + body)


class _NoEvent:
    """What uvicorn's protocol sets on a cycle's ``message_event``: nobody waits here."""

    __slots__ = ()

    def set(self) -> None:
        return None


_NO_EVENT = _NoEvent()


class _OwnCycle:
    """A decision request the protocol answers itself: the attributes uvicorn's protocol reads
    and writes on its ``cycle`` (the body as it arrives, the response's state)."""

    __slots__ = ("api_key", "body", "disconnected", "keep_alive", "message_event", "more_body",
                 "path", "raw_id", "response_complete", "response_started")

    def __init__(self, path: str, api_key: bytes | None, raw_id: bytes | None,
                 keep_alive: bool) -> None:
        self.path = path
        self.api_key = api_key
        self.raw_id = raw_id
        self.keep_alive = keep_alive
        self.body = bytearray()
        self.more_body = True
        self.response_started = False
        self.response_complete = False
        self.disconnected = False
        self.message_event = _NO_EVENT


class DeadlineHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` timing out slow request heads and bodies, answering plain
    decision requests itself (see module)."""

    head_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    decision_route: DecisionRoute | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._due: float | None = None  # loop time by which self._part must have arrived
        self._part = "head"
        self._tick = min(self.head_timeout_s, self.body_timeout_s)

    @classmethod
    def with_timeouts(cls, head_s: float, body_s: float,
                      route: DecisionRoute | None = None) -> type[DeadlineHttpToolsProtocol]:
        """A subclass with these deadlines, answering plain decision requests with ``route``
        when given (uvicorn builds the protocol from a class)."""
        return type("GuardianHttpProtocol", (cls,), {
            "head_timeout_s": head_s, "body_timeout_s": body_s, "decision_route": route})

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
        own = self._own_cycle()
        if own is None:
            super().on_headers_complete()
        else:
            self.cycle = own  # type: ignore[assignment]
        self._arm(self.body_timeout_s, "body")

    def on_message_complete(self) -> None:
        self._due = None
        cycle = self.cycle
        if isinstance(cycle, _OwnCycle):
            cycle.more_body = False
            task = self.loop.create_task(self._answer_own(cycle))
            task.add_done_callback(self.tasks.discard)
            self.tasks.add(task)
            return
        super().on_message_complete()

    def _own_cycle(self) -> _OwnCycle | None:
        """A cycle of our own for a plain decision request (see module), else ``None``."""
        route = self.decision_route
        if route is None or self.url not in _OWN_PATHS:
            return None
        parser = self.parser
        if (parser.get_method() != b"POST" or parser.get_http_version() != "1.1"
                or parser.should_upgrade() or self.limit_concurrency is not None
                or self.root_path or (self.cycle is not None and not self.cycle.response_complete)):
            return None
        length = api_key = raw_id = None
        for name, value in self.headers:
            if name == b"content-length":
                if length is not None:
                    return None
                length = value
            elif name == b"x-api-key":
                api_key = value if api_key is None else api_key
            elif name == HEADER:
                raw_id = value if raw_id is None else raw_id
            elif name in (b"transfer-encoding", b"expect"):
                return None
        if (length is None or not length.isdigit()
                or int(length) > min(route.max_bytes, HIGH_WATER_LIMIT)):
            return None
        return _OwnCycle(self.url.decode("ascii"), api_key, raw_id, parser.should_keep_alive())

    async def _answer_own(self, cycle: _OwnCycle) -> None:
        route = self.decision_route
        assert route is not None
        with RequestLog("POST", cycle.path, cycle.raw_id) as entry:
            request_id = entry.id.encode("ascii")
            try:
                entry.status, payload = await route.answer_body(
                    cycle.path, bytes(cycle.body), cycle.api_key)
            except Exception as exc:  # noqa: BLE001 - answer_body never raises; fail closed
                log.error("unexpected error", path=cycle.path, error=type(exc).__name__)
                payload = error_body("internal_error", "internal error")
        status = entry.status
        transport = self.transport
        if cycle.disconnected or transport.is_closing():
            return
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"content-type: application/json\r\ncontent-length: %d\r\n"
                    b"x-request-id: %s\r\n" % (len(payload), request_id))
        if not cycle.keep_alive:
            head.append(b"connection: close\r\n")
        head += [b"\r\n", payload]
        transport.write(b"".join(head))
        cycle.response_started = cycle.response_complete = True
        if not cycle.keep_alive:
            transport.close()
        self.on_response_complete()

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

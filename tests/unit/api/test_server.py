"""The connection protocol on a real uvicorn server (loopback): plain decision requests are
answered by the protocol itself, byte for byte what the ASGI route answers (statuses, codes,
bodies but for fresh ids, headers); requests that are not plain (chunked, over the limit,
pipelined behind another) go through ASGI; pipelined requests are answered in order;
``Connection: close`` is honoured; slow heads still time out."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import uvicorn

from guardian.api import create_app
from guardian.api.decision_route import DecisionRoute
from guardian.api.server import DeadlineHttpToolsProtocol
from guardian.bootstrap import Guardian
from support import API_KEY, Signer, decision_body


class _Served:
    def __init__(self, port: int, own: list[str]) -> None:
        self.port = port
        self.own = own  # paths answered by the protocol's own path


@pytest.fixture
def served(guardian: Guardian, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Served]:
    own: list[str] = []
    real = DecisionRoute.answer_body

    async def counting(self: DecisionRoute, path: str, body: bytes,
                       key: bytes | None) -> tuple[int, bytes]:
        own.append(path)
        return await real(self, path, body, key)

    monkeypatch.setattr(DecisionRoute, "answer_body", counting)
    app = create_app(guardian)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", access_log=False,
                            http=DeadlineHttpToolsProtocol.with_timeouts(
                                0.5, 5.0, app.decision_route))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    yield _Served(sock.getsockname()[1], own)
    server.should_exit = True
    thread.join(10)


def _request(path: str, body: bytes, *, chunked: bool = False,
             extra: tuple[str, ...] = ()) -> bytes:
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"X-API-Key: {API_KEY}",
            "Content-Type: application/json", *extra]
    if chunked:
        head.append("Transfer-Encoding: chunked")
        payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
    else:
        head.append(f"Content-Length: {len(body)}")
        payload = body
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


def _responses(port: int, data: bytes, count: int) -> list[tuple[int, dict[str, str], Any]]:
    """Send ``data`` on one connection and read ``count`` responses."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(data)
        buffer = b""
        out: list[tuple[int, dict[str, str], Any]] = []
        while len(out) < count:
            while b"\r\n\r\n" not in buffer:
                chunk = conn.recv(65536)
                assert chunk, f"connection closed after {len(out)} responses"
                buffer += chunk
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
            if headers.get("transfer-encoding") == "chunked":
                body = b""
                while True:
                    while b"\r\n" not in buffer:
                        buffer += conn.recv(65536)
                    size_line, _, buffer = buffer.partition(b"\r\n")
                    size = int(size_line, 16)
                    while len(buffer) < size + 2:
                        buffer += conn.recv(65536)
                    body, buffer = body + buffer[:size], buffer[size + 2:]
                    if size == 0:
                        break
            else:
                length = int(headers.get("content-length", "0"))
                while len(buffer) < length:
                    chunk = conn.recv(65536)
                    assert chunk
                    buffer += chunk
                body, buffer = buffer[:length], buffer[length:]
            out.append((int(lines[0].split()[1]), headers, orjson.loads(body) if body else None))
        return out


def _comparable(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: _comparable(v) for k, v in body.items() if k not in ("decision_id", "audit")}
    if isinstance(body, list):
        return [_comparable(v) for v in body]
    return body


def test_plain_decision_requests_are_answered_by_the_protocol_as_asgi_answers_them(
    served: _Served, signer: Signer
) -> None:
    good = decision_body("alice", signer.token("alice"))
    cases = [
        ("/v1/decisions", orjson.dumps(good)),
        ("/v1/decisions", orjson.dumps(decision_body("mallory", None))),
        ("/v1/decisions:batch", orjson.dumps({"requests": [good, good]})),
        ("/v1/decisions", b"{"),
        ("/v1/decisions", b'{"action": "read", "action": "read"}'),
        ("/v1/decisions:batch", b"[]"),
        ("/v1/decisions", b""),
    ]
    for path, body in cases:
        del served.own[:]
        [(own_status, own_headers, own_body)] = _responses(served.port, _request(path, body), 1)
        assert served.own == [path]
        del served.own[:]
        [(status, headers, asgi_body)] = _responses(
            served.port, _request(path, body, chunked=True), 1)
        assert served.own == []  # chunked: through uvicorn's cycle and the ASGI route
        assert (own_status, _comparable(own_body)) == (status, _comparable(asgi_body)), path
        assert own_headers["content-type"] == headers["content-type"] == "application/json"
        assert len(own_headers["x-request-id"]) == 26 and "date" in own_headers
    assert _responses(served.port, _request(*cases[0][:2]), 1)[0][2]["decision"] == "permit"


def test_a_missing_key_is_refused_and_a_callers_request_id_echoed(served: _Served) -> None:
    data = _request("/v1/decisions", orjson.dumps(decision_body("alice", None)),
                    extra=("X-Request-ID: my-request-0001",)).replace(
        f"X-API-Key: {API_KEY}\r\n".encode(), b"")
    [(status, headers, body)] = _responses(served.port, data, 1)
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    assert headers["x-request-id"] == "my-request-0001"


def test_pipelined_requests_are_answered_in_order(served: _Served, signer: Signer) -> None:
    token = signer.token("alice")
    bodies = [orjson.dumps(decision_body("alice", token, purpose=p))
              for p in ("customer-care", "marketing", "customer-care")]
    data = b"".join(_request("/v1/decisions", b, extra=(f"X-Request-ID: pipelined-{i:04d}",))
                    for i, b in enumerate(bodies))
    data += b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
    answers = _responses(served.port, data, 4)
    assert [h["x-request-id"] for _, h, _ in answers[:3]] == [
        f"pipelined-{i:04d}" for i in range(3)]
    assert [b["decision"] for _, _, b in answers[:3]] == ["permit", "deny", "permit"]
    assert answers[3][0] == 200 and answers[3][2]["status"] in ("ok", "degraded")


def test_connection_close_is_honoured(served: _Served) -> None:
    data = _request("/v1/decisions", b"{", extra=("Connection: close",))
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as conn:
        conn.sendall(data)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 422") and b"connection: close" in received.lower()
    assert served.own == ["/v1/decisions"]


def test_a_body_over_the_limit_goes_through_asgi_and_is_refused(served: _Served) -> None:
    [(status, _, body)] = _responses(served.port, _request("/v1/decisions", b" " * 2_000_000), 1)
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    assert served.own == []


def test_a_slow_body_still_times_out(served: _Served) -> None:
    data = _request("/v1/decisions", b'{"subject": {}}')
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as conn:
        conn.sendall(data[:-5])  # the head and most of the body; the rest never comes
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 408")
    assert served.own == []

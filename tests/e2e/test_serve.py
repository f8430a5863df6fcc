"""`guardian serve` as a real process on loopback: what a new user does after `make run`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from guardian.identity.totp import code_at
from support import API_KEY, ROOT, decision_body, demo_secret

pytestmark = pytest.mark.e2e
GUARDIAN = str(Path(sys.executable).with_name("guardian"))
METRICS_TOKEN = "e2e-metrics-token-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "GUARDIAN_DATA_DIR": str(tmp_path_factory.mktemp("var")),
           "GUARDIAN_METRICS_TOKEN": METRICS_TOKEN, "GUARDIAN_REQUEST_HEAD_TIMEOUT_S": "1",
           "GUARDIAN_REQUEST_BODY_TIMEOUT_S": "1"}
    proc = subprocess.Popen([GUARDIAN, "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            proc.kill()
            out = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"guardian serve did not answer: {out}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_readme_walkthrough_permits_alice(server: str) -> None:
    session = httpx.post(f"{server}/v1/sessions", json={
        "user": "alice", "password": "alice-demo-pass",
        "otp": code_at(demo_secret("alice"), time.time())})
    assert session.status_code == 201, session.text
    token = session.json()["token"]
    decision = httpx.post(f"{server}/v1/decisions", json=decision_body("alice", token),
                          headers={"X-API-Key": API_KEY})
    assert decision.status_code == 200
    assert decision.json()["decision"] == "permit"
    denied = httpx.post(f"{server}/v1/decisions", json=decision_body("mallory", None),
                        headers={"X-API-Key": API_KEY})
    assert [r["code"] for r in denied.json()["reasons"]] == ["not_authorised",
                                                             "authentication_required"]


def test_health_reports_policy_and_journal(server: str) -> None:
    assert httpx.get(f"{server}/v1/health").json() == {"status": "ok"}
    health = httpx.get(f"{server}/v1/health",
                       headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).json()
    assert health["status"] == "ok"
    assert health["policy_version"].startswith("sha256:")
    assert health["demo"] is True


def test_demo_mode_refuses_a_non_loopback_address(tmp_path: Path) -> None:
    result = subprocess.run(
        [GUARDIAN, "serve", "--host", "0.0.0.0", "--port", str(_free_port())],  # noqa: S104
        cwd=ROOT, env={**os.environ, "GUARDIAN_DATA_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "loopback" in result.stderr


def test_a_clean_stop_signs_the_journal_tail(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "GUARDIAN_DATA_DIR": str(tmp_path / "var")}
    proc = subprocess.Popen([GUARDIAN, "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                response = httpx.post(f"{url}/v1/decisions", json=decision_body("mallory", None),
                                      headers={"X-API-Key": API_KEY})
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("guardian serve did not answer")
        assert response.json()["decision"] == "deny"
    finally:
        proc.terminate()  # SIGTERM, as a service manager stops it
        assert proc.wait(timeout=30) is not None
    verify = subprocess.run([GUARDIAN, "audit", "verify", "--trust-demo-key"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "1 checkpoint signature(s) verified" in verify.stdout
    assert "not signed yet" not in verify.stdout


def _connect(server: str) -> socket.socket:
    host, port = server.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _read_until_closed(sock: socket.socket, limit_s: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started = time.monotonic()
    sock.settimeout(limit_s)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except TimeoutError:
        pytest.fail(f"the server kept the connection open over {limit_s} s; got {data!r}")
    return data, time.monotonic() - started


@pytest.mark.parametrize("sent", [
    b"",
    b"POST /v1/deci",
    b"POST /v1/decisions HTTP/1.1\r\nHost: x\r\nX-API-Key: demo-app-key\r\n",
], ids=["nothing", "half a request line", "half the headers"])
def test_a_request_head_that_does_not_arrive_is_timed_out(server: str, sent: bytes) -> None:
    with _connect(server) as sock:
        sock.sendall(sent)
        data, took = _read_until_closed(sock, 5)
    assert data.startswith(b"HTTP/1.1 408"), data
    assert b'"request_timeout"' in data
    assert took < 4


def test_a_head_sent_a_byte_at_a_time_is_timed_out_from_its_first_byte(server: str) -> None:
    head = b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 100
    with _connect(server) as sock:
        started = time.monotonic()
        try:
            for byte in head:
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
        except OSError:
            pass  # closed under our feet: what we wanted
        data, _ = _read_until_closed(sock, 5)
    assert time.monotonic() - started < 4
    assert data.startswith(b"HTTP/1.1 408"), data


def test_a_body_that_does_not_arrive_is_timed_out(server: str) -> None:
    head = (b"POST /v1/decisions HTTP/1.1\r\nHost: x\r\nX-API-Key: demo-app-key\r\n"
            b"Content-Type: application/json\r\nContent-Length: 400\r\n\r\n")
    with _connect(server) as sock:
        sock.sendall(head + b'{"subject": {"id": "alice"}, ')
        data, took = _read_until_closed(sock, 5)
    assert data.startswith(b"HTTP/1.1 408"), data
    assert took < 4


def test_fifty_half_sent_requests_are_all_dropped_and_the_server_keeps_answering(
    server: str
) -> None:
    socks = [_connect(server) for _ in range(50)]
    try:
        for i, sock in enumerate(socks):
            sock.sendall(b"POST /v1/decisions HTTP/1.1\r\nHost: x\r\n" if i % 2 else
                         b"POST /v1/decisions HTTP/1.1\r\nContent-Length: 50\r\n\r\n{")
        assert httpx.get(f"{server}/v1/health", timeout=2).json() == {"status": "ok"}
        started = time.monotonic()
        for sock in socks:
            data, _ = _read_until_closed(sock, 6)
            assert data.startswith(b"HTTP/1.1 408"), data
        assert time.monotonic() - started < 5
    finally:
        for sock in socks:
            sock.close()


def test_a_prompt_request_on_a_kept_alive_connection_is_not_timed_out(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        for _ in range(3):
            assert client.get("/v1/health").status_code == 200
            time.sleep(1.3)  # longer than the head deadline, shorter than keep-alive (5 s)

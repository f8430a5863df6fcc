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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "GUARDIAN_DATA_DIR": str(tmp_path_factory.mktemp("var"))}
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
    health = httpx.get(f"{server}/v1/health").json()
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

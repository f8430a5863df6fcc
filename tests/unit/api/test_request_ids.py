"""Operator logs in JSON mode: a request id on every line of a request (the caller's if sane,
echoed back), the decision id on decision lines, and no secret — API key, password, TOTP
code, session token — in any line of sign-ins, step-ups and decisions."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient

from guardian.logging import REDACTED, configure_logging, get_logger
from support import API_KEY, Signer, decision_body

H = {"X-API-Key": API_KEY}


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("json", "debug", stream=stream)
    yield stream
    structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_no_secret_of_a_sign_in_a_step_up_or_a_decision_reaches_the_logs(
    logs: io.StringIO, client: TestClient, signer: Signer
) -> None:
    secrets = [API_KEY, "alice-demo-pass", "mallory-demo-pass"]
    code = signer.code("alice")
    secrets.append(code)
    signed_in = client.post("/v1/sessions", json={
        "user": "alice", "password": "alice-demo-pass", "otp": code})
    assert signed_in.status_code == 201
    token = signed_in.json()["token"]
    secrets += [token, *token.split(".")[1:]]  # the token and its payload and signature
    # A password typed into the user field is never logged either.
    assert client.post("/v1/sessions", json={
        "user": "mallory-demo-pass", "password": "mallory-demo-pass",
        "otp": "123456"}).status_code == 401
    signer.clock.advance(30)
    step_code = signer.code("alice")
    secrets.append(step_code)
    assert client.post("/v1/sessions/step-up", json={"otp": step_code},
                       headers={"Authorization": f"Bearer {token}"}).status_code == 201
    for body in (decision_body("alice", token), decision_body("mallory", token)):
        assert client.post("/v1/decisions", json=body, headers=H).status_code == 200
    assert client.post("/v1/decisions:batch", headers=H, json={
        "requests": [decision_body("alice", token)]}).status_code == 200
    assert client.post("/v1/decisions", headers={"X-API-Key": "wrong-key-1234"},
                       json=decision_body("alice", token)).status_code == 401

    text = logs.getvalue()
    events = lines(logs)
    assert {"signed in", "sign-in refused", "stepped up", "decision", "request"} <= {
        e["event"] for e in events}
    for secret in [*secrets, "wrong-key-1234", "123456"]:
        assert secret not in text, f"a secret reached the logs: {secret[:12]}…"


def test_every_line_of_a_request_carries_its_id_and_decisions_their_id(
    logs: io.StringIO, client: TestClient, signer: Signer
) -> None:
    token = signer.token("alice")
    logs.truncate(0)
    logs.seek(0)
    response = client.post("/v1/decisions", json=decision_body("mallory", token),
                           headers={**H, "X-Request-ID": "ticket-42.a_b:c"})
    assert response.headers["x-request-id"] == "ticket-42.a_b:c"
    events = lines(logs)
    assert events and all(e.get("request_id") == "ticket-42.a_b:c" for e in events)
    decision = next(e for e in events if e["event"] == "decision")
    assert decision["decision_id"] == response.json()["decision_id"]
    assert decision["decision"] == "deny" and decision["reasons"][0] == "not_authorised"
    assert decision["level"] == "info" and "mallory" not in json.dumps(decision)
    request = next(e for e in events if e["event"] == "request")
    assert request["status"] == 200 and request["path"] == "/v1/decisions"
    assert request["duration_ms"] > 0


@pytest.mark.parametrize("sent", [None, "x" * 65, "has space", "semi;colon", "é"])
def test_an_insane_or_missing_request_id_is_replaced_by_a_fresh_one(
    logs: io.StringIO, client: TestClient, sent: str | None
) -> None:
    headers = {"X-Request-ID": sent.encode()} if sent is not None else {}
    first = client.get("/v1/health", headers=headers).headers["x-request-id"]
    second = client.get("/v1/health", headers=headers).headers["x-request-id"]
    assert first != second and len(first) == 26 and first.isalnum()
    assert {e["request_id"] for e in lines(logs) if e["event"] == "request"} == {first, second}


def test_refused_requests_carry_an_id_too(logs: io.StringIO, client: TestClient) -> None:
    response = client.post("/v1/decisions", content=b"{", headers={
        **H, "Content-Type": "application/json", "X-Request-ID": "r-1"})
    assert response.status_code == 422 and response.headers["x-request-id"] == "r-1"
    assert [e["request_id"] for e in lines(logs)] == ["r-1", "r-1"]  # invalid request, request


def test_a_field_named_like_a_secret_is_redacted(logs: io.StringIO) -> None:
    get_logger("test").info("oops", password="hunter2", session_token="v1.x.y", user="alice")
    (event,) = lines(logs)
    assert event["password"] == event["session_token"] == REDACTED
    assert event["user"] == "alice"

"""POST /v1/sessions and /v1/sessions/step-up: factors, replay, lockout, audit of every attempt."""

from __future__ import annotations

from fastapi.testclient import TestClient

from guardian.bootstrap import Guardian
from guardian.clock import ManualClock
from support import Signer


def _sign_in(client: TestClient, uid: str, password: str, otp: str) -> tuple[int, dict[str, object]]:
    response = client.post("/v1/sessions", json={"user": uid, "password": password, "otp": otp})
    return response.status_code, response.json()


def test_sign_in_returns_a_token_with_auth_time_and_amr(client: TestClient, signer: Signer) -> None:
    status, body = _sign_in(client, "alice", "alice-demo-pass", signer.code("alice"))
    assert status == 201
    assert body["user"] == "alice"
    assert body["amr"] == ["pwd", "otp"]
    assert str(body["token"]).startswith("v1.")
    assert str(body["auth_time"]).endswith("Z") and str(body["expires_at"]) > str(body["auth_time"])


def test_wrong_password_and_wrong_code_look_the_same(client: TestClient, signer: Signer) -> None:
    bad_password = _sign_in(client, "alice", "nope", signer.code("alice"))
    bad_code = _sign_in(client, "alice", "alice-demo-pass", "000000")
    unknown_user = _sign_in(client, "oscar", "oscar-demo-pass", "000000")
    assert bad_password[0] == bad_code[0] == unknown_user[0] == 401
    assert bad_password[1] == bad_code[1] == unknown_user[1]


def test_a_code_is_accepted_once(client: TestClient, signer: Signer) -> None:
    code = signer.code("bob")
    assert _sign_in(client, "bob", "bob-demo-pass", code)[0] == 201
    status, body = _sign_in(client, "bob", "bob-demo-pass", code)
    assert status == 401
    assert body["error"]["code"] == "invalid_credentials"  # type: ignore[index]


def test_repeated_failures_lock_the_account_for_a_while(
    client: TestClient, signer: Signer, clock: ManualClock
) -> None:
    for _ in range(5):
        assert _sign_in(client, "carol", "wrong", "000000")[0] == 401
    status, body = _sign_in(client, "carol", "carol-demo-pass", signer.code("carol"))
    assert status == 429
    assert body["error"]["code"] == "account_locked"  # type: ignore[index]
    clock.advance(61)
    assert _sign_in(client, "carol", "carol-demo-pass", signer.code("carol"))[0] == 201


def test_a_disabled_account_cannot_sign_in(client: TestClient, signer: Signer) -> None:
    assert _sign_in(client, "heidi", "heidi-demo-pass", signer.code("heidi"))[0] == 401


def test_step_up_needs_a_valid_bearer_token(client: TestClient, signer: Signer) -> None:
    missing = client.post("/v1/sessions/step-up", json={"otp": signer.code("alice")})
    forged = client.post("/v1/sessions/step-up", json={"otp": signer.code("alice")},
                         headers={"Authorization": "Bearer v1.e30.AAAA"})
    assert missing.status_code == forged.status_code == 401
    assert forged.json()["error"]["code"] == "invalid_token"


def test_step_up_refuses_a_replayed_code(
    client: TestClient, signer: Signer, clock: ManualClock
) -> None:
    token = signer.token("alice")
    clock.advance(30)
    code = signer.code("alice")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post("/v1/sessions/step-up", json={"otp": code}, headers=auth).status_code == 201
    again = client.post("/v1/sessions/step-up", json={"otp": code}, headers=auth)
    assert again.status_code == 401


def test_every_sign_in_attempt_is_an_audit_event(
    client: TestClient, signer: Signer, guardian: Guardian
) -> None:
    _sign_in(client, "dave", "wrong", "000000")
    _sign_in(client, "dave", "dave-demo-pass", signer.code("dave"))
    lines = [line for line in guardian.settings.journal_file.read_text().splitlines()
             if not line.startswith('{"seal":')]  # each group commit's seal
    assert '"session.failed"' in lines[0] and '"dave"' in lines[0]
    assert '"session.created"' in lines[1]
    assert "dave-demo-pass" not in "".join(lines)

"""POST /v1/sessions and /v1/sessions/step-up: factors, replay, lockout, audit of every attempt."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from guardian.api import create_app
from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from guardian.identity.totp import code_at
from support import Signer, demo_secret, demo_settings


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
    unknown_user = _sign_in(client, "zoe", "zoe-demo-pass", "000000")
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


def _from(guardian: Guardian, host: str) -> TestClient:
    return TestClient(create_app(guardian), raise_server_exceptions=False, client=(host, 40000))


def test_an_attacker_locking_ivan_from_one_address_does_not_stop_ivan_elsewhere(
    tmp_path: Path, clock: ManualClock
) -> None:
    # Finding 6: 5 wrong passwords from anywhere locked the security officer for a minute,
    # doubling up to an hour.
    guardian = build(demo_settings(tmp_path, lockout_user_delay_max_s=0.0), clock=clock, prepare=True)
    try:
        attacker, ivan = _from(guardian, "203.0.113.66"), _from(guardian, "198.51.100.7")
        statuses = {_sign_in(attacker, "ivan", "guess", "000000")[0] for _ in range(100)}
        spoofed = attacker.post("/v1/sessions", headers={"X-Forwarded-For": "198.51.100.7"},
                                json={"user": "ivan", "password": "ivan-demo-pass",
                                      "otp": code_at(demo_secret("ivan"), clock.now())})
        own = _sign_in(ivan, "ivan", "ivan-demo-pass", code_at(demo_secret("ivan"), clock.now()))
    finally:
        guardian.close()

    assert statuses == {401, 429}
    assert spoofed.status_code == 429  # X-Forwarded-For is not believed from anyone
    assert own[0] == 201


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_source(
    tmp_path: Path, clock: ManualClock
) -> None:
    guardian = build(demo_settings(tmp_path, trusted_proxies="127.0.0.0/8"), clock=clock, prepare=True)
    try:
        proxy = _from(guardian, "127.0.0.1")
        for _ in range(5):
            proxy.post("/v1/sessions", headers={"X-Forwarded-For": "203.0.113.66"},
                       json={"user": "bob", "password": "guess", "otp": "000000"})
        body = {"user": "bob", "password": "bob-demo-pass",
                "otp": code_at(demo_secret("bob"), clock.now())}
        attacker = proxy.post("/v1/sessions", json=body,
                              headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.66"})
        elsewhere = proxy.post("/v1/sessions", json=body,
                               headers={"X-Forwarded-For": "198.51.100.7"})
    finally:
        guardian.close()

    assert attacker.status_code == 429  # the last hop before the proxy is the source
    assert elsewhere.status_code == 201


def test_an_unknown_user_id_is_journalled_only_as_a_keyed_digest(
    client: TestClient, guardian: Guardian
) -> None:
    # Finding 15: a password typed into the user field landed in the trail.
    typed = "ivan-secret-typed-in-the-wrong-box"
    status, body = _sign_in(client, typed, "whatever", "000000")

    journal = guardian.settings.journal_file.read_text()
    assert (status, body["error"]["code"]) == (401, "invalid_credentials")  # type: ignore[index]
    assert typed not in journal
    assert f'"{guardian.sessions.subject(typed)}"' in journal
    assert re.search(r'"id":"unknown:[0-9a-f]{16}"', journal)

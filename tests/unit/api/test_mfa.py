"""Enrolling TOTP over HTTP: a security officer's invitation, the password-only session that
the password and that invitation open for someone with no second factor, the pending seed
activated by its first code, recovery codes, and replacing a factor."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from guardian.identity.totp import code_at
from mfa_support import directory_with_newcomer
from support import API_KEY, Signer, decision_body, demo_settings


@pytest.fixture
def guardian(tmp_path: Path, clock: ManualClock) -> Iterator[Guardian]:
    settings = demo_settings(tmp_path, directory_file=directory_with_newcomer(tmp_path))
    g = build(settings, clock=clock, prepare=True)
    yield g
    g.close()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _invite(client: TestClient, uid: str = "otto") -> str:
    guardian: Guardian = client.app.state.guardian  # type: ignore[attr-defined]
    return guardian.mfa.invitations.invite("ivan", uid).code


def _password_session(client: TestClient, uid: str = "otto") -> str:
    response = client.post("/v1/sessions", json={"user": uid, "password": f"{uid}-demo-pass",
                                                 "invitation": _invite(client, uid)})
    assert response.status_code == 201, response.text
    assert response.json()["amr"] == ["pwd"]
    token: str = response.json()["token"]
    return token


def _secret(uri: str) -> str:
    match = re.search(r"secret=([A-Z2-7]+)", uri)
    assert match is not None
    return match.group(1)


def _enrol(client: TestClient, clock: ManualClock, token: str) -> tuple[str, list[str]]:
    started = client.post("/v1/mfa/totp", headers=_bearer(token))
    assert started.status_code == 201, started.text
    secret = _secret(started.json()["uri"])
    activated = client.post("/v1/mfa/totp/activate", headers=_bearer(token),
                            json={"otp": code_at(secret, clock.now())})
    assert activated.status_code == 200, activated.text
    return secret, started.json()["recovery_codes"]


def _step_up_and_create_a_key(client: TestClient, clock: ManualClock, uid: str,
                              secret: str) -> int:
    clock.advance(30)
    signed_in = client.post("/v1/sessions", json={
        "user": uid, "password": f"{uid}-demo-pass", "otp": code_at(secret, clock.now())})
    assert signed_in.status_code == 201, signed_in.text
    clock.advance(30)
    stepped = client.post("/v1/sessions/step-up", headers=_bearer(signed_in.json()["token"]),
                          json={"otp": code_at(secret, clock.now())})
    assert stepped.status_code == 201, stepped.text
    created = client.post("/v1/keys", headers=_bearer(stepped.json()["token"]),
                          json={"name": f"made-by-{uid}"})
    return int(created.status_code)


def test_the_password_alone_no_longer_opens_a_session_to_enrol_with(
    client: TestClient,
) -> None:
    # Finding 7: olga's password alone opened a session, enrolled a TOTP of the attacker's,
    # stepped up and created an API key as olga, a security officer.
    alone = client.post("/v1/sessions", json={"user": "olga", "password": "olga-demo-pass"})
    assert (alone.status_code, alone.json()["error"]["code"]) == (401, "invalid_credentials")
    forged = client.post("/v1/sessions", json={"user": "olga", "password": "olga-demo-pass",
                                               "invitation": "abcd-efgh-jkmn-pqrs-tuvw"})
    assert forged.json() == alone.json()
    assert client.post("/v1/mfa/totp").status_code == 401


def test_an_officers_invitation_lets_the_path_through_once_not_twice(
    client: TestClient, clock: ManualClock, signer: Signer, guardian: Guardian
) -> None:
    made = client.post("/v1/mfa/invitations", headers=_bearer(signer.token("ivan")),
                       json={"user": "olga"})
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    code = made.json()["code"]
    assert re.fullmatch(r"([a-z2-9]{4}-){4}[a-z2-9]{4}", code)
    body = {"user": "olga", "password": "olga-demo-pass", "invitation": code}

    first = client.post("/v1/sessions", json=body)
    assert first.status_code == 201 and first.json()["amr"] == ["pwd"]
    secret, _codes = _enrol(client, clock, first.json()["token"])
    assert _step_up_and_create_a_key(client, clock, "olga", secret) == 201

    again = client.post("/v1/sessions", json=body)
    assert (again.status_code, again.json()["error"]["code"]) == (401, "invalid_credentials")
    journal = guardian.settings.journal_file.read_text()
    assert '"mfa.invitation_created"' in journal and '"mfa.invitation_used"' in journal
    assert code not in journal and code.replace("-", "") not in journal


def test_only_a_security_officer_with_a_fresh_factor_invites(
    client: TestClient, signer: Signer, clock: ManualClock
) -> None:
    alice = client.post("/v1/mfa/invitations", headers=_bearer(signer.token("alice")),
                        json={"user": "olga"})
    ivan = signer.token("ivan")
    clock.advance(901)
    stale = client.post("/v1/mfa/invitations", headers=_bearer(ivan), json={"user": "olga"})
    enrolled = client.post("/v1/mfa/invitations", headers=_bearer(signer.token("ivan")),
                           json={"user": "alice"})
    unknown = client.post("/v1/mfa/invitations", headers=_bearer(signer.token("ivan")),
                          json={"user": "nobody"})

    assert (alice.status_code, alice.json()["error"]["code"]) == (403, "role_required")
    assert (stale.status_code, stale.json()["error"]["code"]) == (403, "fresh_mfa_required")
    assert (enrolled.status_code, enrolled.json()["error"]["code"]) == (422, "already_enrolled")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_user")


def test_an_invitation_expires(client: TestClient, clock: ManualClock, guardian: Guardian) -> None:
    code = _invite(client)
    clock.advance(guardian.settings.mfa_invitation_ttl_s)

    late = client.post("/v1/sessions", json={"user": "otto", "password": "otto-demo-pass",
                                             "invitation": code})

    assert late.status_code == 401


def test_a_password_only_session_is_refused_by_decisions(client: TestClient) -> None:
    token = _password_session(client)

    decision = client.post("/v1/decisions", headers={"X-API-Key": API_KEY},
                           json=decision_body("otto", token)).json()

    assert decision["decision"] == "deny"
    assert [r["code"] for r in decision["reasons"]] == ["mfa_required"]


def test_starting_shows_uri_qr_code_and_recovery_codes_once_and_leaves_it_pending(
    client: TestClient,
) -> None:
    token = _password_session(client)

    response = client.post("/v1/mfa/totp", headers=_bearer(token))

    body = response.json()
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    assert body["state"] == "pending"
    assert body["uri"].startswith("otpauth://totp/Guardian:otto?secret=")
    assert body["qr_svg"].startswith("data:image/svg+xml")
    assert len(body["recovery_codes"]) == 10
    assert _password_session(client)  # still no active factor: the password alone still works


def test_the_first_valid_code_activates_and_then_the_code_is_required(
    client: TestClient, clock: ManualClock
) -> None:
    token = _password_session(client)
    started = client.post("/v1/mfa/totp", headers=_bearer(token)).json()
    secret = _secret(started["uri"])

    wrong = client.post("/v1/mfa/totp/activate", headers=_bearer(token), json={"otp": "12345x"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (422, "code_mismatch")
    right = client.post("/v1/mfa/totp/activate", headers=_bearer(token),
                        json={"otp": code_at(secret, clock.now())})
    assert right.json() == {"user": "otto", "state": "active", "factor": "totp"}

    refused = client.post("/v1/sessions", json={"user": "otto", "password": "otto-demo-pass"})
    assert refused.status_code == 401
    clock.advance(30)
    signed_in = client.post("/v1/sessions", json={
        "user": "otto", "password": "otto-demo-pass", "otp": code_at(secret, clock.now())})
    assert signed_in.json()["amr"] == ["pwd", "otp"]
    decision = client.post("/v1/decisions", headers={"X-API-Key": API_KEY},
                           json=decision_body("otto", signed_in.json()["token"])).json()
    assert decision["decision"] == "permit"


def test_a_recovery_code_signs_in_once_and_the_session_says_so(
    client: TestClient, clock: ManualClock
) -> None:
    _seed, codes = _enrol(client, clock, _password_session(client))
    body = {"user": "otto", "password": "otto-demo-pass", "recovery_code": codes[3]}

    first = client.post("/v1/sessions", json=body)
    again = client.post("/v1/sessions", json=body)

    assert first.status_code == 201 and first.json()["amr"] == ["pwd", "rcc"]
    assert (again.status_code, again.json()["error"]["code"]) == (401, "invalid_credentials")


def test_activating_with_nothing_pending_is_not_found(client: TestClient) -> None:
    token = _password_session(client)

    response = client.post("/v1/mfa/totp/activate", headers=_bearer(token),
                           json={"otp": "123456"})

    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_enrolling_needs_a_session(client: TestClient) -> None:
    response = client.post("/v1/mfa/totp")

    assert (response.status_code, response.json()["error"]["code"]) == (401, "invalid_token")


def test_replacing_a_factor_needs_a_fresh_second_factor_and_then_the_new_one_rules(
    client: TestClient, signer: Signer, clock: ManualClock
) -> None:
    token = signer.token("alice")  # alice's seed comes with the demo directory
    clock.advance(901)
    stale = client.post("/v1/mfa/totp", headers=_bearer(token))
    assert (stale.status_code, stale.json()["error"]["code"]) == (403, "fresh_mfa_required")

    fresh = client.post("/v1/sessions/step-up", headers=_bearer(token),
                        json={"otp": signer.code("alice")}).json()["token"]
    secret, _codes = _enrol(client, clock, fresh)

    clock.advance(30)
    old = client.post("/v1/sessions", json={"user": "alice", "password": "alice-demo-pass",
                                            "otp": signer.code("alice")})
    new = client.post("/v1/sessions", json={"user": "alice", "password": "alice-demo-pass",
                                            "otp": code_at(secret, clock.now())})
    assert (old.status_code, new.status_code) == (401, 201)


def test_enrolment_is_audited_without_any_secret(
    client: TestClient, clock: ManualClock, guardian: Guardian
) -> None:
    secret, codes = _enrol(client, clock, _password_session(client))

    journal = guardian.settings.journal_file.read_text()
    assert '"mfa.enrolment_started"' in journal and '"mfa.factor_activated"' in journal
    assert secret not in journal
    assert not any(code in journal for code in codes)

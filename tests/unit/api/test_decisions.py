"""POST /v1/decisions and :batch over HTTP, on the demo organisation and embedded defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guardian.api import create_app
from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from guardian.identity.totp import code_at
from guardian.identity.vocabulary import AuthMethod
from guardian.journal.verification import verify_journal
from support import API_KEY, Signer, decision_body, demo_secret, demo_settings

H = {"X-API-Key": API_KEY}
MFA = (AuthMethod.PASSWORD, AuthMethod.OTP)


def test_alice_reading_a_contact_for_customer_care_is_permitted(
    client: TestClient, signer: Signer
) -> None:
    response = client.post("/v1/decisions", json=decision_body("alice", signer.token("alice")),
                           headers=H)
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "permit"
    assert body["reasons"][0]["code"] == "permitted"
    assert body["obligations"] == []
    assert body["policy_version"].startswith("sha256:")
    assert body["audit"]["seq"] >= 1 and len(body["audit"]["hash"]) == 64
    assert len(body["decision_id"]) == 26


@pytest.mark.parametrize(("uid", "kwargs", "code"), [
    ("mallory", {}, "not_authorised"),
    ("heidi", {}, "account_disabled"),
    ("grace", {}, "contract_clause_missing"),
    ("bob", {}, "purpose_not_allowed"),
    ("dave", {"purpose": "marketing", "customers": ["C-1009"]}, "consent_missing"),
    ("erin", {"purpose": "legal-requisition"}, "justification_required"),
    ("ivan", {}, "not_authorised"),
    ("judy", {}, "not_authorised"),
])
def test_each_refused_demo_user_gets_the_right_reason(
    client: TestClient, guardian: Guardian, clock: ManualClock, uid: str,
    kwargs: dict[str, object], code: str,
) -> None:
    # Heidi cannot sign in (disabled): a session minted directly shows the pipeline refuses her.
    token, _ = guardian.signer.issue(uid, MFA, clock.now(), clock.now(), 600)
    body = decision_body(uid, token, **kwargs)  # type: ignore[arg-type]
    response = client.post("/v1/decisions", json=body, headers=H)
    assert response.status_code == 200
    assert response.json()["decision"] == "deny"
    assert response.json()["reasons"][0]["code"] == code


def test_unknown_subject_and_missing_session(client: TestClient) -> None:
    unknown = client.post("/v1/decisions", json=decision_body("zoe", None), headers=H).json()
    assert [r["code"] for r in unknown["reasons"]] == ["unknown_subject"]
    nosession = client.post("/v1/decisions", json=decision_body("alice", None), headers=H).json()
    assert [r["code"] for r in nosession["reasons"]] == ["authentication_required"]


def test_billing_read_is_masked_export_is_not(client: TestClient, signer: Signer) -> None:
    token = signer.token("bob")
    read = client.post("/v1/decisions", headers=H, json=decision_body(
        "bob", token, resource="crm/economic-financial", purpose="billing")).json()
    export = client.post("/v1/decisions", headers=H, json=decision_body(
        "bob", token, action="export", resource="crm/economic-financial", purpose="billing")).json()
    assert read["obligations"] == [{"type": "mask", "fields": ["iban"]}]
    assert export["decision"] == "permit" and export["obligations"] == []


def test_stale_mfa_is_cured_by_step_up(
    client: TestClient, signer: Signer, clock: ManualClock
) -> None:
    token = signer.token("carol")
    clock.advance(16 * 60)
    body = decision_body("carol", token, resource="crm/location", purpose="fraud-prevention")
    stale = client.post("/v1/decisions", headers=H, json=body).json()
    assert [r["code"] for r in stale["reasons"]] == ["mfa_stale"]
    stepped = client.post("/v1/sessions/step-up", json={"otp": signer.code("carol")},
                          headers={"Authorization": f"Bearer {token}"})
    assert stepped.status_code == 201
    body["subject"] = {"id": "carol", "session_token": stepped.json()["token"]}
    assert client.post("/v1/decisions", headers=H, json=body).json()["decision"] == "permit"


def test_batch_answers_in_order(client: TestClient, signer: Signer) -> None:
    token = signer.token("alice")
    requests = [decision_body("alice", token), decision_body("mallory", None),
                decision_body("alice", token, action="delete")]
    response = client.post("/v1/decisions:batch", json={"requests": requests}, headers=H)
    assert response.status_code == 200
    decisions = response.json()["decisions"]
    assert [d["decision"] for d in decisions] == ["permit", "deny", "deny"]
    seqs = [d["audit"]["seq"] for d in decisions]
    assert seqs == list(range(seqs[0], seqs[0] + 3))


def test_every_decision_lands_in_a_verifiable_journal(
    client: TestClient, signer: Signer, guardian: Guardian
) -> None:
    token = signer.token("alice")
    for uid in ("alice", "mallory", "heidi"):
        client.post("/v1/decisions", json=decision_body(uid, token), headers=H)
    report = verify_journal(guardian.settings.journal_file, None)
    assert report.ok
    # one sign-in event plus three decisions
    assert report.events == 4


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}])
def test_no_decision_without_a_valid_application_key(
    client: TestClient, headers: dict[str, str], guardian: Guardian
) -> None:
    before = guardian.journal.last_seq  # type: ignore[attr-defined]
    response = client.post("/v1/decisions", json=decision_body("alice", None), headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert guardian.journal.last_seq == before  # type: ignore[attr-defined]


def test_an_unwritable_journal_denies_with_audit_unavailable(
    tmp_path: Path, clock: ManualClock
) -> None:
    guardian = build(demo_settings(tmp_path, journal_path=Path("/dev/full")), clock=clock, prepare=True)
    with TestClient(create_app(guardian)) as client:
        token, _ = guardian.signer.issue("alice", MFA, clock.now(), clock.now(), 60)
        response = client.post("/v1/decisions", json=decision_body("alice", token), headers=H)
        sign_in = client.post("/v1/sessions", json={
            "user": "alice", "password": "alice-demo-pass",
            "otp": code_at(demo_secret("alice"), clock.now())})
    assert sign_in.status_code == 503
    assert sign_in.json()["error"]["code"] == "audit_unavailable"
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "deny"
    assert body["reasons"][-1]["code"] == "audit_unavailable"
    assert body["audit"] is None

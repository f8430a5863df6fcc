"""Who may call what: application keys kept in the store, temporary grants, and the
``require_roles`` gate (directory roles, a fresh second factor) — every refusal over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from guardian.api import create_app
from guardian.api.deps import AuditorDep
from guardian.bootstrap import Guardian
from guardian.clock import ManualClock
from guardian.identity.vocabulary import AuthMethod
from support import API_KEY, Signer, decision_body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _events(guardian: Guardian, action: str) -> list[dict[str, Any]]:
    lines = guardian.settings.journal_file.read_text().splitlines()
    events = [orjson.loads(line) for line in lines if not line.startswith('{"seal":')]
    return [e for e in events if e["event"]["action"] == action]


@pytest.fixture
def officer(signer: Signer) -> dict[str, str]:
    return _bearer(signer.token("ivan"))


# -- the gate ---------------------------------------------------------------------------


def test_admin_endpoints_need_a_bearer_session(client: TestClient) -> None:
    response = client.get("/v1/keys")

    assert (response.status_code, response.json()["error"]["code"]) == (401, "invalid_token")


def test_someone_without_the_role_is_refused(client: TestClient, signer: Signer) -> None:
    response = client.get("/v1/keys", headers=_bearer(signer.token("judy")))

    assert (response.status_code, response.json()["error"]["code"]) == (403, "role_required")


def test_an_officer_whose_second_factor_is_stale_must_step_up(
    client: TestClient, officer: dict[str, str], clock: ManualClock, signer: Signer
) -> None:
    clock.advance(901)
    stale = client.get("/v1/keys", headers=officer)
    fresh = client.post("/v1/sessions/step-up", headers=officer,
                        json={"otp": signer.code("ivan")}).json()["token"]

    assert (stale.status_code, stale.json()["error"]["code"]) == (403, "fresh_mfa_required")
    assert client.get("/v1/keys", headers=_bearer(fresh)).status_code == 200


def test_a_password_only_session_of_an_officer_is_refused(
    client: TestClient, guardian: Guardian, clock: ManualClock
) -> None:
    token, _ = guardian.signer.issue("ivan", (AuthMethod.PASSWORD,), clock.now(), clock.now(), 60)

    response = client.get("/v1/keys", headers=_bearer(token))

    assert (response.status_code, response.json()["error"]["code"]) == (403, "fresh_mfa_required")


def test_require_roles_admits_auditors_to_audit_endpoints_and_no_one_else(
    guardian: Guardian, signer: Signer
) -> None:
    app = create_app(guardian)

    @app.get("/test/audit-only")
    async def audit_only(caller: AuditorDep) -> dict[str, str]:
        return {"uid": caller.uid}

    with TestClient(app, raise_server_exceptions=False) as c:
        signer.client = c
        judy = c.get("/test/audit-only", headers=_bearer(signer.token("judy")))
        ivan = c.get("/test/audit-only", headers=_bearer(signer.token("ivan")))

    assert (judy.status_code, judy.json()) == (200, {"uid": "judy"})
    assert (ivan.status_code, ivan.json()["error"]["code"]) == (403, "role_required")


# -- API keys ---------------------------------------------------------------------------


def test_an_officer_creates_a_key_an_application_uses_until_it_is_revoked(
    client: TestClient, officer: dict[str, str], signer: Signer, guardian: Guardian
) -> None:
    created = client.post("/v1/keys", headers=officer, json={"name": "crm-web"})
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    key, key_id = created.json()["key"], created.json()["id"]
    body = decision_body("alice", signer.token("alice"))

    allowed = client.post("/v1/decisions", headers={"X-API-Key": key}, json=body)
    listed = client.get("/v1/keys", headers=officer).json()["keys"]
    revoked = client.delete(f"/v1/keys/{key_id}", headers=officer)
    refused = client.post("/v1/decisions", headers={"X-API-Key": key}, json=body)
    demo = client.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=body)

    assert allowed.json()["decision"] == "permit"
    assert [(k["id"], k["name"], k["created_by"], k["active"]) for k in listed
            if k["source"] == "store"] == [(key_id, "crm-web", "ivan", True)]
    assert all("key" not in k for k in listed) and key not in str(listed)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "invalid_api_key")
    assert demo.json()["decision"] == "permit"  # the applications file keeps working
    assert len(_events(guardian, "governance.api_key_created")) == 1
    assert len(_events(guardian, "governance.api_key_revoked")) == 1
    assert key not in guardian.settings.journal_file.read_text()


def test_revoking_an_unknown_key_is_not_found(client: TestClient, officer: dict[str, str]
                                              ) -> None:
    response = client.delete("/v1/keys/01NOPE", headers=officer)

    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_only_officers_manage_keys(client: TestClient, signer: Signer) -> None:
    alice = _bearer(signer.token("alice"))

    assert client.post("/v1/keys", headers=alice, json={"name": "x"}).status_code == 403
    assert client.delete("/v1/keys/anything", headers=alice).status_code == 403


# -- grants -----------------------------------------------------------------------------


def _grant(client: TestClient, headers: dict[str, str], clock: ManualClock,
           **overrides: Any) -> Any:
    body = {"uid": "bob", "role": "fraud-analyst", "expires_at": _iso(clock.now() + 3600),
            "justification": "INC-4711 fraud wave"}
    body.update(overrides)
    return client.post("/v1/grants", headers=headers, json=body)


def test_a_grant_gives_its_role_at_once_and_is_listed_and_audited(
    client: TestClient, officer: dict[str, str], signer: Signer, clock: ManualClock,
    guardian: Guardian,
) -> None:
    bob = signer.token("bob")
    body = decision_body("bob", bob, resource="crm/location", purpose="fraud-prevention")
    before = client.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=body).json()

    created = _grant(client, officer, clock)
    after = client.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=body).json()
    listed = client.get("/v1/grants", headers=officer, params={"uid": "bob"}).json()["grants"]

    assert before["decision"] == "deny"
    assert created.status_code == 201, created.text
    assert created.json()["granted_by"] == "ivan" and created.json()["role"] == "fraud-analyst"
    assert after["decision"] == "permit"
    assert [g["id"] for g in listed] == [created.json()["id"]]
    assert client.get("/v1/grants", headers=officer, params={"uid": "carol"}).json() == {
        "grants": []}
    [event] = _events(guardian, "governance.grant_created")
    assert event["user"]["id"] == "ivan"
    assert event["guardian"]["grantee"] == "bob" and event["guardian"]["role"] == "fraud-analyst"


@pytest.mark.parametrize(("overrides", "status", "code"), [
    ({"uid": "ivan"}, 403, "self_grant_forbidden"),
    ({"role": "janitor"}, 422, "unknown_role"),
    ({"uid": "zoe"}, 422, "unknown_user"),
    ({"expires_at": "+10 days"}, 422, "grant_too_long"),
    ({"expires_at": "-1 seconds"}, 422, "invalid_request"),
    ({"starts_at": "+2 hours"}, 422, "invalid_request"),
])
def test_each_refused_grant_has_its_code_and_is_audited(
    client: TestClient, officer: dict[str, str], clock: ManualClock, guardian: Guardian,
    overrides: dict[str, str], status: int, code: str,
) -> None:
    offsets = {"+10 days": 10 * 86400, "-1 seconds": -1, "+2 hours": 7200}
    given = {k: _iso(clock.now() + offsets[v]) if v in offsets else v
             for k, v in overrides.items()}

    response = _grant(client, officer, clock, **given)

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert guardian.store.list_grants() == []
    [event] = _events(guardian, "governance.grant_refused")
    assert event["event"]["outcome"] == "failure" and event["guardian"]["reason"] == code


def test_only_security_officers_grant(
    client: TestClient, signer: Signer, clock: ManualClock, guardian: Guardian
) -> None:
    for uid in ("judy", "bob"):
        response = _grant(client, _bearer(signer.token(uid)), clock, uid="carol")
        assert (response.status_code, response.json()["error"]["code"]) == (403, "role_required")
    assert guardian.store.list_grants() == []


def test_a_grant_without_a_time_zone_or_justification_is_invalid(
    client: TestClient, officer: dict[str, str], clock: ManualClock
) -> None:
    naive = _grant(client, officer, clock,
                   expires_at=datetime.fromtimestamp(clock.now() + 60).isoformat())
    unjustified = client.post("/v1/grants", headers=officer, json={
        "uid": "bob", "role": "billing", "expires_at": _iso(clock.now() + 60)})

    assert (naive.status_code, unjustified.status_code) == (422, 422)

"""``/v1/grants`` beyond the basics (tests/unit/api/test_deps.py): only roles that give
data access are granted, no grant starts in the past, and ``DELETE /v1/grants/{id}`` ends a
grant at once — journalled, stored, and out of the very next decision.

Wired on in-memory stores (``guardian.bootstrap.embedded``): no SQLite store, no Alembic; the
same HTTP behaviour is asserted as on the SQL store the other API tests use."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from guardian.bootstrap import Guardian, build
from guardian.bootstrap.embedded import memory_adapters
from guardian.clock import ManualClock
from support import API_KEY, Signer, decision_body, demo_settings


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _events(guardian: Guardian, action: str) -> list[dict[str, Any]]:
    lines = [line for line in guardian.settings.journal_file.read_text().splitlines()
             if not line.startswith('{"seal":')]  # a group commit's seal is not an event
    return [e for e in map(orjson.loads, lines) if e["event"]["action"] == action]


def _grant(client: TestClient, headers: dict[str, str], clock: ManualClock,
           **overrides: Any) -> Any:
    body = {"uid": "bob", "role": "fraud-analyst", "expires_at": _iso(clock.now() + 3600),
            "justification": "INC-4711 fraud wave"}
    body.update(overrides)
    return client.post("/v1/grants", headers=headers, json=body)


def _revoke(client: TestClient, headers: dict[str, str], grant_id: str,
            reason: str | None = "fraud wave over") -> Any:
    body = {} if reason is None else {"reason": reason}
    return client.request("DELETE", f"/v1/grants/{grant_id}", headers=headers, json=body)


@pytest.fixture
def guardian(tmp_path: Path, clock: ManualClock) -> Iterator[Guardian]:
    """The shared fixture's Guardian, its stores in memory instead of SQLite."""
    settings = demo_settings(tmp_path)
    g = build(settings, clock=clock, prepare=True, adapters=memory_adapters(settings, clock))
    yield g
    g.close()
    assert not settings.store.default_file.exists()  # nothing reached for the SQL store


@pytest.fixture
def officer(signer: Signer) -> dict[str, str]:
    return _bearer(signer.token("ivan"))


# -- what can be granted ----------------------------------------------------------------


@pytest.mark.parametrize("role", ["security-officer", "auditor", "reviewer", "dpo"])
def test_an_administrative_role_is_not_grantable(
    client: TestClient, officer: dict[str, str], clock: ManualClock, guardian: Guardian,
    role: str,
) -> None:
    response = _grant(client, officer, clock, uid="bob", role=role)

    assert (response.status_code, response.json()["error"]["code"]) == (
        422, "role_not_grantable")
    assert guardian.store.list_grants() == []
    [event] = _events(guardian, "governance.grant_refused")
    assert event["guardian"]["reason"] == "role_not_grantable"
    assert event["guardian"]["role"] == role


def test_a_start_more_than_a_minute_ago_is_refused(
    client: TestClient, officer: dict[str, str], clock: ManualClock, guardian: Guardian
) -> None:
    epoch = _grant(client, officer, clock, starts_at="1970-01-01T00:00:00+00:00")
    hour_ago = _grant(client, officer, clock, starts_at=_iso(clock.now() - 3600))

    for response in (epoch, hour_ago):
        assert (response.status_code, response.json()["error"]["code"]) == (
            422, "starts_at_in_past")
    assert guardian.store.list_grants() == []
    assert [e["guardian"]["reason"] for e in _events(guardian, "governance.grant_refused")] == [
        "starts_at_in_past", "starts_at_in_past"]


def test_a_start_a_few_seconds_ago_is_clock_skew_and_accepted(
    client: TestClient, officer: dict[str, str], clock: ManualClock
) -> None:
    response = _grant(client, officer, clock, starts_at=_iso(clock.now() - 30))

    assert response.status_code == 201, response.text


# -- revocation -------------------------------------------------------------------------


def test_a_revoked_grant_stops_counting_in_the_very_next_decision(
    client: TestClient, officer: dict[str, str], signer: Signer, clock: ManualClock,
    guardian: Guardian,
) -> None:
    body = decision_body("bob", signer.token("bob"), resource="crm/location",
                         purpose="fraud-prevention")
    grant_id = _grant(client, officer, clock).json()["id"]
    before = client.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=body).json()

    revoked = _revoke(client, officer, grant_id)
    after = client.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=body).json()

    assert before["decision"] == "permit"
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_by"] == "ivan"
    assert revoked.json()["revoke_reason"] == "fraud wave over"
    assert revoked.json()["revoked_at"] is not None
    assert after["decision"] == "deny"
    assert [r["code"] for r in after["reasons"]] == ["not_authorised"]


def test_a_revocation_is_journalled_with_who_when_why_and_stored_on_the_grant(
    client: TestClient, officer: dict[str, str], clock: ManualClock, guardian: Guardian
) -> None:
    grant_id = _grant(client, officer, clock).json()["id"]

    _revoke(client, officer, grant_id, "left the fraud team")

    [event] = _events(guardian, "governance.grant_revoked")
    assert event["user"]["id"] == "ivan"
    assert event["@timestamp"].startswith(_iso(clock.now())[:19])
    assert {k: event["guardian"][k] for k in ("grant_id", "grantee", "role", "reason")} == {
        "grant_id": grant_id, "grantee": "bob", "role": "fraud-analyst",
        "reason": "left the fraud team"}
    [stored] = guardian.store.list_grants("bob")
    assert (stored.revoked_at, stored.revoked_by, stored.revoke_reason) == (
        clock.now(), "ivan", "left the fraud team")
    listed = client.get("/v1/grants", headers=officer).json()["grants"]
    assert [(g["id"], g["revoked_by"]) for g in listed] == [(grant_id, "ivan")]


def test_revoking_an_unknown_grant_is_not_found_and_twice_is_a_conflict(
    client: TestClient, officer: dict[str, str], clock: ManualClock, guardian: Guardian
) -> None:
    grant_id = _grant(client, officer, clock).json()["id"]
    _revoke(client, officer, grant_id)

    unknown = _revoke(client, officer, "01NOSUCHGRANT")
    again = _revoke(client, officer, grant_id)

    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "grant_not_found")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "grant_already_revoked")
    assert len(_events(guardian, "governance.grant_revoked")) == 1


def test_a_revocation_needs_a_reason(
    client: TestClient, officer: dict[str, str], clock: ManualClock, guardian: Guardian
) -> None:
    grant_id = _grant(client, officer, clock).json()["id"]

    missing = _revoke(client, officer, grant_id, reason=None)
    blank = _revoke(client, officer, grant_id, reason="   ")

    assert (missing.status_code, missing.json()["error"]["code"]) == (422, "invalid_request")
    assert (blank.status_code, blank.json()["error"]["code"]) == (422, "invalid_request")
    assert not guardian.store.list_grants()[0].revoked


def test_only_an_officer_with_a_fresh_second_factor_revokes(
    client: TestClient, officer: dict[str, str], signer: Signer, clock: ManualClock,
    guardian: Guardian,
) -> None:
    grant_id = _grant(client, officer, clock).json()["id"]
    judy = _revoke(client, _bearer(signer.token("judy")), grant_id)
    nobody = client.request("DELETE", f"/v1/grants/{grant_id}", json={"reason": "x"})
    clock.advance(901)
    stale = _revoke(client, officer, grant_id)

    assert (judy.status_code, judy.json()["error"]["code"]) == (403, "role_required")
    assert nobody.status_code == 401
    assert (stale.status_code, stale.json()["error"]["code"]) == (403, "fresh_mfa_required")
    assert not guardian.store.list_grants()[0].revoked

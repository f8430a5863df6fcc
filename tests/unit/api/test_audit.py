"""Auditors' endpoints: `GET /v1/audit/events`, the customer access report, health and metrics."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from guardian.bootstrap import Guardian
from guardian.errors import AuditUnavailable
from support import API_KEY, Signer, decision_body


def _decide(client: TestClient, body: dict[str, object]) -> dict[str, object]:
    response = client.post("/v1/decisions", json=body, headers={"X-API-Key": API_KEY})
    assert response.status_code == 200, response.text
    decision: dict[str, object] = response.json()
    return decision


def _trail(client: TestClient, signer: Signer, guardian: Guardian) -> str:
    """A few decisions about C-1001 and C-1002, shipped to the (SQLite) index; judy's token."""
    alice = signer.token("alice")
    _decide(client, decision_body("alice", alice, customers=["C-1001"]))
    _decide(client, decision_body("alice", alice, customers=["C-1002"]))
    _decide(client, decision_body("mallory", None, customers=["C-1001"]))
    erin = signer.token("erin")
    _decide(client, decision_body("erin", erin, action="export", resource="crm/location",
                                  purpose="legal-requisition", customers=["C-1001"],
                                  justification="REQ-7 <script>alert('x')</script>"))
    judy = signer.token("judy")
    assert guardian.audit.shipper.drain(max_wait_s=5).caught_up
    return judy


def _get(client: TestClient, path: str, token: str | None, **params: object) -> Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response: Response = client.get(path, params=params, headers=headers)
    return response


def test_an_auditor_finds_every_access_to_a_customer_newest_first(
    client: TestClient, signer: Signer, guardian: Guardian
) -> None:
    judy = _trail(client, signer, guardian)

    response = _get(client, "/v1/audit/events", judy, customer="C-1001")

    assert response.status_code == 200, response.text
    events = response.json()["events"]
    assert [e["user"]["id"] for e in events] == ["erin", "mallory", "alice"]
    assert all("C-1001" in e["guardian"]["customer_ids"] for e in events)
    assert response.json()["next_cursor"] is None


def test_filters_combine_and_a_cursor_gives_the_next_page(
    client: TestClient, signer: Signer, guardian: Guardian
) -> None:
    judy = _trail(client, signer, guardian)

    denied = _get(client, "/v1/audit/events", judy, decision="deny",
                  reason="not_authorised").json()["events"]
    sessions = _get(client, "/v1/audit/events", judy, user="alice",
                    action="session.created").json()["events"]
    first = _get(client, "/v1/audit/events", judy, user="alice", action="access.decision",
                 size=1).json()
    second = _get(client, "/v1/audit/events", judy, user="alice", action="access.decision",
                  size=1, cursor=first["next_cursor"]).json()

    assert [e["user"]["id"] for e in denied] == ["mallory"]
    assert len(sessions) == 1 and sessions[0]["guardian"]["amr"] == ["pwd", "otp"]
    assert first["next_cursor"] and second["next_cursor"] is None
    assert [e["guardian"]["customer_ids"] for e in first["events"] + second["events"]] == \
        [["C-1002"], ["C-1001"]]


def test_only_auditors_and_the_dpo_may_search(
    client: TestClient, signer: Signer, guardian: Guardian
) -> None:
    _trail(client, signer, guardian)
    alice = signer.token("alice")

    assert _get(client, "/v1/audit/events", None).status_code == 401
    refused = _get(client, "/v1/audit/events", alice)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "role_required"
    assert _get(client, "/v1/customers/C-1001/access-report", alice).status_code == 403


def test_bad_search_input_is_a_422_never_a_500(
    client: TestClient, signer: Signer, guardian: Guardian
) -> None:
    judy = _trail(client, signer, guardian)

    for params in ({"cursor": "bm90LWEtY3Vyc29y"}, {"from": "yesterday"},
                   {"from": "2026-11-02", "to": "2026-11-01"}, {"size": 0},
                   {"customer": "C-1\x00"}, {"order": "sideways"}):
        response = _get(client, "/v1/audit/events", judy, **params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"]["code"] in {"invalid_request"}


def test_the_access_report_says_who_accessed_what_and_why(
    client: TestClient, signer: Signer, guardian: Guardian
) -> None:
    judy = _trail(client, signer, guardian)

    report = _get(client, "/v1/customers/C-1001/access-report", judy).json()

    assert report["customer_id"] == "C-1001"
    assert report["summary"] == {"accesses": 2, "people": 2, "refused_attempts": 1}
    people = {p["user"]: p for p in report["people"]}
    assert people["alice"]["categories"] == ["contact"]
    assert people["alice"]["purposes"] == ["customer-care"]
    assert people["erin"]["purposes"] == ["legal-requisition"]
    assert [a["user"] for a in report["refused_attempts"]] == ["mallory"]
    assert _get(client, "/v1/customers/C-1009/access-report", judy).json()["summary"][
        "accesses"] == 0


def test_the_access_report_page_is_readable_and_escapes_what_it_shows(
    client: TestClient, signer: Signer, guardian: Guardian
) -> None:
    judy = _trail(client, signer, guardian)

    page = _get(client, "/v1/customers/C-1001/access-report", judy, format="html")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Who accessed the data of customer C-1001" in page.text
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page.text


def test_health_and_metrics_show_the_shipping_progress(
    client: TestClient, signer: Signer, guardian: Guardian
) -> None:
    judy = _trail(client, signer, guardian)
    auditor = {"Authorization": f"Bearer {judy}"}

    audit = client.get("/v1/health", headers=auditor).json()["audit"]
    metrics = client.get("/v1/metrics", headers=auditor)

    assert audit["index"]["kind"] == "sqlite" and audit["degraded"] is False
    shipper = audit["shipper"]
    assert shipper["shipped_seq"] == shipper["journal_seq"] >= 7
    assert shipper["lag_events"] == 0
    assert audit["checkpoints"]["signing_key"].startswith("derived")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert f"guardian_audit_shipped_seq {shipper['shipped_seq']}" in text
    assert "guardian_audit_ship_lag_event_seconds_bucket{le=\"+Inf\"}" in text
    assert 'guardian_audit_shipper_state{state="held"} 0' in text


def test_reading_the_trail_is_itself_recorded_and_searchable(
    client: TestClient, signer: Signer, guardian: Guardian
) -> None:
    judy = _trail(client, signer, guardian)

    assert _get(client, "/v1/audit/events", judy, customer="C-1001",
                purpose="customer-care").status_code == 200
    assert _get(client, "/v1/customers/C-1002/access-report", judy).status_code == 200
    assert guardian.audit.shipper.drain(max_wait_s=5).caught_up

    reads = _get(client, "/v1/audit/events", judy, user="judy",
                 order="asc").json()["events"]
    actions = [(e["event"]["action"], e["guardian"].get("query")) for e in reads]
    assert ("audit.trail_searched", "customer=C-1001 purpose=customer-care") in actions
    assert ("audit.customer_report_produced", "customer=C-1002") in actions
    # Reading a customer's trail is not an access to that customer's data.
    report = _get(client, "/v1/customers/C-1002/access-report", judy).json()
    assert [p["user"] for p in report["people"]] == ["alice"]


def test_an_auditor_cannot_read_the_trail_when_reading_cannot_be_recorded(
    client: TestClient, signer: Signer, guardian: Guardian, monkeypatch: pytest.MonkeyPatch
) -> None:
    judy = _trail(client, signer, guardian)

    def refuse(event: object) -> object:
        raise AuditUnavailable("audit journal write failed; event not recorded")

    async def refuse_async(events: object) -> object:
        raise AuditUnavailable("audit journal write failed; event not recorded")

    monkeypatch.setattr(guardian.journal, "append", refuse)
    monkeypatch.setattr(guardian.journal, "append_many_async", refuse_async)
    search = _get(client, "/v1/audit/events", judy, customer="C-1001")
    report = _get(client, "/v1/customers/C-1001/access-report", judy)

    assert search.status_code == report.status_code == 503
    assert search.json()["error"]["code"] == "audit_unavailable"
    assert "C-1001" not in search.text and "alice" not in report.text

"""``/v1/reports`` over HTTP as judy (the auditor): produce a report of decisions made through
the API, download it in every format, check its signature; refused for alice and for an
application key; producing a report is an audit event journalled before it is archived."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from guardian.audit.records import is_seal_line
from guardian.bootstrap import Guardian
from guardian.clock import ManualClock
from guardian.reports.signing import verify_report
from support import API_KEY, Signer, decision_body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _day(ts: float, days: int = 0) -> str:
    return datetime.fromtimestamp(ts + days * 86400, UTC).strftime("%Y-%m-%d")


@pytest.fixture
def judy(signer: Signer) -> dict[str, str]:
    return _bearer(signer.token("judy"))


@pytest.fixture
def trail(client: TestClient, signer: Signer, guardian: Guardian) -> None:
    """Three decisions through the API (two permits, one deny), shipped into the index."""
    alice = signer.token("alice")
    for body in (decision_body("alice", alice), decision_body("alice", alice),
                 decision_body("alice", alice, resource="crm/location")):
        assert client.post("/v1/decisions", json=body,
                           headers={"X-API-Key": API_KEY}).status_code == 200
    guardian.audit.shipper.ship_once()


def _produce(client: TestClient, headers: dict[str, str], clock: ManualClock) -> Any:
    return client.post("/v1/reports", headers=headers, json={
        "kind": "periodic", "from": _day(clock.now(), -1), "to": _day(clock.now(), 1)})


def test_judy_produces_a_signed_report_and_downloads_every_format(
    client: TestClient, judy: dict[str, str], clock: ManualClock, guardian: Guardian,
    trail: None,
) -> None:
    created = _produce(client, judy, clock)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]

    doc = client.get(f"/v1/reports/{rid}", headers=judy).json()
    html = client.get(f"/v1/reports/{rid}?format=html", headers=judy)
    csv = client.get(f"/v1/reports/{rid}?format=csv", headers=judy)
    one = client.get(f"/v1/reports/{rid}?format=csv&table=by_reason", headers=judy)
    pdf = client.get(f"/v1/reports/{rid}?format=pdf", headers=judy)

    assert verify_report(doc, guardian.audit.signer.public_key) is None
    assert doc["sha256"] == created.json()["sha256"] and doc["generated_by"] == "judy"
    assert doc["decisions"]["permits"] == 2 and doc["decisions"]["denies"] == 1
    assert doc["decisions"]["by_reason"]["permitted"] == 2
    assert doc["integrity"]["verified"] is True
    assert html.headers["content-type"].startswith("text/html")
    assert "<script" not in html.text and doc["sha256"] in html.text
    assert "<svg" in html.text or "data:image/svg+xml" in html.text
    names = zipfile.ZipFile(io.BytesIO(csv.content)).namelist()
    assert "decisions_by_day.csv" in names and "dormant.csv" in names
    assert one.text.splitlines()[0] == "reason,permits,denies,total"
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"


def test_a_tampered_report_fails_verification(
    client: TestClient, judy: dict[str, str], clock: ManualClock, guardian: Guardian,
    trail: None,
) -> None:
    rid = _produce(client, judy, clock).json()["id"]
    doc = client.get(f"/v1/reports/{rid}", headers=judy).json()
    doc["decisions"]["denies"] = 0

    assert "SHA-256" in (verify_report(doc, guardian.audit.signer.public_key) or "")


def test_producing_a_report_is_journalled_and_archived(
    client: TestClient, judy: dict[str, str], clock: ManualClock, guardian: Guardian,
) -> None:
    created = _produce(client, judy, clock).json()
    listed = client.get("/v1/reports", headers=judy).json()

    events = [orjson.loads(line) for line in guardian.settings.journal_file.read_bytes()
              .splitlines() if not is_seal_line(line)]
    [event] = [e for e in events if e["event"]["action"] == "audit.periodic_report_produced"]
    assert event["user"]["id"] == "judy"
    assert created["id"] in event["guardian"]["query"]
    assert created["sha256"] in event["guardian"]["query"]
    assert listed["reports"][0]["id"] == created["id"] and listed["next_cursor"] is None


def test_reading_a_report_is_journalled_first(
    client: TestClient, judy: dict[str, str], clock: ManualClock, guardian: Guardian,
) -> None:
    rid = _produce(client, judy, clock).json()["id"]
    assert client.get(f"/v1/reports/{rid}?format=html", headers=judy).status_code == 200

    events = [orjson.loads(line) for line in guardian.settings.journal_file.read_bytes()
              .splitlines() if not is_seal_line(line)]
    reads = [e["guardian"]["query"] for e in events
             if e["event"]["action"] == "audit.trail_searched" and e["user"]["id"] == "judy"]
    assert reads == [f"report={rid} format=html"]


def test_the_archive_pages_with_a_cursor(
    client: TestClient, judy: dict[str, str], clock: ManualClock
) -> None:
    ids = []
    for _ in range(3):
        clock.advance(1)  # ids are ULIDs: time-ordered across milliseconds
        ids.append(_produce(client, judy, clock).json()["id"])
    first = client.get("/v1/reports?limit=2", headers=judy).json()
    second = client.get(f"/v1/reports?limit=2&cursor={first['next_cursor']}",
                        headers=judy).json()

    assert [r["id"] for r in first["reports"] + second["reports"]] == ids[::-1]
    assert second["next_cursor"] is None


def test_alice_and_an_application_key_are_refused(
    client: TestClient, signer: Signer, clock: ManualClock
) -> None:
    alice = _produce(client, _bearer(signer.token("alice")), clock)
    app = _produce(client, {"X-API-Key": API_KEY}, clock)
    listing = client.get("/v1/reports", headers={"X-API-Key": API_KEY})

    assert (alice.status_code, alice.json()["error"]["code"]) == (403, "role_required")
    assert (app.status_code, app.json()["error"]["code"]) == (401, "invalid_token")
    assert listing.status_code == 401


@pytest.mark.parametrize("body", [
    {"kind": "periodic", "from": "2026-12-01", "to": "2026-11-01"},
    {"kind": "campaign", "from": "2026-11-01", "to": "2026-12-01"},
    {"kind": "periodic", "from": "2026-11-01"},
    {"kind": "periodic", "from": "2026-11-01", "to": "2026-12-01", "extra": 1},
    {"kind": "periodic", "from": "<script>", "to": "2026-12-01"},
])
def test_a_bad_request_is_a_422_with_a_code(
    client: TestClient, judy: dict[str, str], body: dict[str, Any]
) -> None:
    response = client.post("/v1/reports", headers=judy, json=body)

    assert response.status_code == 422 and response.json()["error"]["code"]


def test_an_unknown_report_is_a_404(client: TestClient, judy: dict[str, str]) -> None:
    response = client.get("/v1/reports/01JZZZZZZZZZZZZZZZZZZZZZZZ", headers=judy)

    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")

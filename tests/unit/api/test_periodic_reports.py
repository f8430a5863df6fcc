"""``/v1/reports`` over HTTP as judy (the auditor): produce a report of decisions made through
the API, download it in every format, check its signature; refused for alice and for an
application key; producing a report is an audit event journalled before it is archived."""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from guardian.api import create_app
from guardian.audit.records import is_seal_line
from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from guardian.reports.signing import verify_report
from support import API_KEY, Signer, decision_body, demo_settings


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
    # no GUARDIAN_AUDIT_TRUST_FILE here: the chain holds, but the server's own key is not
    # taken as proof (test_with_a_trust_file_the_integrity_is_authenticated is the other half)
    assert doc["integrity"]["chain_intact"] is True
    assert (doc["integrity"]["verified"], doc["integrity"]["authenticated"]) == (False, False)
    assert "not authenticated" in html.text
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


def test_with_a_trust_file_the_integrity_is_authenticated(
    tmp_path: Path, clock: ManualClock, trail_of_pinned: tuple[Guardian, TestClient, Signer],
) -> None:
    _guardian, client, signer = trail_of_pinned
    headers = _bearer(signer.token("judy"))
    rid = _produce(client, headers, clock).json()["id"]
    doc = client.get(f"/v1/reports/{rid}", headers=headers).json()

    assert doc["integrity"]["verified"] is True and doc["integrity"]["authenticated"] is True
    assert doc["integrity"]["checkpoints_verified"] >= 1
    assert "The trail verifies with the pinned keys" in next(
        s["summary"] for s in doc["sections"] if s["key"] == "integrity")


def test_a_trust_file_without_the_server_s_key_says_the_trail_does_not_verify(
    tmp_path: Path, clock: ManualClock,
) -> None:
    from guardian.audit.checkpoints import CheckpointSigner, trust_entry

    other = CheckpointSigner(Ed25519PrivateKey.generate(), "file")
    trust = tmp_path / "trust.pem"
    trust.write_text(trust_entry(other.public_key), encoding="ascii")
    guardian = build(demo_settings(tmp_path, audit_trust_file=trust,
                                    audit_checkpoint_every_events=1), clock=clock, prepare=True)
    try:
        with TestClient(create_app(guardian), raise_server_exceptions=False) as client:
            signer = Signer(client, clock)
            _decide_and_ship(client, signer, guardian)
            headers = _bearer(signer.token("judy"))
            rid = _produce(client, headers, clock).json()["id"]
            doc = client.get(f"/v1/reports/{rid}", headers=headers).json()
    finally:
        guardian.close()

    assert doc["integrity"]["verified"] is False and doc["integrity"]["problem"]


def test_a_failing_pdf_renderer_is_a_503_with_a_code(
    client: TestClient, judy: dict[str, str], clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import weasyprint

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("pango exploded")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    rid = _produce(client, judy, clock).json()["id"]
    response = client.get(f"/v1/reports/{rid}?format=pdf", headers=judy)
    html = client.get(f"/v1/reports/{rid}?format=html", headers=judy)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "report_renderer_unavailable"
    assert html.status_code == 200


def test_a_missing_pdf_renderer_is_a_503_with_a_code(
    client: TestClient, judy: dict[str, str], clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint raises ImportError
    rid = _produce(client, judy, clock).json()["id"]
    response = client.get(f"/v1/reports/{rid}?format=pdf", headers=judy)

    assert (response.status_code, response.json()["error"]["code"]) == (
        503, "report_renderer_unavailable")


def test_a_report_never_delivered_has_no_deliveries_and_an_unknown_one_is_a_404(
    client: TestClient, judy: dict[str, str], clock: ManualClock,
) -> None:
    rid = _produce(client, judy, clock).json()["id"]
    listed = client.get(f"/v1/reports/{rid}/deliveries", headers=judy)
    unknown = client.get("/v1/reports/01JZZZZZZZZZZZZZZZZZZZZZZZ/deliveries", headers=judy)

    assert listed.json() == {"id": rid, "deliveries": []}
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")


def _decide_and_ship(client: TestClient, signer: Signer, guardian: Guardian) -> None:
    alice = signer.token("alice")
    assert client.post("/v1/decisions", json=decision_body("alice", alice),
                       headers={"X-API-Key": API_KEY}).status_code == 200
    guardian.audit.shipper.ship_once()


@pytest.fixture
def trail_of_pinned(tmp_path: Path, clock: ManualClock
                    ) -> Iterator[tuple[Guardian, TestClient, Signer]]:
    """A Guardian whose trust file pins its own (demo) key, with one decision shipped."""
    from guardian.audit.checkpoints import trust_entry
    from guardian.bootstrap import build_checkpoint_signer

    settings = demo_settings(tmp_path)
    trust = tmp_path / "trust.pem"
    trust.write_text(trust_entry(build_checkpoint_signer(settings).public_key), encoding="ascii")
    guardian = build(demo_settings(tmp_path, audit_trust_file=trust,
                                    audit_checkpoint_every_events=1), clock=clock, prepare=True)
    try:
        with TestClient(create_app(guardian), raise_server_exceptions=False) as client:
            signer = Signer(client, clock)
            _decide_and_ship(client, signer, guardian)
            yield guardian, client, signer
    finally:
        guardian.close()

"""The journal against an insider, served: lines appended while stopped never reach the index or
an access report; a journal deleted while serving makes decisions deny and raises an alarm; a
chain cut back while stopped never restarts at seq 1 and keeps shipping."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from guardian.api import create_app
from guardian.audit.chain import seal
from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from guardian.config import Settings
from support import API_KEY, Signer, decision_body, demo_settings

MONITORING_TOKEN = "test-monitoring-token-0123456789"
MONITORING = {"Authorization": f"Bearer {MONITORING_TOKEN}"}

H = {"X-API-Key": API_KEY}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return demo_settings(tmp_path, metrics_token=MONITORING_TOKEN)


@pytest.fixture
def served(settings: Settings, clock: ManualClock) -> Iterator[tuple[Guardian, TestClient]]:
    g = build(settings, clock=clock, prepare=True)
    with TestClient(create_app(g), raise_server_exceptions=False) as c:
        yield g, c
    g.close()


def _decide(client: TestClient, signer: Signer, uid: str = "alice",
            customer: str = "C-1001") -> dict[str, object]:
    response = client.post("/v1/decisions", json=decision_body(
        uid, signer.token(uid), customers=[customer]), headers=H)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _events(path: Path) -> list[dict[str, object]]:
    """The journal's events (a group commit's seal line is not one)."""
    return [orjson.loads(x) for x in path.read_bytes().splitlines()
            if not x.startswith(b'{"seal":')]


def _forge_permit(path: Path, customer: str) -> None:
    """An insider appends a permit for ``customer``, chained with the public hash rule."""
    last = _events(path)[-1]
    template = next(e for e in reversed(_events(path))
                    if e["event"]["action"] == "access.decision")  # type: ignore[index]
    g = last["guardian"]
    forged = orjson.loads(orjson.dumps(template))
    forged["guardian"]["customer_ids"] = [customer]
    forged["user"]["id"] = "mallory"
    sealed, _ = seal(forged, g["seq"] + 1, g["hash"])  # type: ignore[index]
    with path.open("ab") as handle:
        handle.write(orjson.dumps(sealed, option=orjson.OPT_SORT_KEYS) + b"\n")


def test_a_permit_appended_while_stopped_is_quarantined_and_in_no_access_report(
    settings: Settings, clock: ManualClock
) -> None:
    g = build(settings, clock=clock, prepare=True)
    with TestClient(create_app(g), raise_server_exceptions=False) as client:
        _decide(client, Signer(client, clock), customer="C-1002")
    g.close()
    _forge_permit(settings.journal_file, "C-1005")

    g = build(settings, clock=clock, prepare=True)
    with TestClient(create_app(g), raise_server_exceptions=False) as client:
        signer = Signer(client, clock)
        judy = {"Authorization": f"Bearer {signer.token('judy')}"}
        assert g.audit.shipper.drain(max_wait_s=5).caught_up
        report = client.get("/v1/customers/C-1005/access-report", headers=judy)
        search = client.get("/v1/audit/events", params={"customer": "C-1005"}, headers=judy)
        health = client.get("/v1/health", headers=MONITORING).json()
        metrics = client.get("/v1/metrics", headers=MONITORING).text
    g.close()

    assert report.status_code == 200 and "mallory" not in report.text
    assert search.status_code == 200 and search.json()["events"] == []
    assert health["status"] == "degraded"
    assert health["journal"]["quarantine"]["lines"] == 1
    assert [a["code"] for a in health["journal"]["alarms"]] == ["tail_quarantined"]
    assert "guardian_audit_journal_quarantined_lines 1.0" in metrics
    assert 'guardian_audit_journal_alarm{code="tail_quarantined"} 1' in metrics
    assert all(e["user"]["id"] != "mallory" for e in _events(settings.journal_file)  # type: ignore[index]
               if "user" in e)


def test_a_journal_deleted_while_serving_turns_decisions_into_audit_unavailable(
    served: tuple[Guardian, TestClient], clock: ManualClock
) -> None:
    guardian, client = served
    signer = Signer(client, clock)
    assert _decide(client, signer)["decision"] == "permit"
    assert client.get("/v1/health", headers=MONITORING).json()["journal"]["status"] == "ok"

    token = signer.token("alice")  # signing in is journalled too: before the deletion
    os.unlink(guardian.settings.journal_file)
    after = client.post("/v1/decisions", json=decision_body("alice", token), headers=H).json()
    health = client.get("/v1/health", headers=MONITORING).json()
    metrics = client.get("/v1/metrics", headers=MONITORING).text

    assert after["decision"] == "deny"
    assert [r["code"] for r in after["reasons"]] == ["audit_unavailable"]
    assert health["status"] == "degraded"
    assert health["journal"]["status"] == "alarm"
    assert [a["code"] for a in health["journal"]["alarms"]] == ["journal_replaced"]
    assert 'guardian_audit_journal_alarm{code="journal_replaced"} 1' in metrics
    assert 'guardian_audit_journal_alarm{code="chain_regressed"} 0' in metrics


def test_a_journal_cut_back_while_stopped_never_restarts_at_seq_1_and_keeps_shipping(
    settings: Settings, clock: ManualClock
) -> None:
    g = build(settings, clock=clock, prepare=True)
    with TestClient(create_app(g), raise_server_exceptions=False) as client:
        signer = Signer(client, clock)
        for _ in range(3):
            _decide(client, signer)
        assert g.audit.shipper.drain(max_wait_s=5).caught_up
        shipped = g.audit.shipper.state.seq
    g.close()
    settings.journal_file.unlink()  # deleted while stopped; the shipper's state stays

    g = build(settings, clock=clock, prepare=True)
    with TestClient(create_app(g), raise_server_exceptions=False) as client:
        after = _decide(client, Signer(client, clock))
        health = client.get("/v1/health", headers=MONITORING).json()
        drained = g.audit.shipper.drain(max_wait_s=5)
        metrics = client.get("/v1/metrics", headers=MONITORING).text
        state = g.audit.shipper.state.seq
    g.close()

    assert after["decision"] == "permit"
    assert after["audit"]["seq"] > shipped  # type: ignore[index]
    assert [a["code"] for a in health["journal"]["alarms"]] == ["chain_regressed"]
    assert health["status"] == "degraded"
    assert 'guardian_audit_journal_alarm{code="chain_regressed"} 1' in metrics
    assert drained.caught_up and not drained.conflicts
    assert state >= after["audit"]["seq"]  # type: ignore[index]

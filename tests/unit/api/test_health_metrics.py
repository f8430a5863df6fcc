"""`GET /v1/metrics` read with prometheus_client's parser after decisions and sign-ins: the
counters and histogram counts move by exactly what was done; the metrics address; registries
of two Guardians in one process stay apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from guardian.adapters.prometheus.metrics import MetricsServer
from guardian.api import create_app
from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from support import API_KEY, Signer, decision_body, demo_settings

MONITORING_TOKEN = "test-monitoring-token-0123456789"
MONITORING = {"Authorization": f"Bearer {MONITORING_TOKEN}"}

H = {"X-API-Key": API_KEY}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample by (name, sorted labels)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(client: TestClient) -> Samples:
    response = client.get("/v1/metrics", headers=MONITORING)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after[key] - before.get(key, 0.0)


@pytest.fixture
def guardian(tmp_path: Path, clock: ManualClock) -> Iterator[Guardian]:
    """The shared fixture's Guardian, with a metrics token to scrape with."""
    g = build(demo_settings(tmp_path, metrics_token=MONITORING_TOKEN), clock=clock, prepare=True)
    yield g
    g.close()


@pytest.fixture
def locking(tmp_path: Path, clock: ManualClock) -> Iterator[Guardian]:
    """Two failures lock a user out, without the throttling wait."""
    g = build(demo_settings(tmp_path, metrics_token=MONITORING_TOKEN, lockout_max_failures=2,
                            lockout_user_delay_max_s=0),
              clock=clock, prepare=True)
    yield g
    g.close()


def test_metrics_count_decisions_sign_ins_and_their_latency(
    locking: Guardian, clock: ManualClock
) -> None:
    with TestClient(create_app(locking)) as client:
        signer = Signer(client, clock)
        before = scrape(client)
        alice, bob = signer.token("alice"), signer.token("bob")  # 2 successful sign-ins
        for _ in range(2):
            assert client.post("/v1/sessions", json={
                "user": "carol", "password": "wrong", "otp": "000000"}).status_code == 401
        locked = client.post("/v1/sessions", json={
            "user": "carol", "password": "carol-demo-pass", "otp": signer.code("carol")})
        assert locked.json()["error"]["code"] == "account_locked"
        for _ in range(3):
            assert client.post("/v1/decisions", json=decision_body("alice", alice),
                               headers=H).json()["decision"] == "permit"
        assert client.post("/v1/decisions", json=decision_body("mallory", None),
                           headers=H).json()["decision"] == "deny"
        batch = client.post("/v1/decisions:batch", headers=H, json={"requests": [
            decision_body("alice", alice), decision_body("alice", alice),
            decision_body("bob", bob), decision_body("bob", bob)]}).json()["decisions"]
        assert [d["reasons"][0]["code"] for d in batch] == [
            "permitted", "permitted", "purpose_not_allowed", "purpose_not_allowed"]
        after = scrape(client)

    def m(name: str, **labels: str) -> float:
        return moved(before, after, name, **labels)

    assert m("guardian_decisions_total", outcome="permit", reason="permitted") == 5
    assert m("guardian_decisions_total", outcome="deny", reason="not_authorised") == 1
    assert m("guardian_decisions_total", outcome="deny", reason="purpose_not_allowed") == 2
    assert m("guardian_decisions_total", outcome="deny", reason="consent_missing") == 0
    assert m("guardian_decision_seconds_count", endpoint="single") == 4
    assert m("guardian_decision_seconds_count", endpoint="batch") == 1
    assert 0 < m("guardian_decision_seconds_sum", endpoint="single") < 5
    assert m("guardian_decision_batch_size_count") == 1
    assert m("guardian_decision_batch_size_sum") == 4
    assert m("guardian_sign_ins_total", method="totp", outcome="success") == 2
    assert m("guardian_sign_ins_total", method="totp", outcome="failure") == 2
    assert m("guardian_sign_ins_total", method="totp", outcome="locked") == 1
    assert m("guardian_sign_ins_total", method="webauthn", outcome="success") == 0
    # Every journalled event went through exactly one group commit.
    journalled = m("guardian_audit_journal_last_seq")
    assert journalled >= 5 + 8  # sign-in attempts and decisions, at least
    assert m("guardian_audit_journal_commit_events_sum") == journalled
    assert 1 <= m("guardian_audit_journal_commit_seconds_count") <= journalled
    assert after[("guardian_audit_journal_last_seq", ())] == locking.journal.last_seq  # type: ignore[attr-defined]
    assert after[("guardian_audit_shipper_state", (("state", "starting"),))] in (0.0, 1.0)
    assert after[("guardian_reports_produced_total", (("trigger", "requested"),))] == 0
    version = locking.pipeline.policy.definition.version
    info = [k for k in after if k[0] == "guardian_build_info"]
    assert len(info) == 1 and ("policy_version", version) in info[0][1]


def test_a_step_up_is_counted_by_outcome(client: TestClient, signer: Signer) -> None:
    token = signer.token("alice")
    before = scrape(client)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post("/v1/sessions/step-up", json={"otp": "000000"},
                       headers=auth).status_code == 401
    signer.clock.advance(30)
    assert client.post("/v1/sessions/step-up", json={"otp": signer.code("alice")},
                       headers=auth).status_code == 201
    after = scrape(client)
    assert moved(before, after, "guardian_step_ups_total", outcome="failure") == 1
    assert moved(before, after, "guardian_step_ups_total", outcome="success") == 1


def test_metrics_are_also_served_on_their_own_address(tmp_path: Path) -> None:
    guardian = build(demo_settings(tmp_path, metrics_token=MONITORING_TOKEN,
                                   metrics_address="127.0.0.1:0"), prepare=True)
    try:
        server = next(b for b in guardian.background if isinstance(b, MetricsServer))
        with TestClient(create_app(guardian)) as client:
            client.post("/v1/decisions", json=decision_body("mallory", None), headers=H)
            port = server.bound_port
            assert port is not None
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert samples(text)[("guardian_decisions_total",
                              (("outcome", "deny"), ("reason", "not_authorised")))] == 1
        assert server.bound_port is None  # stopped with the application
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
    finally:
        guardian.close()


def test_two_guardians_in_one_process_count_apart(tmp_path: Path) -> None:
    first, second = (build(demo_settings(tmp_path / "a", metrics_token=MONITORING_TOKEN), prepare=True),
                     build(demo_settings(tmp_path / "b", metrics_token=MONITORING_TOKEN), prepare=True))
    try:
        with TestClient(create_app(first)) as a, TestClient(create_app(second)) as b:
            a.post("/v1/decisions", json=decision_body("mallory", None), headers=H)
            key = ("guardian_decisions_total", (("outcome", "deny"), ("reason", "not_authorised")))
            assert scrape(a)[key] == 1
            assert scrape(b)[key] == 0
    finally:
        first.close()
        second.close()

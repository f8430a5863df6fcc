"""The checkpoint witness webhook against a real HTTP server on loopback: signed bodies,
retries with back-off, a bounded queue that never blocks, and every checkpoint of a running
Guardian delivered, with the delivery state in health and metrics."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guardian.adapters.http.witness import HttpWitness
from guardian.api import create_app
from guardian.bootstrap import build
from guardian.errors import WitnessUnavailable
from guardian.journal.witness import WitnessConfig, WitnessSender
from guardian.policy.model import DecisionRequest
from guardian.policy.vocabulary import Action
from support import demo_settings
from tamper_cases import witnessed
from witness_support import WITNESS_SECRET, witness_server

MONITORING = "witness-test-metrics-token-0123456789"


def _checkpoint(seq: int) -> dict[str, object]:
    return {"guardian": {"checkpoint": {"seq": seq, "hash": f"{seq:064x}", "key_id": "k",
                                        "signature": "s"}}}


def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_body_is_posted_with_its_hmac_and_a_wrong_secret_is_refused(tmp_path: Path) -> None:
    with witness_server(tmp_path / "w.jsonl") as server:
        HttpWitness(server.url, WITNESS_SECRET).post(b'{"checkpoints": [{"a": 1}]}')
        with pytest.raises(WitnessUnavailable, match="401"):
            HttpWitness(server.url, "another-secret-of-some-length").post(b'{"checkpoints":[]}')

    assert server.received() == [{"a": 1}] and server.refused_signatures == 1
    assert HttpWitness(server.url, WITNESS_SECRET).target.startswith("http://127.0.0.1:")
    assert "t0ps3cret" not in HttpWitness(server.url, WITNESS_SECRET).target


def test_a_failing_witness_is_retried_with_back_off_until_it_takes_the_checkpoints(
    tmp_path: Path,
) -> None:
    waits: list[float] = []
    with witness_server(tmp_path / "w.jsonl") as server:
        server.fail_next = 2
        sender = WitnessSender(HttpWitness(server.url, WITNESS_SECRET),
                               WitnessConfig(attempts=5, base_backoff_s=0.01), sleep=waits.append)
        sender.start()
        sender.offer(_checkpoint(10))
        sender.offer(_checkpoint(21))
        _until(lambda: sender.stats()["delivered_total"] == 2)
        sender.stop()

    assert [c["guardian"]["checkpoint"]["seq"] for c in server.received()] == [10, 21]
    assert waits == [0.01, 0.02]  # doubled each time
    stats = sender.stats()
    assert (stats["failed_attempts_total"], stats["failed_batches_total"]) == (2, 0)
    assert stats["last_delivered_seq"] == 21 and not stats["degraded"]


def test_a_dead_witness_never_blocks_offers_and_gives_up_counted(tmp_path: Path) -> None:
    sender = WitnessSender(HttpWitness(f"http://127.0.0.1:{_closed_port()}/", WITNESS_SECRET,
                                       timeout_s=0.5),
                           WitnessConfig(attempts=2, base_backoff_s=0.01, queue=5))
    sender.start()
    started = time.monotonic()
    for seq in range(1, 101):
        sender.offer(_checkpoint(seq))
    offered_in = time.monotonic() - started
    _until(lambda: sender.stats()["failed_batches_total"] >= 1)
    sender.stop(flush_s=0.2)

    stats = sender.stats()
    assert offered_in < 0.5
    assert stats["dropped_total"] >= 95 - 5  # the queue holds 5; the oldest went
    assert stats["degraded"] and "cannot be reached" in stats["last_error"]


def test_a_full_queue_drops_its_oldest_checkpoint() -> None:
    sent: list[bytes] = []

    class Recorder:
        target = "memory"

        def post(self, body: bytes) -> None:
            sent.append(body)

    sender = WitnessSender(Recorder(), WitnessConfig(queue=3))
    for seq in range(1, 6):
        sender.offer(_checkpoint(seq))
    sender.start()
    _until(lambda: sender.stats()["delivered_total"] == 3)
    sender.stop()

    assert sender.stats()["dropped_total"] == 2
    assert b'"seq":3' in sent[0] and b'"seq":1' not in b"".join(sent)


def test_every_checkpoint_of_a_running_guardian_reaches_the_witness(tmp_path: Path) -> None:
    with witness_server(tmp_path / "w.jsonl") as server:
        guardian = build(demo_settings(
            tmp_path, audit_witness_url=server.url, audit_witness_secret=WITNESS_SECRET,
            audit_checkpoint_every_events=10, journal_fsync=False, metrics_token=MONITORING), prepare=True)
        try:
            for batch in (25, 3):
                guardian.pipeline.decide_many([
                    DecisionRequest("alice", Action.READ, "crm", "contact", "customer-care",
                                    ("C-1001",), application="crm-web") for _ in range(batch)])
            witness = guardian.audit.witness
            assert witness is not None
            _until(lambda: witness.stats()["delivered_total"] >= 1)
            with TestClient(create_app(guardian)) as client:
                monitoring = {"Authorization": f"Bearer {MONITORING}"}
                health = client.get("/v1/health", headers=monitoring).json()["audit"]["witness"]
                metrics = client.get("/v1/metrics", headers=monitoring).text
        finally:
            guardian.close()  # signs the tail: that checkpoint goes too
        received = server.received()

    signed = [e["guardian"]["checkpoint"] for e in witnessed(guardian.settings.journal_file)]
    assert len(signed) == 2  # after the batch of 25, and the tail at close
    assert [c["guardian"]["checkpoint"] for c in received] == signed
    assert health["delivered_total"] == 1 and health["pending"] == 0
    assert health["target"].startswith("http://127.0.0.1:") and "t0ps3cret" not in str(health)
    assert "guardian_audit_witness_delivered_total 1" in metrics
    assert "guardian_audit_witness_dropped_total 0" in metrics


def test_a_checkpoint_is_sent_only_once_the_journal_holds_it_durably() -> None:
    sent: list[bytes] = []
    durable = [10]

    class Recorder:
        target = "memory"

        def post(self, body: bytes) -> None:
            sent.append(body)

    sender = WitnessSender(Recorder())
    sender.durable_seq = lambda: durable[0]
    sender.start()
    sender.offer(_checkpoint(10))  # vouches for event 10; it is event 11 itself
    time.sleep(0.3)
    held = list(sent)
    durable[0] = 11
    _until(lambda: sender.stats()["delivered_total"] == 1)
    sender.stop()

    assert held == [] and b'"seq":10' in sent[0]

"""The witness: reading a witness's copy (checkpoints, unreadable entries and untrusted ones
set aside and noted, JSON Lines with batched bodies taken apart) and the sender (bounded queue
dropping its oldest, bounded retries, only durable checkpoints sent, stats)."""

from __future__ import annotations

import time
from typing import Any, cast

import orjson
import pytest

from guardian.audit.checkpoints import CheckpointVerifier
from guardian.errors import ConfigurationError, DeliveryFailed
from guardian.journal.witness import (
    WitnessConfig,
    WitnessPoint,
    WitnessSender,
    read_witness_lines,
    witness_points,
)


def _cp(seq: int, key_id: str = "k1") -> dict[str, Any]:
    return {"guardian": {"checkpoint": {"seq": seq, "hash": f"h{seq}", "key_id": key_id}}}


class Verifier:
    """Trusts checkpoints signed with ``k1`` only."""

    def check(self, event: Any) -> tuple[object | None, str]:
        trusted = event["guardian"]["checkpoint"]["key_id"] == "k1"
        return (object() if trusted else None), ""


class Transport:
    target = "http://127.0.0.1:9/witness"

    def __init__(self, failures: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.failures = failures

    def post(self, body: bytes) -> None:
        if self.failures:
            self.failures -= 1
            raise DeliveryFailed("witness down")
        self.bodies.append(orjson.loads(body))


def _wait(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_copy_gives_its_points_and_notes_what_it_set_aside() -> None:
    events = [_cp(10), _cp(20), {"guardian": {}}, "junk", _cp(30, key_id="rogue")]
    copy = witness_points(events, cast(CheckpointVerifier, Verifier()), "witness.jsonl")
    assert copy.points == (WitnessPoint(10, "h10", "k1"), WitnessPoint(20, "h20", "k1"))
    assert copy.last == WitnessPoint(20, "h20", "k1")
    assert copy.notes == ("2 entr(y/ies) of witness.jsonl are not checkpoints (ignored)",
                          "1 checkpoint(s) of witness.jsonl do not verify with a pinned key "
                          "(ignored)")


def test_without_a_verifier_every_checkpoint_is_taken_at_its_word() -> None:
    copy = witness_points([_cp(5, key_id="rogue")], None, "w")
    assert [p.seq for p in copy.points] == [5] and copy.notes == ()
    assert witness_points([], None, "w").last is None


def test_witness_lines_take_batched_bodies_apart_and_skip_blank_lines() -> None:
    data = (orjson.dumps({"checkpoints": [_cp(1), _cp(2)]}) + b"\n\n"
            + orjson.dumps(_cp(3)) + b"\n")
    assert [e["guardian"]["checkpoint"]["seq"] for e in read_witness_lines(data, "w")] == [
        1, 2, 3]


def test_a_line_that_is_not_json_is_refused_with_its_number() -> None:
    with pytest.raises(ConfigurationError, match=r"w\.jsonl, line 2: not JSON"):
        read_witness_lines(orjson.dumps(_cp(1)) + b"\n{oops\n", "w.jsonl")


def test_a_full_queue_drops_its_oldest_and_says_it_is_degraded() -> None:
    sender = WitnessSender(Transport(), WitnessConfig(queue=2))
    for seq in (1, 2, 3):
        sender.offer(_cp(seq))
    stats = sender.stats()
    assert stats["pending"] == 2 and stats["dropped_total"] == 1 and stats["degraded"]
    transport = Transport()
    sender = WitnessSender(transport, WitnessConfig(queue=2), sleep=lambda _: None)
    sender.offer(_cp(1))
    sender.offer(_cp(2))
    sender.offer(_cp(3))
    sender.start()
    _wait(lambda: sender.stats()["pending"] == 0)
    sender.stop()
    assert [c["guardian"]["checkpoint"]["seq"] for b in transport.bodies
            for c in b["checkpoints"]] == [2, 3]


def test_delivery_is_retried_then_counted_as_failed() -> None:
    sleeps: list[float] = []
    transport = Transport(failures=3)
    sender = WitnessSender(transport, WitnessConfig(attempts=3, base_backoff_s=0.5,
                                                    max_backoff_s=0.75), sleep=sleeps.append)
    sender.offer(_cp(1))
    sender.start()
    _wait(lambda: sender.stats()["failed_batches_total"] == 1)
    assert sleeps == [0.5, 0.75] and sender.stats()["last_error"] == "witness down"
    sender.offer(_cp(2))
    _wait(lambda: sender.stats()["delivered_total"] == 1)
    sender.stop()
    stats = sender.stats()
    assert stats["last_delivered_seq"] == 2 and stats["last_error"] is None
    assert stats["failed_attempts_total"] == 3 and stats["degraded"]


def test_a_checkpoint_is_sent_only_once_the_journal_holds_it_durably() -> None:
    durable = [5]
    transport = Transport()
    sender = WitnessSender(transport, sleep=lambda _: None, now=lambda: 42.0)
    sender.durable_seq = lambda: durable[0]
    sender.offer(_cp(4))
    sender.offer(_cp(9))
    sender.start()
    _wait(lambda: sender.stats()["delivered_total"] == 1)
    time.sleep(0.1)
    assert sender.stats()["pending"] == 1  # seq 9 waits for its fsync
    durable[0] = 10
    _wait(lambda: sender.stats()["delivered_total"] == 2)
    sender.stop()
    assert sender.stats()["last_success_at"] == 42.0

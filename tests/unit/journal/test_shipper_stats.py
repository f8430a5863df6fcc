"""The shipper's statistics: counters that only grow, a state that a hold outranks, the lag
in events and seconds, and the lag histogram of acknowledged events."""

from __future__ import annotations

from guardian.audit.records import ItemOutcome, ItemStatus, JournalRecord
from guardian.journal.ship_state import Conflict
from guardian.journal.shipper_stats import LAG_BUCKETS, ShipperStats

NOW = 1_790_000_000.0


def _records(*seqs: int) -> list[JournalRecord]:
    return [JournalRecord(seq, b"{}", {}) for seq in seqs]


def test_a_fresh_snapshot_is_starting_with_nothing_counted() -> None:
    snap = ShipperStats().snapshot(0, 0, NOW, 0)
    assert snap["state"] == "starting" and snap["lag_events"] == 0
    assert snap["lag_seconds"] == 0.0 and snap["last_ack_at"] is None
    assert snap["lag_histogram"] == {"buckets": list(LAG_BUCKETS),
                                     "counts": [0] * (len(LAG_BUCKETS) + 1), "sum": 0.0,
                                     "max": 0.0}


def test_acknowledgements_count_shipped_duplicates_and_the_lag_histogram() -> None:
    stats = ShipperStats()
    stats.batch_sent(3)
    outcomes = [ItemOutcome(1, ItemStatus.CREATED), ItemOutcome(2, ItemStatus.DUPLICATE),
                ItemOutcome(3, ItemStatus.CREATED)]
    stats.acknowledged(_records(1, 2, 3), outcomes, NOW, [0.05, 0.3, 400.0])
    snap = stats.snapshot(3, 3, NOW, 123)
    assert (snap["shipped_total"], snap["duplicates_total"], snap["batches_total"]) == (3, 1, 1)
    assert snap["state"] == "shipping" and snap["journal_bytes"] == 123
    histogram = snap["lag_histogram"]
    assert isinstance(histogram, dict)
    counts = histogram["counts"]
    assert counts[0] == 1 and counts[2] == 1 and counts[-1] == 1 and sum(counts) == 3
    assert histogram["sum"] == 400.35 and histogram["max"] == 400.0
    assert snap["last_ack_at"] == "2026-09-21T14:13:20.000Z"


def test_the_lag_in_seconds_runs_from_the_oldest_unshipped_event() -> None:
    stats = ShipperStats()
    stats.pending_since(NOW)
    stats.pending_since(NOW + 5)  # the first one holds
    assert stats.snapshot(10, 4, NOW + 2.5, 0)["lag_seconds"] == 2.5
    assert stats.snapshot(10, 4, NOW + 2.5, 0)["lag_events"] == 6
    stats.caught_up(10, 10)
    snap = stats.snapshot(10, 10, NOW + 9, 0)
    assert snap["state"] == "idle" and snap["lag_seconds"] == 0.0


def test_a_failure_backs_off_until_an_acknowledgement_and_keeps_a_bounded_error() -> None:
    stats = ShipperStats()
    stats.failed("connection refused " + "x" * 1000)
    stats.batch_sent(1)
    snap = stats.snapshot(1, 0, NOW, 0)
    assert snap["state"] == "backing_off" and snap["failures_total"] == 1
    assert isinstance(snap["last_error"], str) and len(snap["last_error"]) == 500
    stats.acknowledged(_records(1), [ItemOutcome(1, ItemStatus.CREATED)], NOW, [])
    assert stats.snapshot(1, 1, NOW, 0)["state"] == "shipping"


def test_a_retried_item_is_counted_and_named_in_the_last_error() -> None:
    stats = ShipperStats()
    stats.not_acknowledged(ItemOutcome(7, ItemStatus.RETRY, "busy"))
    stats.not_acknowledged(ItemOutcome(8, ItemStatus.REJECTED, "strict mapping"))
    snap = stats.snapshot(8, 6, NOW, 0)
    assert snap["retried_items_total"] == 1
    assert snap["last_error"] == "event 8: rejected: strict mapping"


def test_a_hold_outranks_failures_and_catching_up() -> None:
    stats = ShipperStats()
    stats.set_held((5, "a different event holds seq 5"), (Conflict(5, "hash differs"),))
    stats.failed("boom")
    stats.batch_sent(1)
    stats.caught_up(5, 5)
    snap = stats.snapshot(5, 4, NOW, 0)
    assert snap["state"] == "held"
    assert snap["held"] == {"seq": 5, "reason": "a different event holds seq 5"}
    assert snap["conflicts"] == [{"seq": 5, "detail": "hash differs"}]
    stats.stopped()
    assert stats.snapshot(5, 4, NOW, 0)["state"] == "stopped"


def test_trims_and_notes_are_reported() -> None:
    stats = ShipperStats()
    stats.trimmed(100)
    stats.trimmed(50)
    stats.note("waiting for the index")
    snap = stats.snapshot(0, 0, NOW, 0)
    assert (snap["trims_total"], snap["trimmed_bytes_total"]) == (2, 150)
    assert snap["note"] == "waiting for the index"

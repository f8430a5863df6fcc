"""The shipper: journal → index in order, exactly once, through outages, trimming only what
was acknowledged."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from audit_support import FlakyIndex, decision, journal, signer, sqlite_index, verifier_for
from guardian.audit.checkpoints import CheckpointSigner
from guardian.errors import AuditIndexUnavailable
from guardian.journal.ship_state import load_state
from guardian.journal.shipper import Shipper, ShipperConfig
from guardian.journal.verification import verify_index, verify_journal
from guardian.journal.writer import FileJournal

NOW = 1_790_000_000.0


@pytest.fixture
def key():  # type: ignore[no-untyped-def]
    return signer()


def _shipper(tmp_path: Path, j: FileJournal, index: object, **config: object) -> Shipper:
    options: dict[str, object] = {"fsync": False, "batch_size": 50, "initial_backoff_s": 0.01,
                                  "max_backoff_s": 0.05}
    options.update(config)
    return Shipper(j, index, tmp_path / "journal.jsonl.shipped",  # type: ignore[arg-type]
                   ShipperConfig(**options), lambda: NOW)  # type: ignore[arg-type]


def _fill(j: FileJournal, count: int) -> None:
    for n in range(count):
        j.append(decision(n))


def test_every_event_arrives_once_in_order_in_batches_of_the_configured_size(
    tmp_path: Path, key: CheckpointSigner
) -> None:
    j = journal(tmp_path / "journal.jsonl", key, every=10)
    _fill(j, 120)
    index = FlakyIndex(sqlite_index(tmp_path / "index.db"))
    shipper = _shipper(tmp_path, j, index, batch_size=50)

    result = shipper.drain(max_wait_s=1)

    assert result.caught_up and result.shipped == j.last_seq == 132  # 120 + 12 checkpoints
    assert [int(e.doc_id) for e in index.events_in_order()] == list(range(1, 133))
    assert index.calls == 3 + 3  # 132 events in batches of 50, each with checkpoint copies
    assert load_state(tmp_path / "journal.jsonl.shipped").seq == 132
    assert verify_index(index, verifier_for(key), shipped=shipper.state).ok


def test_an_index_that_is_down_loses_nothing_and_shipping_resumes(tmp_path: Path, key: CheckpointSigner) -> None:
    j = journal(tmp_path / "journal.jsonl", key)
    index = FlakyIndex(sqlite_index(tmp_path / "index.db"))
    shipper = _shipper(tmp_path, j, index)
    _fill(j, 30)
    index.down = True

    with pytest.raises(AuditIndexUnavailable):
        shipper.drain(max_wait_s=0.2)
    _fill(j, 30)  # decisions go on meanwhile
    stats = shipper.stats()
    assert stats["shipped_seq"] == 0 and stats["lag_events"] == j.last_seq
    assert int(str(stats["failures_total"])) >= 2 and "index down" in str(stats["last_error"])

    index.down = False
    assert shipper.drain(max_wait_s=1).caught_up
    assert index.count() == j.last_seq == 66
    assert shipper.stats()["lag_events"] == 0


def test_a_lost_ship_state_resends_and_the_index_answers_duplicates(
    tmp_path: Path, key: CheckpointSigner
) -> None:
    j = journal(tmp_path / "journal.jsonl", key)
    index = sqlite_index(tmp_path / "index.db")
    _fill(j, 40)
    _shipper(tmp_path, j, index).drain(max_wait_s=1)
    (tmp_path / "journal.jsonl.shipped").unlink()

    again = _shipper(tmp_path, j, index)
    result = again.drain(max_wait_s=1)

    assert result.caught_up and not result.conflicts
    assert again.stats()["duplicates_total"] == j.last_seq
    assert index.count() == j.last_seq


def test_events_the_index_asks_to_retry_are_sent_again_and_nothing_after_them_is_skipped(
    tmp_path: Path, key: CheckpointSigner
) -> None:
    j = journal(tmp_path / "journal.jsonl", key)
    index = FlakyIndex(sqlite_index(tmp_path / "index.db"))
    shipper = _shipper(tmp_path, j, index)
    _fill(j, 20)
    index.retry = {7}

    with pytest.raises(AuditIndexUnavailable):
        shipper.drain(max_wait_s=0.1)
    assert shipper.state.seq == 6
    index.retry = set()
    assert shipper.drain(max_wait_s=1).caught_up
    assert [int(e.doc_id) for e in index.events_in_order()] == list(range(1, j.last_seq + 1))


def test_an_event_refused_for_good_holds_the_shipper_there(tmp_path: Path, key: CheckpointSigner) -> None:
    j = journal(tmp_path / "journal.jsonl", key)
    index = FlakyIndex(sqlite_index(tmp_path / "index.db"))
    shipper = _shipper(tmp_path, j, index)
    _fill(j, 20)
    index.reject = {9}

    result = shipper.drain(max_wait_s=1)

    assert result.held == (9, "strict mapping (test)") and not result.caught_up
    assert shipper.state.seq == 8
    assert shipper.stats()["state"] == "held"
    index.reject = set()  # the mapping was fixed (`guardian audit init`)
    assert shipper.drain(max_wait_s=1).caught_up


def test_the_sqlite_index_refuses_a_field_the_strict_mapping_lacks(tmp_path: Path, key: CheckpointSigner) -> None:
    j = journal(tmp_path / "journal.jsonl", key)
    j.append({**decision(1), "guardian": {**decision(1)["guardian"], "colour": "red"}})
    shipper = _shipper(tmp_path, j, sqlite_index(tmp_path / "index.db"))

    result = shipper.drain(max_wait_s=1)

    assert result.held is not None and result.held[0] == 1
    assert "guardian.colour is not in the strict mapping" in result.held[1]


def test_a_different_document_under_a_sequence_number_is_a_conflict_kept_as_evidence(
    tmp_path: Path, key: CheckpointSigner
) -> None:
    index = sqlite_index(tmp_path / "index.db")
    other = journal(tmp_path / "other.jsonl", key)
    _fill(other, 5)  # another trail already wrote seqs 1..5 into this index
    Shipper(other, index, tmp_path / "other.shipped", ShipperConfig(fsync=False),
            lambda: NOW).drain(max_wait_s=1)
    j = journal(tmp_path / "journal.jsonl", key)
    for n in range(8):
        j.append(decision(100 + n, user="bob"))
    shipper = _shipper(tmp_path, j, index, trim_bytes=1)

    result = shipper.drain(max_wait_s=1)

    assert [c.seq for c in result.conflicts] == [1, 2, 3, 4, 5]
    assert shipper.stats()["conflicts"][0]["seq"] == 1  # type: ignore[index]
    assert load_state(tmp_path / "journal.jsonl.shipped").conflicts[0].seq == 1
    assert j.read_records(0, 1)[0].seq == 1  # never trimmed past a conflict


def test_the_journal_is_trimmed_only_up_to_an_acknowledged_checkpoint_and_still_verifies(
    tmp_path: Path, key: CheckpointSigner
) -> None:
    j = journal(tmp_path / "journal.jsonl", key, every=10)
    index = FlakyIndex(sqlite_index(tmp_path / "index.db"))
    _fill(j, 95)
    shipper = _shipper(tmp_path, j, index, trim_bytes=2000, batch_size=30)

    assert shipper.drain(max_wait_s=1).caught_up

    first = j.read_records(0, 1)[0]
    assert first.is_checkpoint and first.seq > 1
    assert int(str(shipper.stats()["trims_total"])) >= 1
    report = verify_journal(j.path, verifier_for(key), shipped=shipper.state)
    assert report.ok and report.first_seq == first.seq and report.last_seq == j.last_seq
    _fill(j, 5)  # appending and shipping go on after a trim
    assert shipper.drain(max_wait_s=1).caught_up and index.count() == j.last_seq


def test_nothing_is_trimmed_while_the_index_is_behind(tmp_path: Path, key: CheckpointSigner) -> None:
    j = journal(tmp_path / "journal.jsonl", key, every=10)
    index = FlakyIndex(sqlite_index(tmp_path / "index.db"))
    _fill(j, 50)
    size = j.durable_offset
    index.down = True
    shipper = _shipper(tmp_path, j, index, trim_bytes=1)

    with pytest.raises(AuditIndexUnavailable):
        shipper.drain(max_wait_s=0.05)

    assert j.durable_offset == size and j.read_records(0, 1)[0].seq == 1


def test_a_stale_offset_after_a_trim_is_found_again_by_sequence_number(
    tmp_path: Path, key: CheckpointSigner
) -> None:
    j = journal(tmp_path / "journal.jsonl", key, every=10)
    index = sqlite_index(tmp_path / "index.db")
    _fill(j, 60)
    shipper = _shipper(tmp_path, j, index, trim_bytes=2000)
    shipper.drain(max_wait_s=1)
    state_file = tmp_path / "journal.jsonl.shipped"
    stale = state_file.read_bytes().replace(b'"offset":', b'"offset":1')  # a crash's leftover
    state_file.write_bytes(stale)
    _fill(j, 10)

    again = _shipper(tmp_path, j, index)
    assert again.drain(max_wait_s=1).caught_up
    assert index.count() == j.last_seq and again.stats()["duplicates_total"] == 0


def test_the_background_thread_ships_within_the_interval_and_signs_by_time(
    tmp_path: Path, key: CheckpointSigner
) -> None:
    from audit_support import Ticks

    ticks = Ticks()
    j = journal(tmp_path / "journal.jsonl", key, every=1000, ticks=ticks)
    index = sqlite_index(tmp_path / "index.db")
    shipper = _shipper(tmp_path, j, index, interval_s=0.05, batch_size=1000)
    shipper.start()
    try:
        _fill(j, 3)
        ticks.now += 61  # a checkpoint is due by time
        deadline = time.monotonic() + 5
        while index.count() < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        shipper.stop()
    assert index.count() == 4 == j.last_seq
    assert [e.event["event"]["action"] for e in index.events_in_order()][-1] == \
        "audit.checkpoint"
    assert shipper.stats()["state"] == "stopped"

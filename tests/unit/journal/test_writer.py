"""The local journal: chained appends, durability across reopen, recovery, group commit, failure."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from guardian.audit.chain import GENESIS, recompute
from guardian.audit.records import AuditReceipt
from guardian.errors import AuditUnavailable
from guardian.journal.verification import verify_journal
from guardian.journal.writer import FileJournal, read_events


def _events(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(raw) for _, raw in read_events(path)]


def _event(n: int) -> dict[str, Any]:
    return {"event": {"action": "access.decision"}, "user": {"id": f"u{n}"},
            "guardian": {"decision_id": f"d{n}"}}


def _fail_once(real: Callable[..., object], error: int) -> Callable[..., object]:
    calls = {"n": 0}

    def flaky(*args: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(error, os.strerror(error))
        return real(*args)

    return flaky


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "audit" / "journal.jsonl"


def test_appends_get_consecutive_seqs_and_each_chains_to_the_one_before(path: Path) -> None:
    journal = FileJournal(path)

    receipts = [journal.append(_event(n)) for n in range(1, 4)]

    assert [r.seq for r in receipts] == [1, 2, 3]
    events = _events(path)
    assert [e["guardian"]["seq"] for e in events] == [1, 2, 3]
    assert [e["guardian"]["prev_hash"] for e in events] == [
        GENESIS, receipts[0].hash, receipts[1].hash]
    assert [e["guardian"]["hash"] for e in events] == [r.hash for r in receipts]
    assert all(recompute(e) == e["guardian"]["hash"] for e in events)
    assert (journal.last_seq, journal.last_hash) == (3, receipts[-1].hash)


def test_an_appended_event_keeps_its_content_and_guardian_fields(path: Path) -> None:
    journal = FileJournal(path)
    event = _event(1)

    journal.append(event)

    (written,) = _events(path)
    assert written["user"] == {"id": "u1"}
    assert written["guardian"]["decision_id"] == "d1"
    assert "seq" not in event["guardian"]


def test_append_many_returns_one_receipt_per_event_in_order(path: Path) -> None:
    journal = FileJournal(path)
    journal.append(_event(0))

    receipts = journal.append_many([_event(n) for n in range(1, 5)])

    assert [r.seq for r in receipts] == [2, 3, 4, 5]
    assert [e["guardian"]["hash"] for e in _events(path)][1:] == [r.hash for r in receipts]
    assert journal.append_many([]) == []
    assert len(_events(path)) == 5


def test_a_reopened_journal_continues_the_seq_and_the_chain(path: Path) -> None:
    first = FileJournal(path)
    first.append_many([_event(1), _event(2)])
    last_hash = first.last_hash
    first.close()

    again = FileJournal(path)
    receipt = again.append(_event(3))

    assert (again.last_seq, receipt.seq) == (3, 3)
    assert _events(path)[-1]["guardian"]["prev_hash"] == last_hash
    report = verify_journal(path, None)
    assert (report.ok, report.events, report.last_seq) == (True, 3, 3)


def test_a_torn_last_line_is_cut_off_on_reopen_and_the_chain_continues(path: Path) -> None:
    first = FileJournal(path)
    first.append_many([_event(1), _event(2)])
    first.close()
    whole = path.stat().st_size
    with path.open("ab") as handle:
        handle.write(b'{"event":{"action":"access.decision"},"guardian":{"seq":3,"ha')

    again = FileJournal(path)

    assert path.stat().st_size == whole
    assert again.last_seq == 2
    assert again.append(_event(3)).seq == 3
    report = verify_journal(path, None)
    assert (report.ok, report.events, report.last_seq) == (True, 3, 3)


def test_a_journal_holding_only_a_torn_line_starts_from_genesis(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"guardian":{"seq":1')

    journal = FileJournal(path)
    receipt = journal.append(_event(1))

    assert receipt.seq == 1
    assert _events(path)[0]["guardian"]["prev_hash"] == GENESIS
    assert verify_journal(path, None).ok


def test_a_whole_but_unreadable_last_line_is_refused_not_cut(path: Path) -> None:
    first = FileJournal(path)
    first.append(_event(1))
    first.close()
    with path.open("ab") as handle:
        handle.write(b"this is not an event\n")
    before = path.read_bytes()

    journal = FileJournal(path)

    with pytest.raises(AuditUnavailable):
        journal.append(_event(2))
    assert path.read_bytes() == before


def test_concurrent_appends_form_a_gap_free_chain_with_grouped_fsyncs(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads, per_thread = 8, 500
    syncs = {"n": 0}
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        syncs["n"] += 1
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    journal = FileJournal(path)
    receipts: dict[int, list[AuditReceipt]] = {}
    start = threading.Barrier(threads)

    def worker(t: int) -> None:
        start.wait()
        receipts[t] = [journal.append({"t": t, "k": k}) for k in range(per_thread)]

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()

    total = threads * per_thread
    all_receipts = [r for rs in receipts.values() for r in rs]
    assert sorted(r.seq for r in all_receipts) == list(range(1, total + 1))
    for rs in receipts.values():
        assert [r.seq for r in rs] == sorted(r.seq for r in rs)
    by_seq = {e["guardian"]["seq"]: e for e in _events(path)}
    assert all(by_seq[r.seq]["guardian"]["hash"] == r.hash for r in all_receipts)
    report = verify_journal(path, None)
    assert (report.ok, report.events, report.last_seq) == (True, total, total)
    assert 0 < syncs["n"] < total


def test_an_unwritable_device_makes_appends_unavailable() -> None:
    full = Path("/dev/full")
    if not full.exists() or not os.access(full, os.W_OK):
        pytest.skip("/dev/full is not available")
    journal = FileJournal(full)

    with pytest.raises(AuditUnavailable):
        journal.append(_event(1))
    with pytest.raises(AuditUnavailable):
        journal.append(_event(2))
    assert journal.last_seq == 0


def test_a_failed_fsync_refuses_the_event_and_leaves_no_orphan_behind(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = FileJournal(path)
    journal.append_many([_event(1), _event(2)])
    durable_size, durable_hash = path.stat().st_size, journal.last_hash
    monkeypatch.setattr(os, "fsync", _fail_once(os.fsync, errno.EIO))

    with pytest.raises(AuditUnavailable):
        journal.append(_event(3))

    assert path.stat().st_size == durable_size
    assert (journal.last_seq, journal.last_hash) == (2, durable_hash)
    receipt = journal.append(_event(4))
    assert receipt.seq == 3
    events = _events(path)
    assert events[-1]["user"]["id"] == "u4"
    assert events[-1]["guardian"]["prev_hash"] == durable_hash
    report = verify_journal(path, None)
    assert (report.ok, report.events, report.last_seq) == (True, 3, 3)


def test_a_write_failing_half_way_is_cut_back_to_the_last_durable_event(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = FileJournal(path)
    journal.append(_event(1))
    durable_size = path.stat().st_size
    real_write = os.write
    calls = {"n": 0}

    def short_then_full(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", short_then_full)
    with pytest.raises(AuditUnavailable):
        journal.append_many([_event(2), _event(3)])
    monkeypatch.setattr(os, "write", real_write)

    assert path.stat().st_size == durable_size
    assert journal.append(_event(4)).seq == 2
    report = verify_journal(path, None)
    assert (report.ok, report.events) == (True, 2)


def test_a_journal_whose_parent_is_a_file_is_unavailable_until_it_can_be_created(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "audit"
    blocker.write_text("not a directory")
    journal = FileJournal(blocker / "journal.jsonl")

    with pytest.raises(AuditUnavailable, match="cannot be opened"):
        journal.append(_event(1))

    blocker.unlink()
    assert journal.append(_event(1)).seq == 1


def test_a_closed_journal_reopens_on_the_next_append(path: Path) -> None:
    journal = FileJournal(path)
    journal.append(_event(1))
    journal.close()

    assert journal.append(_event(2)).seq == 2
    assert verify_journal(path, None).events == 2


def test_an_unserialisable_batch_is_refused_whole_and_the_chain_goes_on(path: Path) -> None:
    journal = FileJournal(path)

    with pytest.raises(AuditUnavailable):
        journal.append_many([_event(1), {"bad": object()}])
    receipt = journal.append(_event(2))

    assert receipt.seq == 1
    assert [e["user"]["id"] for e in _events(path)] == ["u2"]
    assert verify_journal(path, None).ok

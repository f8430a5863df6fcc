"""Journal files by byte offset: whole events read (seal lines skipped, a torn line never
read, a line longer than the chunk too), offsets found, the tail copied for a trim, the
one-writer lock, the file identity check, and a torn last line cut off on opening."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from guardian.audit.records import CHECKPOINT_ACTION
from guardian.errors import ChainBroken
from guardian.journal import files
from guardian.journal.files import (
    JournalReader,
    copy_tail,
    identity_problem,
    lock_exclusively,
    recover_tail,
    starts_with_checkpoint,
)


def _line(seq: int, action: str = "access.decision", pad: int = 0) -> bytes:
    return orjson.dumps({"event": {"action": action}, "guardian": {"seq": seq},
                         "pad": "x" * pad}) + b"\n"


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(_line(1) + b'{"seal":{"seq":1}}\n' + _line(2, CHECKPOINT_ACTION)
                     + _line(3))
    yield path


def test_events_are_read_whole_seals_skipped_and_offsets_kept(journal: Path) -> None:
    reader = JournalReader(journal)
    size = journal.stat().st_size
    records = reader.read(0, size, 100)
    assert [r.seq for r in records] == [1, 2, 3]
    data = journal.read_bytes()
    assert all(data[r.offset:r.end] == r.raw + b"\n" for r in records)
    assert [r.seq for r in reader.read(records[1].offset, size, 1)] == [2]
    reader.close()


def test_a_line_longer_than_the_chunk_is_read(journal: Path, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    monkeypatch.setattr(files, "_CHUNK", 16)
    with journal.open("ab") as out:
        out.write(_line(4, pad=200))
    reader = JournalReader(journal)
    assert [r.seq for r in reader.read(0, journal.stat().st_size, 100)] == [1, 2, 3, 4]


def _read_in_thread(reader: JournalReader, offset: int, end: int) -> list[int] | None:
    """The seqs read, or None if the read did not return within 5 s (it looped)."""
    import threading

    out: list[int] = []
    worker = threading.Thread(
        target=lambda: out.extend(r.seq for r in reader.read(offset, end, 100)), daemon=True)
    worker.start()
    worker.join(5)
    return None if worker.is_alive() else out


@pytest.mark.parametrize("chunk", [16, 1 << 16])
def test_bytes_after_the_last_whole_line_before_the_end_are_not_read_and_the_read_returns(
    journal: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(files, "_CHUNK", chunk)
    whole = journal.stat().st_size
    with journal.open("ab") as out:
        out.write(_line(4)[:-9])  # a torn line: no newline before the end
    reader = JournalReader(journal)

    assert _read_in_thread(reader, 0, journal.stat().st_size) == [1, 2, 3]
    assert _read_in_thread(reader, whole, journal.stat().st_size) == []
    assert _read_in_thread(reader, 0, whole + 10 ** 6) == [1, 2, 3]  # end past the file


def test_an_unreadable_line_breaks_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(_line(1) + b"not json\n")
    with pytest.raises(ChainBroken, match="unreadable at byte"):
        JournalReader(path).read(0, path.stat().st_size, 10)


def test_offsets_of_events_and_of_the_one_after_the_last(journal: Path) -> None:
    reader = JournalReader(journal)
    size = journal.stat().st_size
    records = reader.read(0, size, 10)
    assert reader.offset_of(3, size) == records[2].offset
    assert reader.offset_of(4, size) == size
    assert reader.offset_of(9, size) is None


def test_the_reader_reopens_a_replaced_journal(journal: Path) -> None:
    reader = JournalReader(journal)
    reader.read(0, journal.stat().st_size, 10)
    replacement = journal.with_suffix(".new")
    replacement.write_bytes(_line(7))
    os.replace(replacement, journal)
    assert [r.seq for r in reader.read(0, journal.stat().st_size, 10)] == [7]


def test_the_tail_is_copied_from_a_checkpoint_into_a_locked_file(journal: Path) -> None:
    size = journal.stat().st_size
    records = JournalReader(journal).read(0, size, 10)
    fd = os.open(journal, os.O_RDONLY)
    try:
        assert starts_with_checkpoint(fd, records[1].offset, size)
        assert not starts_with_checkpoint(fd, 0, size)
        target = journal.with_suffix(".trim")
        new = copy_tail(fd, records[1].offset, size, target, fsync=True)
        try:
            assert target.read_bytes() == journal.read_bytes()[records[1].offset:]
            with pytest.raises(OSError, match="another writer"):
                lock_exclusively(os.open(target, os.O_RDWR), target)
        finally:
            os.close(new)
        with pytest.raises(OSError, match="ended before"):
            copy_tail(fd, 0, size + 10, target, fsync=False)
        assert not target.exists()
    finally:
        os.close(fd)


def test_the_identity_check_names_an_unlinked_or_replaced_journal(journal: Path) -> None:
    fd = os.open(journal, os.O_RDONLY)
    try:
        assert identity_problem(fd, journal) is None
        other = journal.with_suffix(".other")
        other.write_bytes(b"")
        os.replace(other, journal)
        assert identity_problem(fd, journal) == f"{journal} was unlinked while open"
    finally:
        os.close(fd)
    fd = os.open(journal, os.O_RDONLY)
    try:
        os.link(journal, journal.with_suffix(".keep"))
        journal.unlink()
        assert identity_problem(fd, journal) == f"{journal} was removed while open"
        journal.write_bytes(b"")
        assert identity_problem(fd, journal) == f"{journal} was replaced by another file while open"
    finally:
        os.close(fd)


def test_a_torn_last_line_is_cut_off_on_opening(journal: Path) -> None:
    whole = journal.read_bytes()
    with journal.open("ab") as out:
        out.write(b'{"event":{"act')
    fd = os.open(journal, os.O_RDWR)
    try:
        end, last = recover_tail(fd)
        assert end == len(whole) and last is not None and last["guardian"]["seq"] == 3
        assert journal.read_bytes() == whole
    finally:
        os.close(fd)


def test_an_empty_or_all_torn_journal_recovers_to_nothing(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDWR)
    assert recover_tail(fd) == (0, None)
    os.close(fd)
    path.write_bytes(b'{"torn')
    fd = os.open(path, os.O_RDWR)
    assert recover_tail(fd) == (0, None) and path.read_bytes() == b""
    os.close(fd)

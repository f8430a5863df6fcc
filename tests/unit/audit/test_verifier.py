"""Re-walking the chain names the first event modified, removed, inserted or reordered: the
product's own walk (``verify_trail`` over ``journal_file_items``, as ``guardian audit verify``
runs it through ``verify_journal``) on journal files, signatures unchecked: the bare chain."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from guardian.audit.chain import GENESIS, seal
from guardian.audit.verdict import Break, ChainReport
from guardian.audit.verifier import Expectations, journal_file_items, verify_trail
from guardian.journal.writer import FileJournal, read_events

EVENTS = 6
NOTHING_KNOWN = Expectations()


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    journal = FileJournal(path, fsync=False)
    journal.append_many([{"user": {"id": f"u{n}"}, "guardian": {"n": n}}
                         for n in range(1, EVENTS + 1)])
    journal.close()
    return path


def _lines(path: Path) -> list[bytes]:
    return [raw for _, raw in read_events(path)]


def _walk(path: Path, expect: Expectations = NOTHING_KNOWN,
          progress: Callable[[int], None] | None = None) -> ChainReport:
    """The product's walk of a journal file, as ``verify_journal`` runs it (no pinned keys)."""
    return verify_trail(journal_file_items(path), verifier=None, expect=expect,
                        progress=progress)


def _walk_lines(folder: Path, lines: list[bytes], expect: Expectations = NOTHING_KNOWN,
                progress: Callable[[int], None] | None = None) -> ChainReport:
    """Write ``lines`` as a journal file of their own and walk it."""
    path = folder / "edited.jsonl"
    path.write_bytes(b"".join(lines))
    return _walk(path, expect, progress)


def _event(raw: bytes) -> dict[str, Any]:
    event: dict[str, Any] = orjson.loads(raw)
    return event


def _line(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS) + b"\n"


def test_a_clean_journal_verifies_with_its_count_and_last_event(journal_path: Path) -> None:
    last = _event(_lines(journal_path)[-1])

    report = _walk(journal_path)

    assert report.ok
    assert (report.events, report.first_seq, report.last_seq) == (EVENTS, 1, EVENTS)
    assert report.last_hash == last["guardian"]["hash"]
    assert report.broken_at is None


def test_an_empty_journal_verifies_with_nothing_in_it(tmp_path: Path) -> None:
    report = _walk_lines(tmp_path, [])

    assert report.ok
    assert (report.events, report.first_seq, report.last_seq) == (0, None, None)
    assert report.last_hash == GENESIS


def test_a_modified_event_that_kept_its_hash_is_named(journal_path: Path) -> None:
    lines = _lines(journal_path)
    event = _event(lines[2])
    event["user"]["id"] = "someone-else"
    lines[2] = _line(event)

    report = _walk_lines(journal_path.parent, lines)

    assert (report.problem, report.broken_at) == (Break.MODIFIED, 3)
    assert (report.events, report.last_seq) == (2, 2)
    assert "line 3" in report.detail


def test_a_modified_seq_is_named_at_its_place(journal_path: Path) -> None:
    lines = _lines(journal_path)
    event = _event(lines[3])
    event["guardian"]["seq"] = 40
    lines[3] = _line(event)

    report = _walk_lines(journal_path.parent, lines)

    assert (report.problem, report.broken_at) == (Break.REORDERED, 4)
    assert "event 40" in report.detail


def test_a_removed_event_is_named(journal_path: Path) -> None:
    lines = _lines(journal_path)
    del lines[2]

    report = _walk_lines(journal_path.parent, lines)

    assert (report.problem, report.broken_at) == (Break.REMOVED, 3)
    assert report.last_seq == 2


def test_an_inserted_event_with_a_valid_own_hash_is_detected(journal_path: Path) -> None:
    lines = _lines(journal_path)
    second = _event(lines[1])
    forged, _ = seal({"user": {"id": "mallory"}}, 3, second["guardian"]["hash"])
    lines.insert(2, _line(forged))

    report = _walk_lines(journal_path.parent, lines)

    # The forgery chains to event 2 and hashes right; the genuine event 3 then repeats its seq.
    assert (report.problem, report.broken_at) == (Break.INSERTED, 3)
    assert "two events carry seq 3" in report.detail
    assert report.events == 3


def test_two_swapped_events_are_detected_at_the_first_swapped_position(
    journal_path: Path,
) -> None:
    lines = _lines(journal_path)
    lines[2], lines[3] = lines[3], lines[2]

    report = _walk_lines(journal_path.parent, lines)

    assert (report.problem, report.broken_at) == (Break.REORDERED, 3)
    assert "event 3 comes after event 4 (line 3)" in report.detail
    assert report.last_seq == 2


@pytest.mark.parametrize(
    "garbage",
    [b"not json\n", b"\n", b"[]\n", b'"text"\n', b'{"guardian": {"seq": "x"}}\n',
     b'{"guardian": {"seq": 4, "prev_hash": "00"}}\n', b'{"guardian": []}\n'],
)
def test_an_unreadable_line_is_named_by_its_line_number(
    journal_path: Path, garbage: bytes
) -> None:
    lines = _lines(journal_path)
    lines[3] = garbage

    report = _walk_lines(journal_path.parent, lines)

    assert (report.problem, report.broken_at) == (Break.UNREADABLE, 4)
    assert (report.events, report.last_seq) == (3, 3)


def test_a_truncated_tail_is_unreadable(journal_path: Path) -> None:
    lines = _lines(journal_path)
    lines[-1] = lines[-1][: len(lines[-1]) // 2]

    report = _walk_lines(journal_path.parent, lines)

    assert (report.problem, report.broken_at) == (Break.UNREADABLE, EVENTS)
    assert report.last_seq == EVENTS - 1


def test_a_rechained_journal_that_skips_a_seq_names_the_missing_event(tmp_path: Path) -> None:
    prev, lines = GENESIS, []
    for seq in (1, 2, 4):
        event, prev = seal({"n": seq}, seq, prev)
        lines.append(_line(event))

    report = _walk_lines(tmp_path, lines)

    assert (report.problem, report.broken_at) == (Break.REMOVED, 3)
    assert "from event 2 to event 4" in report.detail


def test_a_trimmed_journal_verifies_only_when_it_starts_with_a_checkpoint(
    journal_path: Path,
) -> None:
    # What verify_journal expects of a journal: a trim always leaves a checkpoint at its head.
    lines = _lines(journal_path)
    tail = lines[3:]

    anchored = _walk_lines(journal_path.parent, tail)
    cut = _walk_lines(journal_path.parent, tail, Expectations(head_checkpoint=True))

    assert anchored.ok and (anchored.first_seq, anchored.last_seq) == (4, EVENTS)
    assert anchored.start_hash == _event(lines[2])["guardian"]["hash"]
    assert any("the trail starts at event 4" in note for note in anchored.notes)
    assert (cut.problem, cut.broken_at) == (Break.REMOVED, 1)
    assert "starts at event 4 without a checkpoint" in cut.detail


def test_progress_is_reported_every_ten_thousand_events(tmp_path: Path) -> None:
    prev, lines = GENESIS, []
    for seq in range(1, 20_001):
        event, prev = seal({}, seq, prev)
        lines.append(_line(event))
    seen: list[int] = []

    report = _walk_lines(tmp_path, lines, progress=seen.append)

    assert report.ok
    assert seen == [10_000, 20_000]


def test_a_line_too_deeply_nested_to_rehash_is_reported_not_raised(journal_path: Path) -> None:
    # orjson reads 1024 levels of nesting but writes only 254: such a line cannot be re-hashed.
    lines = _lines(journal_path)
    lines[1] = lines[1][:-2] + b',"x":' + b"[" * 300 + b"]" * 300 + b"}\n"

    report = _walk_lines(journal_path.parent, lines)

    assert (report.problem, report.broken_at) == (Break.UNREADABLE, 2)
    assert report.events == 1

"""Re-walking the hash chain: finds the first event modified, removed, inserted or reordered.

Each event must hash to the ``guardian.hash`` it carries, carry the previous event's hash as its
``guardian.prev_hash``, and have the next sequence number. The first event that breaks any of
these is named, with what is wrong, so an auditor knows where to look.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from guardian.audit.chain import GENESIS, recompute


class Break(StrEnum):
    MODIFIED = "modified"
    """An event's content no longer matches its own hash."""
    LINK_BROKEN = "link_broken"
    """An event does not chain to the one before: something was removed, inserted or reordered."""
    SEQUENCE_GAP = "sequence_gap"
    UNREADABLE = "unreadable"
    REMOVED = "removed"
    """Events are missing between two that are there."""
    INSERTED = "inserted"
    """An event that was never journalled is there (a second event with a sequence number)."""
    REORDERED = "reordered"
    """Events were swapped or moved (an event sealed at another place, or stored under the id
    of another)."""
    TRUNCATED = "truncated"
    """The trail ends before an event known to exist (checkpointed or acknowledged)."""
    CHECKPOINT_INVALID = "checkpoint_invalid"
    """A checkpoint does not verify, or does not match the chain: it was replaced or forged."""


@dataclass(frozen=True, slots=True)
class KeyUse:
    """The checkpoints of a trail signed with one key: how many, the first and the last."""

    key_id: str
    checkpoints: int
    first_seq: int
    last_seq: int


def merge_key_uses(parts: Iterable[Iterable[KeyUse]]) -> tuple[KeyUse, ...]:
    """Key uses of consecutive slices of one trail, summed per key, in order of first use."""
    merged: dict[str, KeyUse] = {}
    for uses in parts:
        for use in uses:
            had = merged.get(use.key_id)
            merged[use.key_id] = use if had is None else KeyUse(
                use.key_id, had.checkpoints + use.checkpoints,
                min(had.first_seq, use.first_seq), max(had.last_seq, use.last_seq))
    return tuple(sorted(merged.values(), key=lambda u: u.first_seq))


@dataclass(frozen=True, slots=True)
class ChainReport:
    events: int
    first_seq: int | None
    last_seq: int | None
    last_hash: str
    broken_at: int | None = None
    """Sequence number (or line, when unreadable) of the first bad event."""
    problem: Break | None = None
    detail: str = ""
    checkpoints: int = 0
    """Checkpoint signatures verified."""
    last_checkpoint_seq: int | None = None
    doc_id: str | None = None
    """The index document at fault, when the trail comes from an index."""
    notes: tuple[str, ...] = ()
    start_hash: str | None = None
    """The ``prev_hash`` of the first event walked (what the trail hangs from)."""
    keys: tuple[KeyUse, ...] = ()
    """The key id of every checkpoint walked, summed per key (signed or not yet checked)."""

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_lines(
    lines: Iterable[tuple[int, bytes]],
    *,
    start_hash: str = GENESIS,
    start_seq: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ChainReport:
    """Walk raw journal lines (line number, bytes) and stop at the first break."""
    prev_hash, expected_seq = start_hash, start_seq
    first_seq: int | None = None
    count = 0
    for number, raw in lines:
        try:
            event: dict[str, Any] = orjson.loads(raw)
            seq = int(event["guardian"]["seq"])
            stored = str(event["guardian"]["hash"])
            prev = str(event["guardian"]["prev_hash"])
            actual = recompute(event)
        except (ValueError, KeyError, TypeError) as exc:
            return _broken(count, first_seq, expected_seq, prev_hash, number, Break.UNREADABLE,
                           f"line {number} is not a journal event: {exc}")
        if first_seq is None:
            first_seq = seq
            expected_seq = seq if expected_seq is None else expected_seq
        if actual != stored:
            return _broken(count, first_seq, expected_seq, prev_hash, seq, Break.MODIFIED,
                           f"event {seq} (line {number}) does not match its hash")
        if prev != prev_hash:
            return _broken(count, first_seq, expected_seq, prev_hash, seq, Break.LINK_BROKEN,
                           f"event {seq} (line {number}) does not chain to the event before it")
        if seq != expected_seq:
            return _broken(count, first_seq, expected_seq, prev_hash, seq, Break.SEQUENCE_GAP,
                           f"event {seq} (line {number}) where {expected_seq} was expected")
        prev_hash = stored
        expected_seq = seq + 1
        count += 1
        if progress is not None and count % 10_000 == 0:
            progress(count)
    last_seq = None if expected_seq is None or count == 0 else expected_seq - 1
    return ChainReport(count, first_seq, last_seq, prev_hash)


def _broken(
    count: int, first_seq: int | None, expected: int | None, last_hash: str, at: int,
    problem: Break, detail: str,
) -> ChainReport:
    last_seq = None if expected is None or count == 0 else expected - 1
    return ChainReport(count, first_seq, last_seq, last_hash, at, problem, detail)

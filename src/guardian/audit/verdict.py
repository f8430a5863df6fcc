"""What a walk of the hash chain reports: the first break found, or what was verified.

Each event must hash to the ``guardian.hash`` it carries, carry the previous event's hash as its
``guardian.prev_hash``, and have the next sequence number. The first event that breaks any of
these is named, with what is wrong, so an auditor knows where to look. The walk itself is
:func:`guardian.audit.verifier.verify_trail`, the one verifier of journal and index alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


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

"""What a walk of the hash chain reports: the first break found, or what was verified.

Each event must hash to the ``guardian.hash`` it carries, carry the previous event's hash as its
``guardian.prev_hash``, and have the next sequence number. The first event that breaks any of
these is named, with what is wrong, so an auditor knows where to look. The walk itself is
:func:`guardian.audit.verifier.verify_trail`, the one verifier of journal and index alike; a
trail of several writers is one :class:`ChainReport` per writer in a :class:`TrailVerdict`.
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
    writer: str = ""
    """Whose chain this is (:mod:`guardian.audit.writers`; empty: events without a writer)."""

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class TrailVerdict:
    """Every writer's chain of a trail, each walked on its own, in writer order. Reads like
    the first broken chain's report (or like the sums, when all hold), so that a caller that
    wants one answer gets the one that matters."""

    chains: tuple[ChainReport, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.chains)

    @property
    def broken(self) -> ChainReport | None:
        return next((c for c in self.chains if not c.ok), None)

    @property
    def writer(self) -> str | None:
        """The writer whose chain broke (``None`` when every chain holds)."""
        broken = self.broken
        return None if broken is None else broken.writer

    @property
    def problem(self) -> Break | None:
        broken = self.broken
        return None if broken is None else broken.problem

    @property
    def detail(self) -> str:
        broken = self.broken
        return "" if broken is None else broken.detail

    @property
    def broken_at(self) -> int | None:
        broken = self.broken
        return None if broken is None else broken.broken_at

    @property
    def doc_id(self) -> str | None:
        broken = self.broken
        return None if broken is None else broken.doc_id

    @property
    def events(self) -> int:
        return sum(c.events for c in self.chains)

    @property
    def checkpoints(self) -> int:
        return sum(c.checkpoints for c in self.chains)

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for c in self.chains for n in c.notes))

    @property
    def keys(self) -> tuple[KeyUse, ...]:
        return merge_key_uses(c.keys for c in self.chains)

    @property
    def _one(self) -> ChainReport | None:
        """The chain a single-chain question is about: the broken one, or the only one."""
        broken = self.broken
        return broken if broken is not None else (self.chains[0] if len(self.chains) == 1
                                                  else None)

    @property
    def first_seq(self) -> int | None:
        one = self._one
        return None if one is None else one.first_seq

    @property
    def last_seq(self) -> int | None:
        one = self._one
        return None if one is None else one.last_seq

    @property
    def last_hash(self) -> str:
        one = self._one
        return "" if one is None else one.last_hash

    @property
    def last_checkpoint_seq(self) -> int | None:
        one = self._one
        return None if one is None else one.last_checkpoint_seq

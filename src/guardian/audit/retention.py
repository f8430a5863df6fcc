"""Retention of the audit trail where the index does not enforce it (no OpenSearch ISM).

The trail is kept ``GUARDIAN_AUDIT_RETENTION_DAYS``, then erased. With the ISM plugin,
OpenSearch rolls the write index over and deletes old indices itself, and this job does
nothing. Without it, :class:`RetentionJob` does the same work: it rolls the write alias over
when its index is older than ``GUARDIAN_AUDIT_ROLLOVER_DAYS`` (by its oldest event) or too big,
then removes whole rolled-over indices whose newest event is past retention (on the embedded
index: the oldest rows, in sequence order). Each removal is journalled first, as an
``audit.retention_applied`` event naming what goes (index or date range, event count, first
and last sequence number), and only then done, so verification can tell a gap left by
retention from one left by an intruder (:mod:`guardian.audit.verifier`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from guardian.audit.aggregations import DAY_MS
from guardian.audit.events import AuditAction, timestamp
from guardian.audit.records import Removal
from guardian.errors import InvalidRequest
from guardian.ports import AuditJournal, AuditRetention, Clock

ACTOR = "retention"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    retention_days: int
    rollover_days: int
    rollover_max_bytes: int

    def __post_init__(self) -> None:
        if self.retention_days < 1 or self.rollover_days < 1 or self.rollover_max_bytes < 1:
            raise InvalidRequest("retention and rollover limits must be positive")


@dataclass(frozen=True, slots=True)
class RetentionResult:
    managed_by: str | None
    """``ism`` when the index enforces retention itself (nothing was done), else ``None``."""
    dry_run: bool
    cutoff: str
    rolled_over: str | None = None
    """The index rolled over (or that would be), if any."""
    removals: tuple[Removal, ...] = ()


def retention_event(removal: Removal, cutoff_ms: int, retention_days: int,
                    at: float) -> dict[str, Any]:
    """The journalled record of one deletion, appended before the deletion is made."""
    return {
        "@timestamp": timestamp(at),
        "event": {"kind": "event", "category": ["configuration"],
                  "action": AuditAction.RETENTION_APPLIED.value, "outcome": "success"},
        "user": {"id": ACTOR},
        "guardian": {"retention": {
            "kind": removal.kind, "target": removal.target, "events": removal.events,
            "first_seq": removal.first_seq, "last_seq": removal.last_seq,
            "oldest": timestamp(removal.oldest_ms / 1000),
            "newest": timestamp(removal.newest_ms / 1000),
            "cutoff": timestamp(cutoff_ms / 1000), "retention_days": retention_days,
            **({"writer": removal.writer} if removal.writer else {})}},
    }


class RetentionJob:
    """The retention use case: ``apply`` validates, journals each deletion, then deletes it."""

    def __init__(self, index: AuditRetention, journal: AuditJournal, clock: Clock,
                 policy: RetentionPolicy) -> None:
        self._index = index
        self._journal = journal
        self._clock = clock
        self._policy = policy

    def apply(self, *, dry_run: bool = False) -> RetentionResult:
        now = self._clock.now()
        now_ms = int(now * 1000)
        cutoff_ms = now_ms - self._policy.retention_days * DAY_MS
        cutoff = timestamp(cutoff_ms / 1000)
        if self._index.retention_managed():
            return RetentionResult("ism", dry_run, cutoff)
        limits = (now_ms, self._policy.rollover_days * DAY_MS, self._policy.rollover_max_bytes)
        planned = self._index.roll_over(*limits, dry_run=True)
        removals = tuple(self._index.expired(cutoff_ms))
        if dry_run or (planned is None and not removals):
            return RetentionResult(None, dry_run, cutoff, planned, removals)
        self._index.prepare()  # the index accepts the retention events before any is written
        rolled = self._index.roll_over(*limits)
        done: list[Removal] = []
        # One removal per writer's range; those of one target (an OpenSearch index holding
        # several writers' events) are all journalled before it is deleted.
        for _target, same in itertools.groupby(self._index.expired(cutoff_ms),
                                               key=lambda r: (r.kind, r.target)):
            group = list(same)
            self._journal.append_many([retention_event(r, cutoff_ms, self._policy.retention_days,
                                                       self._clock.now()) for r in group])
            for removal in group:
                self._index.remove(removal)
            done.extend(group)
        return RetentionResult(None, False, cutoff, rolled, tuple(done))

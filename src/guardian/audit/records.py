"""What travels between the journal, the shipper and an audit index: records and outcomes.

An :class:`AuditReceipt` is what the journal answers an append with (seq and hash). A
:class:`JournalRecord` is one sealed event as the journal holds it (its canonical JSON bytes,
parsed form and place in the file). An index answers each record with an :class:`ItemOutcome`:
created, already there and identical (a retry), a *conflict* (another document holds that
sequence number: a tamper signal), to retry later (the index was busy), or rejected for good
(the index refuses the document, e.g. a field its strict mapping does not know).

A *seal* line (:data:`SEAL_PREFIX`) follows every group commit in the journal: a signature over
the (seq, hash) of the group's last event. It is not an event (no sequence number, never
shipped); readers skip it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from guardian.audit.writers import event_doc_id

CHECKPOINT_ACTION = "audit.checkpoint"
SEAL_PREFIX = b'{"seal":'
"""How a seal line starts. An event never does: it always has a ``guardian`` key, which sorts
before ``seal`` in canonical JSON."""


def is_seal_line(raw: bytes) -> bool:
    return raw.startswith(SEAL_PREFIX)


@dataclass(frozen=True, slots=True)
class AuditReceipt:
    """Where an event (a decision, a change) landed in the audit journal."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class JournalRecord:
    seq: int
    raw: bytes
    """The event's canonical JSON (as written in the journal, without the newline)."""
    event: Mapping[str, Any]
    offset: int = 0
    """Byte offset of the line in the journal file."""
    end: int = 0
    """Byte offset just after the line (its newline included)."""

    @property
    def hash(self) -> str:
        return str(self.event["guardian"]["hash"])

    @property
    def is_checkpoint(self) -> bool:
        return is_checkpoint(self.event)

    @property
    def doc_id(self) -> str:
        """The index document id: ``"<writer>:<seq>"`` (``"<seq>"`` for a legacy event)."""
        return event_doc_id(self.event, self.seq)


def is_checkpoint(event: Mapping[str, Any]) -> bool:
    kind = event.get("event")
    return isinstance(kind, Mapping) and kind.get("action") == CHECKPOINT_ACTION


class ItemStatus(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    """The same document was already there (a retry): as good as created."""
    CONFLICT = "conflict"
    """A *different* document holds this sequence number: a tamper signal."""
    RETRY = "retry"
    """Refused for now (busy, shard unavailable): send again later."""
    REJECTED = "rejected"
    """Refused for good (e.g. a field the strict mapping does not know)."""

    @property
    def acknowledged(self) -> bool:
        return self in (ItemStatus.CREATED, ItemStatus.DUPLICATE)


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    seq: int
    status: ItemStatus
    detail: str = ""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as an index returns it, with the id it is stored under."""

    doc_id: str
    event: Mapping[str, Any]


class StepOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ABSENT = "absent"
    """The feature is not available on this index (e.g. no ISM plugin): nothing applied."""


@dataclass(frozen=True, slots=True)
class SetupStep:
    name: str
    outcome: StepOutcome
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SetupReport:
    """What ``guardian audit init`` did, step by step."""

    index: str
    steps: tuple[SetupStep, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return any(s.outcome in (StepOutcome.CREATED, StepOutcome.UPDATED) for s in self.steps)


@dataclass(frozen=True, slots=True)
class IndexStatus:
    """What /v1/health says about the index, without a network round trip."""

    kind: str
    target: str
    retention: str
    """``"ism"`` when a retention policy is enforced, else why not."""


@dataclass(frozen=True, slots=True)
class Removal:
    """What one deletion takes out of the index: a whole index, or the oldest rows."""

    kind: str
    """``index`` (an OpenSearch backing index) or ``rows`` (the embedded index)."""
    target: str
    """The index name, or the date range of the rows."""
    events: int
    first_seq: int
    last_seq: int
    oldest_ms: int
    newest_ms: int
    writer: str = ""
    """Whose chain ``first_seq..last_seq`` counts in (rows of the embedded index are removed
    per writer; a whole OpenSearch index holds every writer's events of its dates)."""

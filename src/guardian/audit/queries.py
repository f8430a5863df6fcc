"""Auditors' searches: a structured query over audit events, and pages joined by a cursor.

A query is a set of exact-match filters (customer, employee, database, category, purpose,
decision, reason code, event action) and a time range; adapters turn it into term and range
clauses, never into a query string, so what a user types is only ever a value. Results are
sorted by time (then sequence number, which breaks ties); a page's cursor is the sort key of
its last event, opaque to callers.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from guardian.errors import InvalidRequest

MAX_PAGE = 1000
MAX_VALUE = 256


class Order(StrEnum):
    NEWEST_FIRST = "desc"
    OLDEST_FIRST = "asc"


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ended: the time (epoch milliseconds) and sequence number of its last event."""

    at_ms: int
    seq: int

    def encode(self) -> str:
        raw = orjson.dumps([self.at_ms, self.seq])
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            padded = text + "=" * (-len(text) % 4)
            at_ms, seq = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            if not isinstance(at_ms, int) or not isinstance(seq, int):
                raise TypeError("not two integers")
        except (ValueError, TypeError, binascii.Error, UnicodeEncodeError) as exc:
            raise InvalidRequest("the cursor is not one this server handed out") from exc
        return cls(at_ms, seq)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    customer_id: str | None = None
    user_id: str | None = None
    database: str | None = None
    category: str | None = None
    purpose: str | None = None
    decision: str | None = None
    reason: str | None = None
    action: str | None = None
    """``event.action``, e.g. ``access.decision`` or ``session.failed``."""
    since_ms: int | None = None
    """Inclusive lower bound on ``@timestamp`` (epoch milliseconds)."""
    until_ms: int | None = None
    """Exclusive upper bound on ``@timestamp`` (epoch milliseconds)."""
    after: Cursor | None = None
    size: int = 50
    order: Order = Order.NEWEST_FIRST
    fields: tuple[str, ...] = ()
    """Dotted paths an index may return alone (a replay reads a few fields of many events);
    empty: whole events. ``@timestamp`` and ``guardian.seq`` always come (the cursor)."""

    def describe(self) -> str:
        """The filters as ``name=value`` pairs, for the record of who searched what."""
        filters = {
            "customer": self.customer_id, "user": self.user_id, "database": self.database,
            "category": self.category, "purpose": self.purpose, "decision": self.decision,
            "reason": self.reason, "action": self.action, "from_ms": self.since_ms,
            "until_ms": self.until_ms,
        }
        return " ".join(f"{k}={v}" for k, v in filters.items() if v is not None) or "all"

    def __post_init__(self) -> None:
        if not 1 <= self.size <= MAX_PAGE:
            raise InvalidRequest(f"page size must be between 1 and {MAX_PAGE}")
        for name, value in self.terms().items():
            if not value or len(value) > MAX_VALUE or any(ord(c) < 32 for c in value):
                raise InvalidRequest(f"{name} must be 1-{MAX_VALUE} printable characters")
        if (self.since_ms is not None and self.until_ms is not None
                and self.since_ms >= self.until_ms):
            raise InvalidRequest("the time range is empty: `from` must be before `to`")

    def terms(self) -> dict[str, str]:
        """The exact-match filters that are set, by field of the event (dotted path)."""
        pairs = {
            "guardian.customer_ids": self.customer_id, "user.id": self.user_id,
            "guardian.database": self.database, "guardian.category": self.category,
            "guardian.purpose": self.purpose, "guardian.decision": self.decision,
            "guardian.reasons": self.reason, "event.action": self.action,
        }
        return {k: v for k, v in pairs.items() if v is not None}

    def next_page(self, cursor: Cursor) -> AuditQuery:
        return replace(self, after=cursor)


@dataclass(frozen=True, slots=True)
class AuditPage:
    events: Sequence[Mapping[str, Any]]
    next_cursor: Cursor | None
    """Set when more events may follow; pass it back to get them."""


def event_millis(event: Mapping[str, Any]) -> int:
    """``@timestamp`` of an event as epoch milliseconds."""
    return iso_to_millis(str(event["@timestamp"]))


def iso_to_millis(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidRequest(f"not an ISO 8601 date or time: {text[:64]!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def cursor_of(event: Mapping[str, Any]) -> Cursor:
    return Cursor(event_millis(event), int(event["guardian"]["seq"]))


def field_values(event: Mapping[str, Any], dotted: str) -> list[str]:
    """The values of a dotted field in an event, as strings (a list field gives them all)."""
    node: Any = event
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return []
        node = node[part]
    if isinstance(node, list):
        return [str(v) for v in node]
    return [str(node)]

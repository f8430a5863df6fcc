"""Reading the trail is itself on the trail: the auditors' search as one use case.

Whichever entry point searches (``GET /v1/audit/events``, ``guardian audit search``, the
console), the search is journalled — who looked, and at what — before anything is shown, so
a read the journal cannot record shows nothing (``audit_unavailable``). :func:`trail_query`
turns the search's parameters (exact values, ISO 8601 bounds, an opaque cursor) into the one
structured query both entry points use; each value only ever becomes a value.
"""

from __future__ import annotations

from guardian.audit.events import AuditAction, trail_access_event
from guardian.audit.queries import AuditPage, AuditQuery, Cursor, Order, iso_to_millis
from guardian.ports import AuditJournal, AuditSearch, Clock


def trail_query(
    *, customer: str | None = None, user: str | None = None, database: str | None = None,
    category: str | None = None, purpose: str | None = None, decision: str | None = None,
    reason: str | None = None, action: str | None = None, since: str | None = None,
    until: str | None = None, cursor: str | None = None, size: int = 50,
    order: Order = Order.NEWEST_FIRST,
) -> AuditQuery:
    """The search's parameters as a structured query (``InvalidRequest`` for a bad one)."""
    return AuditQuery(
        customer_id=customer, user_id=user, database=database, category=category,
        purpose=purpose, decision=decision, reason=reason, action=action,
        since_ms=iso_to_millis(since) if since else None,
        until_ms=iso_to_millis(until) if until else None,
        after=Cursor.decode(cursor) if cursor else None, size=size, order=order,
    )


class TrailReads:
    """The auditors' and the DPO's search of the trail, journalled before it is answered."""

    def __init__(self, index: AuditSearch, journal: AuditJournal, clock: Clock) -> None:
        self._index = index
        self._journal = journal
        self._clock = clock

    def search(self, reader: str, query: AuditQuery, note: str = "") -> AuditPage:
        """One page of events matching ``query``, as ``reader`` asked for it (``note``: what
        else the record should say, e.g. that the page was exported)."""
        described = query.describe() + (f" {note}" if note else "")
        self._journal.append(trail_access_event(
            AuditAction.TRAIL_SEARCHED, reader, self._clock.now(), described))
        return self._index.search(query)

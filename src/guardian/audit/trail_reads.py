"""Reading the trail is itself on the trail: the auditors' search as one use case.

Whichever entry point searches (``GET /v1/audit/events``, ``guardian audit search``, the
console), the search is journalled — who looked, and at what — before anything is shown, so
a read the journal cannot record shows nothing (``audit_unavailable``). :func:`trail_query`
turns the search's parameters (exact values, ISO 8601 bounds, an opaque cursor) into the one
structured query both entry points use; each value only ever becomes a value.

On an event loop (:meth:`TrailReads.search_async`, the server's entry points) the index is
searched while the record's group commit is being made durable, so a page costs the longer of
the two instead of their sum; the page is still handed out only once the record is durable,
and never if the journal refuses it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

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


T = TypeVar("T")
InThread = Callable[[Callable[[], T]], Awaitable[T]]
"""Runs a blocking call off the event loop (``anyio.to_thread.run_sync``)."""


async def recorded_then_shown(journal: AuditJournal, event: dict[str, Any],
                              read: Callable[[], T], in_thread: InThread[T]) -> T:
    """``read()`` (in a thread) while ``event`` is committed; its answer only once the event
    is durable (``AuditUnavailable`` from the journal otherwise, the answer dropped)."""
    record = asyncio.ensure_future(journal.append_many_async((event,)))
    try:
        answer = await in_thread(read)
    except BaseException:
        await asyncio.gather(record, return_exceptions=True)
        raise
    await record
    return answer


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

    async def search_async(self, reader: str, query: AuditQuery, in_thread: InThread[AuditPage],
                           note: str = "") -> AuditPage:
        """:meth:`search` for a caller on an event loop: the index is read while the record
        becomes durable, and the page is answered only once it is."""
        described = query.describe() + (f" {note}" if note else "")
        event = trail_access_event(AuditAction.TRAIL_SEARCHED, reader, self._clock.now(),
                                   described)
        return await recorded_then_shown(self._journal, event,
                                         lambda: self._index.search(query), in_thread)

"""The auditors' search as a use case: journalled before it is answered, and nothing answered
when the journal cannot record it (also on an event loop, where the index is read while the
record becomes durable); the one query builder both entry points use."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import pytest

from audit_support import decision
from guardian.adapters.memory.ports import MemoryAuditSearch, MemoryJournal
from guardian.audit.queries import Order
from guardian.audit.trail_reads import TrailReads, trail_query
from guardian.clock import ManualClock
from guardian.errors import AuditUnavailable, InvalidRequest

NOW = 1_790_000_000.0
T = TypeVar("T")


def _reads(journal: MemoryJournal) -> TrailReads:
    index = MemoryAuditSearch([decision(1), decision(2, customer="C-1002"),
                               decision(3, at="2026-11-21T10:00:00.000Z")])
    return TrailReads(index, journal, ManualClock(NOW))


def test_a_search_is_journalled_with_who_looked_and_at_what_before_the_answer() -> None:
    journal = MemoryJournal()

    page = _reads(journal).search("judy", trail_query(customer="C-1001"))

    assert [e["guardian"]["decision_id"] for e in page.events] == ["D000003", "D000001"]
    [event] = journal.events
    assert event["event"]["action"] == "audit.trail_searched"
    assert event["user"]["id"] == "judy"
    assert event["guardian"]["query"] == "customer=C-1001"


def test_a_search_the_journal_cannot_record_answers_nothing() -> None:
    journal = MemoryJournal()
    journal.fail = True

    with pytest.raises(AuditUnavailable):
        _reads(journal).search("judy", trail_query(customer="C-1001"))


def test_the_query_builder_turns_bounds_and_order_into_a_structured_query() -> None:
    query = trail_query(user="alice", since="2026-11-20", until="2026-11-21T00:00Z", size=10,
                        order=Order.OLDEST_FIRST)

    assert query.terms() == {"user.id": "alice"}
    assert query.since_ms == 1_795_132_800_000
    assert query.until_ms == 1_795_219_200_000
    assert (query.size, query.order) == (10, Order.OLDEST_FIRST)
    with pytest.raises(InvalidRequest):
        trail_query(since="yesterday")


async def _in_thread(read: Callable[[], T]) -> T:
    return await asyncio.to_thread(read)


def test_on_an_event_loop_the_search_is_journalled_and_answered_alike() -> None:
    journal = MemoryJournal()

    page = asyncio.run(_reads(journal).search_async(
        "judy", trail_query(customer="C-1001"), _in_thread))

    assert [e["guardian"]["decision_id"] for e in page.events] == ["D000003", "D000001"]
    [event] = journal.events
    assert (event["event"]["action"], event["guardian"]["query"]) == (
        "audit.trail_searched", "customer=C-1001")


def test_on_an_event_loop_a_search_the_journal_refuses_answers_nothing() -> None:
    journal = MemoryJournal()
    journal.fail = True
    searched: list[bool] = []

    async def in_thread(read: Callable[[], T]) -> T:
        answer = await asyncio.to_thread(read)
        searched.append(True)
        return answer

    with pytest.raises(AuditUnavailable):
        asyncio.run(_reads(journal).search_async("judy", trail_query(), in_thread))
    assert searched == [True]  # the index was read, and its page dropped


def test_a_failed_search_still_waits_for_its_record() -> None:
    journal = MemoryJournal()

    async def broken(read: Callable[[], T]) -> T:
        raise InvalidRequest("the index refused the query")

    with pytest.raises(InvalidRequest):
        asyncio.run(_reads(journal).search_async("judy", trail_query(), broken))
    assert len(journal.events) == 1

"""The recorded decisions of a period: paged oldest first with the index's cursor until it has
none, asking for decisions only and for the replay fields only; a partial event is ``None``."""

from __future__ import annotations

from typing import Any

from guardian.audit.queries import AuditPage, AuditQuery, Order, cursor_of
from guardian.policy.recorded import REPLAY_FIELDS, recorded_decisions


def _decision(seq: int) -> dict[str, Any]:
    return {"@timestamp": f"2026-11-20T10:00:{seq:02d}.000Z",
            "user": {"id": "alice", "roles": ["support"]},
            "guardian": {"seq": seq, "decision_id": f"d{seq}", "database": "crm",
                         "category": "contact", "action": "read", "purpose": "service",
                         "reasons": [], "mfa_age_s": 30}}


class PagedIndex:
    """Answers ``search`` two events a page, with a cursor while more follow."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events
        self.queries: list[AuditQuery] = []

    def search(self, query: AuditQuery) -> AuditPage:
        self.queries.append(query)
        start = 0 if query.after is None else next(
            i + 1 for i, e in enumerate(self.events) if cursor_of(e) == query.after)
        page = self.events[start:start + query.size]
        more = start + query.size < len(self.events)
        return AuditPage(page, cursor_of(page[-1]) if more else None)


def test_every_page_is_read_oldest_first_with_the_cursor() -> None:
    index = PagedIndex([_decision(n) for n in range(1, 6)] + [{"guardian": {"seq": 6},
                                                                "@timestamp": "2026-11-20T10:00:06Z"}])
    pages: list[int] = []

    found = list(recorded_decisions(index, 0, 99, page=2, progress=pages.append))  # type: ignore[arg-type]

    assert [d.decision_id if d else None for d in found] == ["d1", "d2", "d3", "d4", "d5", None]
    assert pages == [2, 2, 2]
    assert all(q.action == "access.decision" and q.order is Order.OLDEST_FIRST
               and q.fields == REPLAY_FIELDS and (q.since_ms, q.until_ms) == (0, 99)
               for q in index.queries)
    assert [q.after is None for q in index.queries] == [True, False, False]


def test_a_replayed_decision_keeps_what_the_replay_needs() -> None:
    index = PagedIndex([_decision(1)])

    (decision,) = recorded_decisions(index, 0)  # type: ignore[arg-type]

    assert decision is not None
    assert (decision.subject, decision.roles, decision.purpose, decision.mfa_age_s) == (
        "alice", ("support",), "service", 30)

"""Building a campaign's items: what the policy says of each role (answered once per role),
the population of a membership review, and the evidence gathered apart from the items (asked
for the campaign's roles, waited for only after reviewers and ids are worked out)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from guardian.adapters.memory.ports import MemoryDirectory
from guardian.audit.aggregations import AggregateQuery, Bucket, Field
from guardian.governance.review_opening import (
    Evidence,
    OpeningContext,
    RoleFacts,
    build_items,
    gather_evidence,
    holdings,
)
from guardian.governance.review_usage import Tally, UsageEvidence
from guardian.ports import AuditIndex
from review_support import DATA_ROLES, crm_quarterly, people, policy

NOW = 1_797_000_000.0


class Index:
    """The ``aggregate`` part of an AuditIndex: alice used customer-care in the window."""

    def __init__(self) -> None:
        self.asked: list[AggregateQuery] = []

    def aggregate(self, query: AggregateQuery) -> list[Bucket]:
        self.asked.append(query)
        where = dict(query.where)
        if where.get(Field.ROLE) == "customer-care" and query.since_ms > 0:
            return [Bucket(("alice", "customer-care"), 4, 1, int(NOW * 1000) - 5, distinct=2,
                           values=(("contact",), ("customer-care",)))]
        return []


def _context(index: Index) -> OpeningContext:
    return OpeningContext(crm_quarterly(), RoleFacts(policy()), MemoryDirectory(people()),
                          UsageEvidence(cast(AuditIndex, index)), ("peggy",), "CAMPAIGN", NOW)


def test_role_facts_answer_the_same_from_their_cache() -> None:
    facts = RoleFacts(policy())
    first = [(facts.categories(r), facts.sensitivity(r)) for r in DATA_ROLES]
    assert first == [(facts.categories(r), facts.sensitivity(r)) for r in DATA_ROLES]
    assert facts.sensitivity("no-such-role") is None and facts.categories("no-such-role") == ()


def test_evidence_is_asked_role_by_role_for_the_campaigns_roles() -> None:
    index = Index()
    found = gather_evidence(_context(index))
    asked_roles = {dict(q.where).get(Field.ROLE) for q in index.asked}
    assert asked_roles == {*DATA_ROLES, None}  # None: the denies, one query for every role
    assert found.by_person[("alice", "customer-care")].permits == 4
    assert found.by_rule == {} and found.by_app == {}


def test_items_take_the_evidence_waited_for_after_reviewers_are_assigned() -> None:
    ctx = _context(Index())
    population = list(holdings(ctx.definition, ctx.facts, ctx.directory, [], [], {}, NOW))
    calls: list[str] = []

    def evidence() -> Evidence:
        calls.append("evidence")
        return Evidence({("alice", "customer-care"): Tally(permits=9, last_ms=1, ever=True)},
                        {}, {})

    items = build_items(ctx, population, evidence)
    assert calls == ["evidence"] and len(items) == len(population)
    assert len({i.id for i in items}) == len(items)
    by_subject: dict[str, Any] = {i.subject.uid: i for i in items}
    assert by_subject["alice"].usage.permits == 9
    assert by_subject["bob"].usage.permits == 0
    assert by_subject["alice"].assignment.reviewer == "nina"


def test_without_a_waiting_evidence_the_items_gather_their_own() -> None:
    index = Index()
    ctx = _context(index)
    population: Iterable[Any] = holdings(ctx.definition, ctx.facts, ctx.directory, [], [], {},
                                         NOW)
    items = build_items(ctx, list(population))
    assert index.asked and {i.subject.uid: i for i in items}["alice"].usage.customers == 2

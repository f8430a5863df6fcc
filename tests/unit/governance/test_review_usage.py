"""Usage evidence from aggregations: which queries are asked of the index (decision events,
permits or denies, grouped per person and role, rule or application) and how the buckets
become tallies; no index, or an empty window, asks nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from guardian.audit.aggregations import AggregateQuery, Bucket, Field
from guardian.governance.review_usage import Tally, UsageEvidence, Window
from guardian.ports import AuditIndex

SINCE, UNTIL = 1_790_000_000_000, 1_797_776_000_000


class Index:
    """The ``aggregate`` part of an ``AuditIndex``: answers by the query's shape."""

    def __init__(self, answer: Callable[[AggregateQuery], list[Bucket]]) -> None:
        self.answer = answer
        self.asked: list[AggregateQuery] = []

    def aggregate(self, query: AggregateQuery) -> list[Bucket]:
        self.asked.append(query)
        return self.answer(query)


def _evidence(index: Index) -> UsageEvidence:
    return UsageEvidence(cast(AuditIndex, index))


def _decision(query: AggregateQuery) -> str:
    where = dict(query.where)
    assert where[Field.ACTION] == "access.decision"
    return where[Field.DECISION]


def _person_and_role(query: AggregateQuery) -> list[Bucket]:
    decision, window = _decision(query), query.since_ms == SINCE
    if query.group_by == (Field.USER, Field.ROLE) and window:
        assert query.distinct is Field.CUSTOMERS and decision == "permit"
        assert query.values == (Field.CATEGORY, Field.PURPOSE)
        return [Bucket(("alice", "billing"), 12, SINCE + 5, UNTIL - 5, distinct=4,
                       values=(("billing", "contact"), ("invoicing",)))]
    if query.group_by == (Field.USER, Field.ROLE):  # before the window
        assert query.since_ms == 0 and query.until_ms == SINCE and not query.values
        return [Bucket(("bob", "billing"), 1, 10, 20)]
    assert query.group_by == (Field.USER, Field.ROLES) and decision == "deny"
    return [Bucket(("alice", "billing"), 3, 1, 2), Bucket(("carol", "billing"), 2, 1, 2)]


def test_per_person_and_role_permits_categories_purposes_denies_and_earlier_use() -> None:
    index = Index(_person_and_role)
    tallies = _evidence(index).by_person_and_role(Window(SINCE, UNTIL))
    assert len(index.asked) == 3  # permits with categories and purposes, denies, earlier use
    alice = tallies[("alice", "billing")]
    assert (alice.permits, alice.last_ms, alice.customers, alice.denies, alice.ever) == (
        12, UNTIL - 5, 4, 3, True)
    assert alice.categories == {"billing", "contact"} and alice.purposes == {"invoicing"}
    assert tallies[("bob", "billing")] == Tally(ever=True)
    assert tallies[("carol", "billing")] == Tally(denies=2)


def test_given_the_campaigns_roles_permits_and_earlier_use_are_asked_role_by_role() -> None:
    def answer(query: AggregateQuery) -> list[Bucket]:
        role = dict(query.where).get(Field.ROLE)
        if query.group_by == (Field.USER, Field.ROLES):
            assert role is None  # denies: one query, the denied events carry no role
            return [Bucket(("alice", "billing"), 3, 1, 2)]
        assert role in ("billing", "fraud-analyst")
        if query.since_ms == 0:
            return [Bucket(("bob", role), 1, 10, 20)]
        return [Bucket(("alice", role), 2, SINCE, SINCE + 9, distinct=1,
                       values=(("billing",), ("invoicing",)))]

    index = Index(answer)
    tallies = _evidence(index).by_person_and_role(Window(SINCE, UNTIL),
                                                  ["fraud-analyst", "billing", "billing"])
    assert len(index.asked) == 5  # two roles × (window, before it), and the denies
    assert (tallies[("alice", "billing")].permits, tallies[("alice", "billing")].denies) == (2, 3)
    assert tallies[("alice", "fraud-analyst")].purposes == {"invoicing"}
    assert tallies[("bob", "fraud-analyst")] == Tally(ever=True)


def test_per_rule_groups_by_role_category_action_and_purpose() -> None:
    def answer(query: AggregateQuery) -> list[Bucket]:
        assert query.group_by == (Field.ROLE, Field.CATEGORY, Field.ACCESS, Field.PURPOSE)
        if query.since_ms == SINCE:
            return [Bucket(("billing", "billing", "read", "invoicing"), 7, 1, 99, distinct=2)]
        return [Bucket(("marketing", "contact", "read", "marketing"), 1, 1, 1)]

    tallies = _evidence(Index(answer)).by_rule(Window(SINCE, UNTIL))
    used = tallies[("billing", "billing", "read", "invoicing")]
    assert (used.permits, used.last_ms, used.customers, used.ever) == (7, 99, 2, True)
    assert tallies[("marketing", "contact", "read", "marketing")] == Tally(ever=True)


def test_per_application_counts_permits_of_each_key() -> None:
    def answer(query: AggregateQuery) -> list[Bucket]:
        assert query.group_by == (Field.APPLICATION,) and _decision(query) == "permit"
        return [Bucket(("crm",), 40, 1, 50, distinct=30)] if query.since_ms else []

    tallies = _evidence(Index(answer)).by_application(Window(SINCE, UNTIL))
    assert tallies == {"crm": Tally(permits=40, last_ms=50, customers=30, ever=True)}


def test_without_an_index_nothing_is_known() -> None:
    evidence = UsageEvidence(None)
    window = Window(SINCE, UNTIL)
    assert evidence.by_person_and_role(window) == {}
    assert evidence.by_rule(window) == {} and evidence.by_application(window) == {}


def test_a_window_starting_at_zero_asks_nothing_about_before_it() -> None:
    index = Index(lambda query: [])
    _evidence(index).by_application(Window(0, UNTIL))
    assert [(q.since_ms, q.until_ms) for q in index.asked] == [(0, UNTIL)]

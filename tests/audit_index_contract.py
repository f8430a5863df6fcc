"""The AuditIndex contract, run against every adapter (SQLite in unit tests, OpenSearch in
integration tests): a test module defines an ``audit_index`` fixture giving an object with
``index`` (a set-up, empty AuditIndex) and ``refresh()``, then star-imports these tests."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from audit_support import decision
from guardian.audit.chain import GENESIS, seal
from guardian.audit.queries import AuditQuery, Order, iso_to_millis
from guardian.audit.records import ItemStatus, JournalRecord
from guardian.errors import InvalidRequest


def records(events: list[dict[str, Any]], first: int = 1) -> list[JournalRecord]:
    out, prev = [], GENESIS
    for i, event in enumerate(events):
        sealed, prev = seal(event, first + i, prev)
        out.append(JournalRecord(first + i, orjson.dumps(sealed, option=orjson.OPT_SORT_KEYS),
                                 sealed))
    return out


SAMPLE = [
    decision(1, customer="C-1001", user="alice", at="2026-11-20T10:00:00.000Z"),
    decision(2, customer="C-1002", user="bob", at="2026-11-20T11:00:00.000Z"),
    decision(3, customer="C-1001", user="bob", at="2026-11-20T12:00:00.000Z"),
    {**decision(4, customer="C-1001", user="dave", at="2026-11-21T09:00:00.000Z"),
     "guardian": {**decision(4)["guardian"], "customer_ids": ["C-1001", "C-1007"],
                  "decision": "deny", "reasons": ["consent_missing"], "purpose": "marketing"}},
    decision(5, customer="C-1003", user="alice", at="2026-11-22T09:00:00.000Z"),
]


def _load(target: Any) -> list[JournalRecord]:
    batch = records(SAMPLE)
    outcomes = target.index.index_events(batch)
    assert [o.status for o in outcomes] == [ItemStatus.CREATED] * len(batch)
    target.refresh()
    return batch


def _seqs(page: Any) -> list[int]:
    return [int(e["guardian"]["seq"]) for e in page.events]


def test_contract_indexing_is_create_only_and_a_retry_is_a_duplicate(audit_index: Any) -> None:
    batch = _load(audit_index)

    again = audit_index.index.index_events(batch[:2])

    assert [o.status for o in again] == [ItemStatus.DUPLICATE] * 2
    assert audit_index.index.count() == len(batch)


def test_contract_another_document_under_a_taken_number_is_a_conflict(audit_index: Any) -> None:
    _load(audit_index)
    impostor = records([decision(99, user="mallory")])[0]

    [outcome] = audit_index.index.index_events([impostor])

    assert outcome.status is ItemStatus.CONFLICT and "1" in outcome.detail
    audit_index.refresh()
    stored = next(iter(audit_index.index.events_in_order()))
    assert stored.event["user"]["id"] == "alice"  # never overwritten


def test_contract_events_come_back_in_sequence_order_from_any_point(audit_index: Any) -> None:
    batch = _load(audit_index)

    all_events = list(audit_index.index.events_in_order())
    tail = list(audit_index.index.events_in_order(after_seq=3))

    assert [e.doc_id for e in all_events] == ["1", "2", "3", "4", "5"]
    assert [e.event for e in all_events] == [r.event for r in batch]
    assert [e.doc_id for e in tail] == ["4", "5"]


def test_contract_checkpoint_copies_are_kept_apart(audit_index: Any) -> None:
    batch = _load(audit_index)
    assert [o.status for o in audit_index.index.index_checkpoints(batch[2:3])] == \
        [ItemStatus.CREATED]
    audit_index.refresh()
    assert [c.doc_id for c in audit_index.index.checkpoints()] == ["3"]


@pytest.mark.parametrize(("query", "expected"), [
    (AuditQuery(customer_id="C-1001"), [4, 3, 1]),
    (AuditQuery(customer_id="C-1007"), [4]),
    (AuditQuery(user_id="bob"), [3, 2]),
    (AuditQuery(customer_id="C-1001", user_id="bob"), [3]),
    (AuditQuery(decision="deny"), [4]),
    (AuditQuery(reason="consent_missing", purpose="marketing"), [4]),
    (AuditQuery(database="crm", category="contact", action="access.decision"), [5, 4, 3, 2, 1]),
    (AuditQuery(since_ms=iso_to_millis("2026-11-20T11:00:00Z"),
                until_ms=iso_to_millis("2026-11-21T09:00:00Z")), [3, 2]),
    (AuditQuery(customer_id="C-1001", order=Order.OLDEST_FIRST), [1, 3, 4]),
    (AuditQuery(customer_id='C-1001" OR 1=1 --'), []),
    (AuditQuery(user_id="*"), []),
])
def test_contract_search_filters_by_exact_values_and_time(
    audit_index: Any, query: AuditQuery, expected: list[int]
) -> None:
    _load(audit_index)
    assert _seqs(audit_index.index.search(query)) == expected


def test_contract_a_cursor_walks_every_page_once(audit_index: Any) -> None:
    _load(audit_index)
    query, seen, pages = AuditQuery(size=2), [], 0
    while True:
        page = audit_index.index.search(query)
        seen += _seqs(page)
        pages += 1
        if page.next_cursor is None:
            break
        query = query.next_page(page.next_cursor)
    assert seen == [5, 4, 3, 2, 1] and pages == 3


def test_contract_a_bad_cursor_is_refused() -> None:
    from guardian.audit.queries import Cursor

    with pytest.raises(InvalidRequest):
        Cursor.decode("not-a-cursor")


def test_contract_setup_twice_changes_nothing_the_second_time(audit_index: Any) -> None:
    assert not audit_index.index.setup().changed


# -- aggregations (periodic reports) ---------------------------------------------------------

def _load_month(target: Any) -> None:
    from report_trail import trail

    outcomes = target.index.index_events(records(trail()))
    assert {o.status for o in outcomes} == {ItemStatus.CREATED}, outcomes
    target.refresh()


def _counts(index: Any, *group: Any, where: Any = (), by_day: bool = False
            ) -> dict[tuple[str, ...], int]:
    from guardian.audit.aggregations import AggregateQuery
    from report_trail import FROM, TO

    query = AggregateQuery(iso_to_millis(FROM), iso_to_millis(TO), tuple(group), tuple(where),
                           by_day)
    return {b.key: b.count for b in index.aggregate(query)}


def test_contract_aggregations_count_what_the_hand_built_month_holds(audit_index: Any) -> None:
    from guardian.audit.aggregations import Field as F

    _load_month(audit_index)
    index = audit_index.index
    decisions = ((F.ACTION, "access.decision"),)

    assert _counts(index, F.DECISION, where=decisions) == {("deny",): 3, ("permit",): 6}
    assert _counts(index, F.REASONS) == {
        ("consent_missing",): 1, ("contract_clause_missing",): 1, ("mfa_required",): 1,
        ("not_authorised",): 1, ("permitted",): 6}
    assert _counts(index, F.APPLICATION, where=decisions) == {
        ("billing-app",): 1, ("crm-web",): 7, ("legal-app",): 1}
    assert _counts(index, F.DECISION, by_day=True, where=decisions) == {
        ("2026-11-02", "permit"): 2, ("2026-11-03", "deny"): 1, ("2026-11-03", "permit"): 1,
        ("2026-11-04", "deny"): 1, ("2026-11-04", "permit"): 1, ("2026-11-05", "deny"): 1,
        ("2026-11-05", "permit"): 2}
    assert _counts(index, F.USER, where=((F.ACCESS, "export"),)) == {("bob",): 1}
    assert _counts(index, F.REASON, where=((F.ACTION, "session.failed"),)) == {
        ("account_locked",): 1, ("invalid_credentials",): 1}
    assert _counts(index, F.AMR) == {("otp",): 1, ("pwd",): 1}
    assert _counts(index, F.USER, F.ROLES, where=(*decisions, (F.DECISION, "permit"))) == {
        ("alice", "customer-care"): 2, ("bob", "billing"): 1, ("dave", "marketing"): 1,
        ("erin", "legal-officer"): 1, ("frank", "customer-care"): 1}
    assert _counts(index, F.ROLE, F.GRANTEE) == {("legal-officer", "carol"): 1}
    assert _counts(index, where=((F.REASONS, "mfa_required"), (F.USER, "grace"))) == {(): 1}
    assert _counts(index, F.CATEGORY, where=((F.PURPOSE, "nobody-uses-this"),)) == {}


def test_contract_buckets_list_the_distinct_values_of_the_fields_asked(
        audit_index: Any) -> None:
    from guardian.audit.aggregations import AggregateQuery
    from guardian.audit.aggregations import Field as F
    from report_trail import FROM, TO

    _load_month(audit_index)
    query = AggregateQuery(iso_to_millis(FROM), iso_to_millis(TO), (F.DECISION,),
                           ((F.ACTION, "access.decision"),), values=(F.APPLICATION, F.REASON))
    buckets = {b.key: b for b in audit_index.index.aggregate(query)}
    plain = {b.key: b.count for b in audit_index.index.aggregate(
        AggregateQuery(query.since_ms, query.until_ms, query.group_by, query.where))}

    assert {k: b.count for k, b in buckets.items()} == plain  # listing values changes no count
    assert buckets[("permit",)].values == (("billing-app", "crm-web", "legal-app"), ())
    assert buckets[("deny",)].values[0] == ("crm-web",)
    whole = audit_index.index.aggregate(AggregateQuery(
        query.since_ms, query.until_ms, (), query.where, values=(F.DECISION,)))
    assert [b.values for b in whole] == [(("deny", "permit"),)]


def test_contract_aggregation_buckets_carry_first_and_last_times(audit_index: Any) -> None:
    from guardian.audit.aggregations import AggregateQuery
    from guardian.audit.aggregations import Field as F
    from report_trail import FROM, TO

    _load_month(audit_index)
    query = AggregateQuery(iso_to_millis(FROM), iso_to_millis(TO), (F.USER,),
                           ((F.USER, "alice"), (F.ACTION, "access.decision")))
    [bucket] = audit_index.index.aggregate(query)

    assert bucket.count == 3  # the December permit is outside the period
    assert bucket.first_ms == iso_to_millis("2026-11-02T09:00:00Z")
    assert bucket.last_ms == iso_to_millis("2026-11-03T09:00:00Z")


def test_contract_the_span_of_a_period_gives_its_events_and_sequence_numbers(
    audit_index: Any
) -> None:
    from report_trail import FROM, TO

    _load_month(audit_index)
    span = audit_index.index.span(iso_to_millis(FROM), iso_to_millis(TO))
    empty = audit_index.index.span(iso_to_millis("2020-01-01T00:00:00Z"),
                                   iso_to_millis("2020-02-01T00:00:00Z"))

    assert (span.events, span.first_seq, span.last_seq) == (16, 1, 16)
    assert (empty.events, empty.first_seq, empty.last_seq) == (0, None, None)


# -- usage evidence (access reviews) ---------------------------------------------------------

def _used(n: int, user: str, role: str, at: str, *, category: str = "contact",
          purpose: str = "customer-care", customers: tuple[str, ...] = ("C-1001",),
          outcome: str = "permit") -> dict[str, Any]:
    event = decision(n, user=user, at=at)
    event["user"]["roles"] = [role, "reviewer"]
    event["guardian"].update(category=category, purpose=purpose, customer_ids=list(customers),
                             decision=outcome)
    if outcome == "permit":
        event["guardian"]["role"] = role
    else:
        event["guardian"]["reasons"] = ["not_authorised"]
    return event


USAGE_TRAIL = [
    _used(1, "alice", "customer-care", "2026-06-01T09:00:00.000Z"),  # before the window
    _used(2, "alice", "customer-care", "2026-11-02T09:00:00.000Z", customers=("C-1", "C-2")),
    _used(3, "alice", "customer-care", "2026-11-03T09:00:00.000Z", category="identification",
          customers=("C-2", "C-3")),
    _used(4, "alice", "customer-care", "2026-11-04T09:00:00.000Z", outcome="deny"),
    _used(5, "bob", "billing", "2026-06-02T09:00:00.000Z", purpose="billing"),  # only before
    _used(6, "dave", "marketing", "2026-11-05T10:00:00.000Z", purpose="marketing"),
]


def test_contract_usage_evidence_per_person_and_role_in_a_few_aggregations(
    audit_index: Any
) -> None:
    from guardian.governance.review_usage import UsageEvidence, Window

    outcomes = audit_index.index.index_events(records(USAGE_TRAIL))
    assert {o.status for o in outcomes} == {ItemStatus.CREATED}, outcomes
    audit_index.refresh()
    window = Window(iso_to_millis("2026-09-01T00:00:00Z"), iso_to_millis("2026-12-01T00:00:00Z"))

    usage = UsageEvidence(audit_index.index).by_person_and_role(window)

    alice = usage[("alice", "customer-care")]
    assert (alice.permits, alice.customers, alice.denies, alice.ever) == (2, 3, 1, True)
    assert alice.last_ms == iso_to_millis("2026-11-03T09:00:00Z")
    assert alice.categories == {"contact", "identification"}
    assert alice.purposes == {"customer-care"}  # listed by the permits' one aggregation
    bob = usage[("bob", "billing")]
    assert (bob.permits, bob.ever) == (0, True)  # used, but not in the window
    assert usage[("dave", "marketing")].purposes == {"marketing"}
    assert ("alice", "reviewer") in usage and usage[("alice", "reviewer")].permits == 0
    scoped = UsageEvidence(audit_index.index).by_person_and_role(
        window, ("customer-care", "billing"))
    assert scoped[("alice", "customer-care")] == alice and scoped[("bob", "billing")] == bob
    assert ("dave", "marketing") not in scoped  # asked role by role: only the roles given
    rules = UsageEvidence(audit_index.index).by_rule(window)
    assert rules[("customer-care", "contact", "read", "customer-care")].permits == 1
    assert rules[("billing", "contact", "read", "billing")].permits == 0

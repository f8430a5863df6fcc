"""The aggregation query's rules (a closed vocabulary of fields, a non-empty period, at most
four distinct groups, customers only counted) and the helpers both index adapters share."""

from __future__ import annotations

import pytest

from guardian.audit.aggregations import (
    DAY_MS,
    MAX_GROUPS,
    AggregateQuery,
    Bucket,
    Field,
    day_of,
    sorted_buckets,
)
from guardian.errors import InvalidRequest

SINCE = 1_790_000_000_000


def test_a_valid_query_keeps_what_it_was_given() -> None:
    query = AggregateQuery(SINCE, SINCE + DAY_MS, (Field.DECISION, Field.REASONS),
                           ((Field.APPLICATION, "crm"),), by_day=True, distinct=Field.CUSTOMERS)
    assert query.group_by == (Field.DECISION, Field.REASONS)
    assert query.where == ((Field.APPLICATION, "crm"),) and query.by_day


@pytest.mark.parametrize("since, until", [(SINCE, SINCE), (SINCE + 1, SINCE)])
def test_an_empty_or_reversed_period_is_refused(since: int, until: int) -> None:
    with pytest.raises(InvalidRequest, match="period is empty") as caught:
        AggregateQuery(since, until)
    assert caught.value.code == "invalid_request"


def test_more_than_four_groups_or_a_repeated_group_is_refused() -> None:
    five = (Field.ACTION, Field.OUTCOME, Field.USER, Field.DECISION, Field.PURPOSE)
    assert len(five) > MAX_GROUPS
    with pytest.raises(InvalidRequest, match="at most 4"):
        AggregateQuery(SINCE, SINCE + 1, five)
    with pytest.raises(InvalidRequest, match="distinct fields"):
        AggregateQuery(SINCE, SINCE + 1, (Field.USER, Field.USER))
    assert len(AggregateQuery(SINCE, SINCE + 1, five[:4]).group_by) == 4


@pytest.mark.parametrize("kwargs", [
    {"group_by": (Field.CUSTOMERS,)},
    {"where": ((Field.CUSTOMERS, "C-1"),)},
    {"distinct": Field.USER},
])
def test_customers_are_only_counted_never_grouped_or_filtered(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidRequest, match="only be counted"):
        AggregateQuery(SINCE, SINCE + 1, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("where", [((Field.USER, ""),), (("user.id", "alice"),)])
def test_a_filter_needs_a_known_field_and_a_value(where: tuple[tuple[Field, str], ...]) -> None:
    with pytest.raises(InvalidRequest, match="known field"):
        AggregateQuery(SINCE, SINCE + 1, where=where)


@pytest.mark.parametrize("values", [
    (Field.ROLES,), (Field.CUSTOMERS,), (Field.USER,), (Field.PURPOSE, Field.PURPOSE),
    (Field.ACTION, Field.OUTCOME, Field.DECISION, Field.PURPOSE, Field.CATEGORY),
])
def test_values_are_listed_only_of_single_valued_fields_not_grouped_by(
        values: tuple[Field, ...]) -> None:
    with pytest.raises(InvalidRequest, match="single-valued"):
        AggregateQuery(SINCE, SINCE + 1, (Field.USER,), values=values)
    ok = AggregateQuery(SINCE, SINCE + 1, (Field.USER,), values=(Field.CATEGORY, Field.PURPOSE))
    assert ok.values == (Field.CATEGORY, Field.PURPOSE)


def test_list_fields_are_the_ones_an_event_may_hold_several_of() -> None:
    assert {f for f in Field if f.many} == {Field.ROLES, Field.REASONS, Field.AMR,
                                              Field.CUSTOMERS}
    assert not Field.DECISION.many


def test_a_day_is_the_utc_date_of_the_instant() -> None:
    midnight = 1_789_862_400_000  # 2026-09-20T00:00:00Z
    assert day_of(midnight) == "2026-09-20"
    assert day_of(midnight - 1) == "2026-09-19"
    assert day_of(midnight + DAY_MS - 1) == "2026-09-20"


def test_buckets_are_sorted_by_key_whatever_order_they_came_in() -> None:
    buckets = [Bucket(("2026-09-21", "permit"), 3, 1, 2),
               Bucket(("2026-09-20", "permit"), 1, 1, 1),
               Bucket(("2026-09-20", "deny"), 2, 1, 1)]
    assert [b.key for b in sorted_buckets(buckets)] == [
        ("2026-09-20", "deny"), ("2026-09-20", "permit"), ("2026-09-21", "permit")]
    assert buckets[0].distinct == 0

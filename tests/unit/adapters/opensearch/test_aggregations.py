"""The OpenSearch aggregation bodies and paging, against a fake search: composite pages as large
as the query allows, a terms sub-aggregation by key per listed field, a page the node refuses
as too big asked again at half the size (down to a floor, then unavailable)."""

from __future__ import annotations

from typing import Any

import pytest

from guardian.adapters.opensearch import aggregations as aggs
from guardian.audit.aggregations import MAX_VALUES, AggregateQuery, Field
from guardian.errors import AuditIndexUnavailable

SINCE, UNTIL = 1_790_000_000_000, 1_790_086_400_000


def _query(**kwargs: Any) -> AggregateQuery:
    return AggregateQuery(SINCE, UNTIL, (Field.USER, Field.ROLE), **kwargs)


def _answer(body: dict[str, Any], total: int) -> dict[str, Any]:
    """The composite page ``body`` asks of ``total`` buckets u0000..: keys after ``after``."""
    composite = body["aggs"]["groups"]["composite"]
    start = int(composite.get("after", {}).get("k0", "u-1")[1:]) + 1
    keys = range(start, min(total, start + composite["size"]))
    buckets = [{"key": {"k0": f"u{n:04d}", "k1": "billing"}, "doc_count": 2,
                "first": {"value": 1}, "last": {"value": 2},
                "v0": {"buckets": [{"key": "contact"}, {"key": "billing"}]}} for n in keys]
    after = {"k0": f"u{keys[-1]:04d}", "k1": "billing"} if buckets else None
    return {"aggregations": {"groups": {"buckets": buckets, "after_key": after}}}


def test_listed_values_are_a_terms_by_key_under_each_bucket_sorted_in_the_answer() -> None:
    query = _query(values=(Field.CATEGORY,))
    body = aggs.aggregate_body(query, None)
    assert body["aggs"]["groups"]["aggs"]["v0"] == {"terms": {
        "field": "guardian.category", "size": MAX_VALUES, "order": {"_key": "asc"}}}
    [bucket] = aggs.aggregate(lambda b: _answer(b, 1), query)
    assert bucket.key == ("u0000", "billing") and bucket.values == (("billing", "contact"),)


def test_pages_are_large_and_smaller_when_customers_are_counted() -> None:
    assert aggs.aggregate_body(_query(), None)["aggs"]["groups"]["composite"]["size"] == \
        aggs.PAGE
    counted = aggs.aggregate_body(_query(distinct=Field.CUSTOMERS), None)
    assert counted["aggs"]["groups"]["composite"]["size"] == aggs.DISTINCT_PAGE < aggs.PAGE


def test_a_page_refused_as_too_big_is_asked_again_at_half_the_size() -> None:
    sizes: list[int] = []

    def search(body: dict[str, Any]) -> dict[str, Any]:
        size = body["aggs"]["groups"]["composite"]["size"]
        sizes.append(size)
        if size > aggs.PAGE // 4:
            raise aggs.PageTooBig("429 [parent] Data too large")
        return _answer(body, aggs.PAGE)

    pauses: list[float] = []
    buckets = aggs.aggregate(search, _query(), pauses.append)
    assert [b.key[0] for b in buckets] == [f"u{n:04d}" for n in range(aggs.PAGE)]
    assert sizes[:3] == [aggs.PAGE, aggs.PAGE // 2, aggs.PAGE // 4]
    assert pauses == [aggs.RETRY_PAUSE_S, 2 * aggs.RETRY_PAUSE_S]  # the heap may be collected
    assert set(sizes[2:]) == {aggs.PAGE // 4}  # the smaller size stays for the next pages


def test_a_page_too_big_even_at_the_floor_leaves_as_unavailable() -> None:
    def search(body: dict[str, Any]) -> dict[str, Any]:
        raise aggs.PageTooBig("429 [parent] Data too large")

    pauses: list[float] = []
    with pytest.raises(AuditIndexUnavailable):
        aggs.aggregate(search, _query(), pauses.append)
    assert len(pauses) == 6  # 10 000, 5 000, 2 500, 1 250, 625, 312, then 250 refused too

"""Aggregations on the OpenSearch audit index: composite aggregations, paged by ``after_key``.

A report figure is one composite aggregation whose sources are a ``date_histogram`` (UTC days,
when asked) and one ``terms`` source per grouped field, with ``min``/``max`` of ``@timestamp``
under each bucket (and a ``cardinality`` of customers, and a ``terms`` by key of each field
whose values are listed, when asked). Composite paging walks long tails (every reader, every
role held) a page at a time instead of asking for an unbounded ``terms`` size. Filters are term
and range clauses only; ``size: 0``, so no document leaves the cluster.

Every page re-runs the query over the whole period (the index is not sorted by the grouped
fields, so a page cannot start where the last one ended), so the number of pages is the cost:
pages are large (:data:`PAGE`), and a page the node refuses as too big (its circuit breaker, or
``search.max_buckets``) is asked again at half the size, down to :data:`MIN_PAGE`, after a
pause (the parent breaker counts the heap's real use: garbage not yet collected trips it too,
and asking again at once only trips it again).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from guardian.audit.aggregations import MAX_VALUES, AggregateQuery, Bucket, Span, day_of
from guardian.errors import AuditIndexUnavailable

Search = Callable[[dict[str, Any]], dict[str, Any]]
PAGE = 10_000
"""Buckets asked per composite page: 150 000 (person, role) buckets over 5 M events are 15
scans of the period instead of 150 at 1 000 (``docs/benchmarks.md``)."""
DISTINCT_PAGE = 4_000
"""The page when each bucket also counts distinct customers (see PRECISION_PER_BUCKET)."""
MIN_PAGE = 250
RETRY_PAUSE_S = 0.5
"""Pause before asking a smaller page, times the refusals so far."""
PRECISION = 40_000
"""Distinct counts are exact up to about this many values (HyperLogLog++ beyond)."""
PRECISION_PER_BUCKET = 3_000
"""The same, under each bucket of a composite page: a cardinality reserves about 8 bytes per
value of its threshold, so 1 000 buckets at 40 000 asked 320 MB and tripped a 512 MB node's
circuit breaker (429) when a campaign over 100 000 people counted customers per person and
role; at 3 000 a page of 1 000 reserves about 24 MB, a page of 4 000 about 96 MB."""


class PageTooBig(AuditIndexUnavailable):
    """The node refused a page as too big (circuit breaker, too many buckets): ask a smaller one.
    Raised by the ``Search`` given to :func:`aggregate`; unavailable if even MIN_PAGE is."""


def _filters(since_ms: int, until_ms: int) -> list[dict[str, Any]]:
    return [{"range": {"@timestamp": {"gte": since_ms, "lt": until_ms,
                                      "format": "epoch_millis"}}}]


def page_size(query: AggregateQuery) -> int:
    return DISTINCT_PAGE if query.distinct is not None else PAGE


def aggregate_body(query: AggregateQuery, after: dict[str, Any] | None,
                   size: int | None = None) -> dict[str, Any]:
    filters = _filters(query.since_ms, query.until_ms)
    filters += [{"term": {field.value: value}} for field, value in query.where]
    sources: list[dict[str, Any]] = []
    if query.by_day:
        sources.append({"day": {"date_histogram": {
            "field": "@timestamp", "calendar_interval": "1d", "time_zone": "UTC"}}})
    sources += [{f"k{n}": {"terms": {"field": field.value}}}
                for n, field in enumerate(query.group_by)]
    metrics: dict[str, Any] = {"first": {"min": {"field": "@timestamp"}},
                               "last": {"max": {"field": "@timestamp"}}}
    if query.distinct is not None:
        metrics["distinct"] = {"cardinality": {
            "field": query.distinct.value,
            "precision_threshold": PRECISION_PER_BUCKET if sources else PRECISION}}
    for n, field in enumerate(query.values):
        metrics[f"v{n}"] = {"terms": {"field": field.value, "size": MAX_VALUES,
                                      "order": {"_key": "asc"}}}
    aggs: dict[str, Any]
    if sources:
        composite: dict[str, Any] = {"size": size or page_size(query), "sources": sources}
        if after is not None:
            composite["after"] = after
        aggs = {"groups": {"composite": composite, "aggs": metrics}}
    else:
        aggs = metrics
    return {"size": 0, "track_total_hits": True, "query": {"bool": {"filter": filters}},
            "aggs": aggs}


def aggregate(search: Search, query: AggregateQuery,
              pause: Callable[[float], None] = time.sleep) -> list[Bucket]:
    if not query.group_by and not query.by_day:
        answer = search(aggregate_body(query, None))
        total = int(answer["hits"]["total"]["value"])
        aggs = answer["aggregations"]
        return [Bucket((), total, int(aggs["first"]["value"]), int(aggs["last"]["value"]),
                       _distinct(aggs), _values(query, aggs))] if total else []
    out: list[Bucket] = []
    after: dict[str, Any] | None = None
    size, refused = page_size(query), 0
    while True:
        try:
            answer = search(aggregate_body(query, after, size))
        except PageTooBig:
            if size <= MIN_PAGE:
                raise
            refused += 1
            pause(RETRY_PAUSE_S * refused)
            size = max(MIN_PAGE, size // 2)
            continue
        groups = answer.get("aggregations", {}).get("groups", {})
        for b in groups.get("buckets", []):
            out.append(_bucket(query, b))
        after = groups.get("after_key")
        if after is None or len(groups.get("buckets", [])) < size:
            break
    return sorted(out, key=lambda b: b.key)


def _bucket(query: AggregateQuery, raw: dict[str, Any]) -> Bucket:
    key_of = raw["key"]
    key = [day_of(int(key_of["day"]))] if query.by_day else []
    key += [_text(key_of[f"k{n}"]) for n in range(len(query.group_by))]
    return Bucket(tuple(key), int(raw["doc_count"]), int(raw["first"]["value"]),
                  int(raw["last"]["value"]), _distinct(raw), _values(query, raw))


def _values(query: AggregateQuery, raw: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(sorted(_text(t["key"]) for t in raw[f"v{n}"]["buckets"]))
                 for n in range(len(query.values)))


def _distinct(raw: dict[str, Any]) -> int:
    return int(raw["distinct"]["value"]) if "distinct" in raw else 0


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def span_body(since_ms: int, until_ms: int) -> dict[str, Any]:
    return {"size": 0, "track_total_hits": True,
            "query": {"bool": {"filter": _filters(since_ms, until_ms)}},
            "aggs": {"first": {"min": {"field": "guardian.seq"}},
                     "last": {"max": {"field": "guardian.seq"}}}}


def span(search: Search, since_ms: int, until_ms: int) -> Span:
    answer = search(span_body(since_ms, until_ms))
    total = int(answer["hits"]["total"]["value"])
    if not total:
        return Span(0, None, None)
    aggs = answer["aggregations"]
    return Span(total, int(aggs["first"]["value"]), int(aggs["last"]["value"]))

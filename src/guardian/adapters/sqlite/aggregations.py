"""Aggregations on the embedded audit index: one SQL ``GROUP BY`` per report figure.

Every field is a column of ``events`` or a side table (``event_reasons``, ``event_lists``),
filled at indexing time (:mod:`guardian.adapters.sqlite.index_schema`), so no query parses the
stored JSON; a side table holds each distinct value of an event's list once, so an event
counts once per distinct value, as an OpenSearch terms source does. Only fixed fragments of
this module are joined into SQL; every value is a ``?`` parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson

from guardian.adapters.sqlite.index_schema import COLUMNS
from guardian.audit.aggregations import (
    DAY_MS,
    MAX_VALUES,
    AggregateQuery,
    Bucket,
    Field,
    Span,
    day_of,
)

Read = Callable[[str, Sequence[Any]], Iterator[tuple[Any, ...]]]


def _group_source(field: Field, n: int) -> tuple[str, str]:
    """(join clause or "", value expression) grouping by ``field``."""
    if field in COLUMNS:
        return "", f"e.{COLUMNS[field]}"
    if field is Field.REASONS:
        return f" JOIN event_reasons r{n} ON r{n}.doc_id = e.doc_id", f"r{n}.reason"
    return (f" JOIN event_lists j{n} ON j{n}.doc_id = e.doc_id AND j{n}.field = "
            f"'{field.value}'", f"j{n}.value")


def _filter(field: Field, n: int) -> str:
    if field in COLUMNS:
        return f"e.{COLUMNS[field]} = ?"
    if field is Field.REASONS:
        return (f"EXISTS (SELECT 1 FROM event_reasons w{n} "  # noqa: S608 - fixed fragments
                f"WHERE w{n}.doc_id = e.doc_id AND w{n}.reason = ?)")
    return (f"EXISTS (SELECT 1 FROM event_lists w{n} WHERE w{n}.doc_id = e.doc_id "  # noqa: S608
            f"AND w{n}.field = '{field.value}' AND w{n}.value = ?)")


def aggregate_sql(query: AggregateQuery) -> tuple[str, list[Any]]:
    joins, keys, where = "", [], ["e.at_ms >= ?", "e.at_ms < ?"]
    params: list[Any] = [query.since_ms, query.until_ms]
    if query.by_day:
        keys.append(f"e.at_ms / {DAY_MS}")
    for n, field in enumerate(query.group_by):
        join, expr = _group_source(field, n)
        joins += join
        keys.append(expr)
        where.append(f"{expr} IS NOT NULL")
    for n, (field, value) in enumerate(query.where):
        where.append(_filter(field, n))
        params.append(value)
    selected = ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
    count = "count(*)"  # side tables hold each value of an event once
    if query.distinct is not None:
        # One row per customer named: count events once, and the customers apart.
        joins += " LEFT JOIN event_customers dc ON dc.doc_id = e.doc_id"
        count = "count(DISTINCT e.doc_id), count(DISTINCT dc.customer_id)"
    for field in query.values:  # single-valued fields only (AggregateQuery checks): columns
        count += f", json_group_array(DISTINCT e.{COLUMNS[field]})"
    group = " GROUP BY " + ", ".join(f"k{i}" for i in range(len(keys))) if keys else ""
    sql = ("SELECT " + (selected + ", " if selected else "")  # noqa: S608 - fixed fragments
           + count + ", min(e.at_ms), max(e.at_ms) FROM events e" + joins
           + " WHERE " + " AND ".join(where) + group)
    return sql, params


def aggregate(read: Read, query: AggregateQuery) -> list[Bucket]:
    sql, params = aggregate_sql(query)
    width = len(query.group_by) + (1 if query.by_day else 0)
    extra = 1 if query.distinct is not None else 0
    lists = width + 1 + extra  # the values' JSON arrays follow the counts
    tail = lists + len(query.values)
    out = []
    for row in read(sql, params):
        count = int(row[width])
        if count == 0:
            continue  # no key: the aggregate of an empty period
        key = [str(v) for v in row[:width]]
        if query.by_day:
            key[0] = day_of(int(row[0]) * DAY_MS)
        out.append(Bucket(tuple(key), count, int(row[tail]), int(row[tail + 1]),
                          int(row[width + 1]) if extra else 0,
                          tuple(_values(raw) for raw in row[lists:tail])))
    return sorted(out, key=lambda b: b.key)


def _values(raw: Any) -> tuple[str, ...]:
    """A bucket's distinct values of one field, from ``json_group_array``: sorted, no nulls."""
    return tuple(sorted(str(v) for v in orjson.loads(raw) if v is not None)[:MAX_VALUES])


def span(read: Read, since_ms: int, until_ms: int) -> Span:
    sql = "SELECT count(*), min(seq), max(seq) FROM events WHERE at_ms >= ? AND at_ms < ?"
    for count, first, last in read(sql, (since_ms, until_ms)):
        return Span(int(count), None if first is None else int(first),
                    None if last is None else int(last))
    return Span(0, None, None)

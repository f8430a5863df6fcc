"""Aggregations on the embedded audit index: one SQL ``GROUP BY`` per report figure.

The searched fields are columns of ``events``; reason codes come from ``event_reasons``; other
fields are read from the stored document with SQLite's JSON functions (``json_each`` for list
fields, so an event counts once per distinct value, as an OpenSearch terms source does). Only
fixed fragments of this module are joined into SQL; every value is a ``?`` parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from guardian.audit.aggregations import DAY_MS, AggregateQuery, Bucket, Field, Span, day_of

Read = Callable[[str, Sequence[Any]], Iterator[tuple[Any, ...]]]

_COLUMNS = {Field.ACTION: "e.action", Field.USER: "e.user_id", Field.DATABASE: "e.db",
            Field.CATEGORY: "e.category", Field.PURPOSE: "e.purpose",
            Field.DECISION: "e.decision"}
_DOC = "CAST(e.doc AS TEXT)"


def _path(field: Field) -> str:
    return "$." + ".".join(f'"{part}"' for part in field.value.split("."))


def _group_source(field: Field, n: int) -> tuple[str, str]:
    """(join clause or "", value expression) grouping by ``field``."""
    if field in _COLUMNS:
        return "", _COLUMNS[field]
    if field is Field.REASONS:
        return f" JOIN event_reasons r{n} ON r{n}.doc_id = e.doc_id", f"r{n}.reason"
    if field.many:
        return f" JOIN json_each({_DOC}, '{_path(field)}') j{n}", f"j{n}.value"
    return "", f"json_extract({_DOC}, '{_path(field)}')"


def _filter(field: Field, n: int) -> str:
    if field in _COLUMNS:
        return f"{_COLUMNS[field]} = ?"
    if field is Field.REASONS:
        return (f"EXISTS (SELECT 1 FROM event_reasons w{n} "  # noqa: S608 - fixed fragments
                f"WHERE w{n}.doc_id = e.doc_id AND w{n}.reason = ?)")
    if field.many:
        return (f"EXISTS (SELECT 1 FROM json_each({_DOC}, "  # noqa: S608 - fixed fragments
                f"'{_path(field)}') WHERE value = ?)")
    return f"json_extract({_DOC}, '{_path(field)}') = ?"


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
    # A list may repeat a value: count each event once per bucket, as a terms source does.
    count = "count(DISTINCT e.doc_id)" if "json_each" in joins else "count(*)"
    group = " GROUP BY " + ", ".join(f"k{i}" for i in range(len(keys))) if keys else ""
    sql = ("SELECT " + (selected + ", " if selected else "")  # noqa: S608 - fixed fragments
           + count + ", min(e.at_ms), max(e.at_ms) FROM events e" + joins
           + " WHERE " + " AND ".join(where) + group)
    return sql, params


def aggregate(read: Read, query: AggregateQuery) -> list[Bucket]:
    sql, params = aggregate_sql(query)
    width = len(query.group_by) + (1 if query.by_day else 0)
    out = []
    for row in read(sql, params):
        count = int(row[width])
        if count == 0:
            continue  # no key: the aggregate of an empty period
        key = [str(v) for v in row[:width]]
        if query.by_day:
            key[0] = day_of(int(row[0]) * DAY_MS)
        out.append(Bucket(tuple(key), count, int(row[width + 1]), int(row[width + 2])))
    return sorted(out, key=lambda b: b.key)


def span(read: Read, since_ms: int, until_ms: int) -> Span:
    sql = "SELECT count(*), min(seq), max(seq) FROM events WHERE at_ms >= ? AND at_ms < ?"
    for count, first, last in read(sql, (since_ms, until_ms)):
        return Span(int(count), None if first is None else int(first),
                    None if last is None else int(last))
    return Span(0, None, None)

"""Retention on the embedded audit index: the oldest rows go, by date, in sequence order.

The embedded index has no indices to roll over: what is past retention is deleted as rows.
The cut is made in sequence order, never by date alone, so the chain kept is whole: every event
before the cut is older than the cutoff, and the first event with a later time stops it (a
clock that stepped back only keeps a few rows longer). Verification then anchors the kept
chain on its oldest signed checkpoint. Checkpoint copies stay: they hold no personal data,
and they prove what the chain was.
"""

from __future__ import annotations

import sqlite3

from guardian.audit.aggregations import day_of
from guardian.audit.records import Removal

SIDE_TABLES = ("event_customers", "event_reasons", "event_lists")


def expired(conn: sqlite3.Connection, cutoff_ms: int) -> list[Removal]:
    """The oldest rows, every one older than ``cutoff_ms``, up to the first one that is not."""
    young = conn.execute("SELECT min(seq) FROM events WHERE at_ms >= ?", (cutoff_ms,))
    limit = young.fetchone()[0]
    sql = "SELECT count(*), min(seq), max(seq), min(at_ms), max(at_ms) FROM events"
    rows = conn.execute(sql + " WHERE seq < ?", (limit,)) if limit is not None \
        else conn.execute(sql)
    count, first, last, oldest, newest = rows.fetchone()
    if not count:
        return []
    target = f"events {day_of(int(oldest))}..{day_of(int(newest))}"
    return [Removal("rows", target, int(count), int(first), int(last), int(oldest),
                    int(newest))]


def remove(conn: sqlite3.Connection, removal: Removal) -> int:
    """Delete the events ``first_seq..last_seq`` and their side rows, in one transaction."""
    bounds = (removal.first_seq, removal.last_seq)
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table in SIDE_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE doc_id IN (SELECT doc_id FROM events "  # noqa: S608
                         "WHERE seq BETWEEN ? AND ?)", bounds)
        deleted = conn.execute("DELETE FROM events WHERE seq BETWEEN ? AND ?", bounds).rowcount
        conn.execute("COMMIT")
    except sqlite3.Error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return int(deleted)

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
    """Per writer's chain, the oldest rows, every one older than ``cutoff_ms``, up to the first
    one that is not."""
    removals = []
    writers = [str(w) for (w,) in conn.execute("SELECT DISTINCT writer FROM events "
                                               "ORDER BY writer")]
    for writer in writers:
        young = conn.execute("SELECT min(seq) FROM events WHERE writer = ? AND at_ms >= ?",
                             (writer, cutoff_ms))
        limit = young.fetchone()[0]
        sql = ("SELECT count(*), min(seq), max(seq), min(at_ms), max(at_ms) FROM events "
               "WHERE writer = ?")
        rows = conn.execute(sql + " AND seq < ?", (writer, limit)) if limit is not None \
            else conn.execute(sql, (writer,))
        count, first, last, oldest, newest = rows.fetchone()
        if not count:
            continue
        target = f"events {day_of(int(oldest))}..{day_of(int(newest))}"
        if writer:
            target += f" of writer {writer}"
        removals.append(Removal("rows", target, int(count), int(first), int(last), int(oldest),
                                int(newest), writer))
    return removals


def remove(conn: sqlite3.Connection, removal: Removal) -> int:
    """Delete the events ``first_seq..last_seq`` of the removal's writer and their side rows,
    in one transaction."""
    bounds = (removal.writer, removal.first_seq, removal.last_seq)
    chosen = "writer = ? AND seq BETWEEN ? AND ?"
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table in SIDE_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE doc_id IN (SELECT doc_id FROM events "  # noqa: S608
                         f"WHERE {chosen})", bounds)
        deleted = conn.execute(f"DELETE FROM events WHERE {chosen}", bounds).rowcount  # noqa: S608
        conn.execute("COMMIT")
    except sqlite3.Error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return int(deleted)

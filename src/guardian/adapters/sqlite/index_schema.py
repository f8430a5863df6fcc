"""The embedded audit index's SQLite schema, its indexes and its one migration.

Every field a report groups or filters by (:class:`guardian.audit.aggregations.Field`) is a
real column of ``events`` filled at indexing time, or, for list fields, rows of a side table
(``event_reasons`` for reason codes, ``event_lists`` for roles and factors), so no query parses
the stored JSON. A covering index on ``(action, at_ms, …)`` answers the decision figures of a
month from the index alone, without reading the (large) rows that hold the documents.

The schema version is SQLite's ``user_version``. Version 1 (before these columns) is migrated
in place: the columns are added, filled from the stored documents once, and the side table is
built; a new file is created at the current version directly. Version 3 adds the ``writer``
column to ``events`` and ``checkpoints`` (empty for events without a writer id, whose
``doc_id`` stays their seq): each writer's chain is keyed and walked by (writer, seq).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from guardian.audit.aggregations import Field

VERSION = 3

# Column of ``events`` per single-valued field (the order of the first ten is version 1's).
COLUMNS: Mapping[Field, str] = {
    Field.ACTION: "action", Field.USER: "user_id", Field.DATABASE: "db",
    Field.CATEGORY: "category", Field.PURPOSE: "purpose", Field.DECISION: "decision",
    Field.OUTCOME: "outcome", Field.APPLICATION: "application", Field.ACCESS: "access",
    Field.POLICY_VERSION: "policy_version", Field.REASON: "reason", Field.FACTOR: "factor",
    Field.ROLE: "role", Field.GRANTEE: "grantee",
}
V1_COLUMNS = ("doc_id", "seq", "at_ms", "action", "user_id", "db", "category", "purpose",
              "decision", "doc")
ADDED = ("outcome", "application", "access", "policy_version", "reason", "factor", "role",
         "grantee")
EVENT_COLUMNS = (*V1_COLUMNS, *ADDED, "writer")
LISTS = (Field.ROLES, Field.AMR)
"""List fields kept in ``event_lists`` (reason codes have ``event_reasons``)."""

TABLES = (
    ("events", "CREATE TABLE IF NOT EXISTS events (doc_id TEXT PRIMARY KEY, "
     "seq INTEGER NOT NULL, at_ms INTEGER NOT NULL, action TEXT, user_id TEXT, db TEXT, "
     "category TEXT, purpose TEXT, decision TEXT, doc BLOB NOT NULL, "
     + ", ".join(f"{c} TEXT" for c in ADDED) + ", writer TEXT NOT NULL DEFAULT '')"),
    ("event_customers", """CREATE TABLE IF NOT EXISTS event_customers (
        customer_id TEXT NOT NULL, doc_id TEXT NOT NULL, at_ms INTEGER NOT NULL,
        seq INTEGER NOT NULL)"""),
    ("event_reasons", """CREATE TABLE IF NOT EXISTS event_reasons (
        reason TEXT NOT NULL, doc_id TEXT NOT NULL, at_ms INTEGER NOT NULL,
        seq INTEGER NOT NULL)"""),
    ("event_lists", """CREATE TABLE IF NOT EXISTS event_lists (
        field TEXT NOT NULL, value TEXT NOT NULL, doc_id TEXT NOT NULL,
        at_ms INTEGER NOT NULL)"""),
    ("checkpoints", """CREATE TABLE IF NOT EXISTS checkpoints (
        doc_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, doc BLOB NOT NULL,
        writer TEXT NOT NULL DEFAULT '')"""),
)
INDEXES = (
    "CREATE INDEX IF NOT EXISTS events_seq ON events (seq)",
    "CREATE INDEX IF NOT EXISTS events_time ON events (at_ms, seq)",
    "CREATE INDEX IF NOT EXISTS events_user ON events (user_id, at_ms, seq)",
    "CREATE INDEX IF NOT EXISTS customers_by_id ON event_customers (customer_id, at_ms, seq)",
    "CREATE INDEX IF NOT EXISTS reasons_by_code ON event_reasons (reason, at_ms, seq)",
    # Version 2: the report's figures, each answered from an index that covers it.
    "CREATE INDEX IF NOT EXISTS events_facts ON events (action, at_ms, decision, user_id, db, "
    "category, purpose, application, access, policy_version, doc_id)",
    "CREATE INDEX IF NOT EXISTS events_period ON events (at_ms, action, seq)",
    "CREATE INDEX IF NOT EXISTS reasons_by_doc ON event_reasons (doc_id, reason)",
    "CREATE INDEX IF NOT EXISTS lists_by_doc ON event_lists (doc_id, field, value)",
    "CREATE INDEX IF NOT EXISTS customers_by_doc ON event_customers (doc_id)",
    # Version 3: one chain per writer.
    "CREATE INDEX IF NOT EXISTS events_chain ON events (writer, seq)",
)
INSERT_EVENT = (f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "  # noqa: S608 - fixed names
                f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})")


def create(conn: sqlite3.Connection) -> None:
    """Create what is missing and migrate a version-1 file (idempotent)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        old = _has_table(conn, "events") and "application" not in _columns(conn, "events")
        for _, ddl in TABLES:
            conn.execute(ddl)
        if old:
            _migrate_v1(conn)
        for table in ("events", "checkpoints"):
            if "writer" not in _columns(conn, table):
                conn.execute(f"ALTER TABLE {table} ADD COLUMN writer TEXT NOT NULL DEFAULT ''")
        for ddl in INDEXES:
            conn.execute(ddl)
        conn.execute(f"PRAGMA user_version = {VERSION}")
        conn.execute("COMMIT")
    except sqlite3.Error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return conn.execute(sql, (name,)).fetchone() is not None


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")}


def _path(field: Field) -> str:
    return "$." + ".".join(f'"{part}"' for part in field.value.split("."))


def _migrate_v1(conn: sqlite3.Connection) -> None:
    """Add version 2's columns and fill them (and ``event_lists``) from the documents."""
    by_column = {column: field for field, column in COLUMNS.items()}
    for column in ADDED:
        conn.execute(f"ALTER TABLE events ADD COLUMN {column} TEXT")
    sets = ", ".join(f"{c} = json_extract(CAST(doc AS TEXT), '{_path(by_column[c])}')"
                     for c in ADDED)
    conn.execute(f"UPDATE events SET {sets}")  # noqa: S608 - fixed fragments of this module
    for field in LISTS:
        conn.execute(
            "INSERT INTO event_lists SELECT DISTINCT ?, CAST(j.value AS TEXT), e.doc_id, "  # noqa: S608
            f"e.at_ms FROM events e JOIN json_each(CAST(e.doc AS TEXT), '{_path(field)}') j",
            (field.value,))


def _get(event: Mapping[str, Any], field: Field) -> Any:
    value: Any = event
    for part in field.value.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str | None:
    """A value as SQLite's JSON functions read it (booleans as 1/0, like before)."""
    if value is None or isinstance(value, (Mapping, list)):
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def added_values(event: Mapping[str, Any]) -> tuple[str | None, ...]:
    """Version 2's columns of one event, in ``ADDED`` order."""
    by_column = {column: field for field, column in COLUMNS.items()}
    return tuple(_text(_get(event, by_column[c])) for c in ADDED)


def list_rows(event: Mapping[str, Any], doc_id: str, at_ms: int
              ) -> list[tuple[str, str, str, int]]:
    """``event_lists`` rows of one event: each distinct value of each list field once."""
    rows = []
    for field in LISTS:
        values = _get(event, field)
        if isinstance(values, list):
            for value in dict.fromkeys(t for v in values if (t := _text(v)) is not None):
                rows.append((field.value, value, doc_id, at_ms))
    return rows

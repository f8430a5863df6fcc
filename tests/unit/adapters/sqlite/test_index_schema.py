"""The embedded index's schema: a version-1 file (report fields read from the JSON) is migrated
in place, its columns and side rows filled from the stored documents."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson

from audit_support import decision, sqlite_index
from guardian.adapters.sqlite.index_schema import VERSION
from guardian.audit.aggregations import AggregateQuery, Field
from guardian.audit.queries import iso_to_millis

V1 = ("CREATE TABLE events (doc_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, "
      "at_ms INTEGER NOT NULL, action TEXT, user_id TEXT, db TEXT, category TEXT, "
      "purpose TEXT, decision TEXT, doc BLOB NOT NULL)")


def _v1_file(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(V1)
    event = decision(1)
    event["user"]["roles"] = ["customer-care", "fraud", "fraud"]
    event["guardian"]["seq"] = 1
    at = iso_to_millis(event["@timestamp"])
    conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?)",
                 ("1", 1, at, "access.decision", "alice", "crm", "contact", "customer-care",
                  "permit", orjson.dumps(event)))
    conn.close()


def test_a_version_1_index_is_migrated_and_its_figures_come_from_columns(
        tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    _v1_file(path)
    index = sqlite_index(path)
    month = (iso_to_millis("2026-11-01"), iso_to_millis("2026-12-01"))

    apps = index.aggregate(AggregateQuery(*month, (Field.APPLICATION, Field.ACCESS)))
    roles = index.aggregate(AggregateQuery(*month, (Field.ROLES,)))

    assert [(b.key, b.count) for b in apps] == [(("crm-web", "read"), 1)]
    assert [(b.key, b.count) for b in roles] == [(("customer-care",), 1), (("fraud",), 1)]
    index.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION
    columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
    assert {"application", "access", "policy_version", "grantee"} <= columns
    conn.close()

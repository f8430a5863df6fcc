"""Helpers for the audit trail's tests: a signer, journals with checkpoints, an index that fails
on demand, and the tampering an attacker could do to an index (used on SQLite and OpenSearch)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from guardian.adapters.opensearch.design import load_design
from guardian.adapters.sqlite.audit_index import SqliteAuditIndex
from guardian.audit.chain import recompute
from guardian.audit.checkpoints import Checkpointer, CheckpointSigner, CheckpointVerifier
from guardian.audit.records import ItemOutcome, ItemStatus, JournalRecord
from guardian.errors import AuditIndexUnavailable
from guardian.journal.writer import FileJournal
from support import ROOT

DESIGN = load_design(ROOT / "audit" / "opensearch", prefix="t", retention_days=365,
                     rollover_days=30, replicas=0)


class Ticks:
    """A monotonic clock moved by hand (for checkpoints due by time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def signer() -> CheckpointSigner:
    return CheckpointSigner(Ed25519PrivateKey.generate(), "test")


def verifier_for(*signers: CheckpointSigner) -> CheckpointVerifier:
    return CheckpointVerifier([s.public_key for s in signers])


def decision(n: int, *, customer: str = "C-1001", user: str = "alice",
             at: str = "2026-11-20T10:00:00.000Z") -> dict[str, Any]:
    return {
        "@timestamp": at,
        "event": {"kind": "event", "category": ["iam"], "action": "access.decision",
                  "outcome": "success"},
        "user": {"id": user, "roles": ["customer-care"]},
        "service": {"name": "crm-web"},
        "guardian": {"decision_id": f"D{n:06d}", "decision": "permit", "action": "read",
                     "purpose": "customer-care", "database": "crm", "category": "contact",
                     "customer_ids": [customer], "reasons": ["permitted"],
                     "policy_version": "sha256:test"},
    }


def journal(path: Path, key: CheckpointSigner, *, every: int = 10,
            ticks: Ticks | None = None, writer: str = "") -> FileJournal:
    checkpointer = Checkpointer(key, lambda: 1_790_000_000.0, every_events=every,
                                every_s=60.0, monotonic=ticks or Ticks())
    return FileJournal(path, fsync=False, checkpointer=checkpointer, writer=writer)


def sqlite_index(path: Path) -> SqliteAuditIndex:
    return SqliteAuditIndex(path, DESIGN.properties)


class FlakyIndex:
    """An AuditIndex wrapper that can be down, ask for retries, or refuse seqs for good."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False
        self.retry: set[int] = set()
        self.reject: set[int] = set()
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _gate(self, records: Sequence[JournalRecord],
              send: Callable[[Sequence[JournalRecord]], list[ItemOutcome]]) -> list[ItemOutcome]:
        self.calls += 1
        if self.down:
            raise AuditIndexUnavailable("index down (test)")
        passing = [r for r in records if r.seq not in self.retry | self.reject]
        done = {o.seq: o for o in send(passing)}
        out = []
        for r in records:
            if r.seq in self.reject:
                out.append(ItemOutcome(r.seq, ItemStatus.REJECTED, "strict mapping (test)"))
            elif r.seq in self.retry:
                out.append(ItemOutcome(r.seq, ItemStatus.RETRY, "busy (test)"))
            else:
                out.append(done[r.seq])
        return out

    def index_events(self, records: Sequence[JournalRecord]) -> list[ItemOutcome]:
        return self._gate(records, self.inner.index_events)

    def index_checkpoints(self, records: Sequence[JournalRecord]) -> list[ItemOutcome]:
        return self._gate(records, self.inner.index_checkpoints)


def rehash(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its own hash recomputed (what a careful attacker would do)."""
    event["guardian"]["hash"] = recompute(event)
    return event


def _table(name: str) -> str:
    assert name in ("events", "checkpoints")
    return name


class SqliteTamper:
    """An attacker with write access to the SQLite index file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _conn(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, isolation_level=None)

    def get(self, doc_id: str, table: str = "events") -> dict[str, Any]:
        with self._conn() as conn:
            row = conn.execute(f"SELECT doc FROM {_table(table)} WHERE doc_id = ?",  # noqa: S608
                               (doc_id,)).fetchone()
        doc: dict[str, Any] = orjson.loads(row[0])
        return doc

    def put(self, doc_id: str, event: dict[str, Any], table: str = "events") -> None:
        doc = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
        seq = int(event["guardian"]["seq"])
        writer = str(event["guardian"].get("writer", ""))
        with self._conn() as conn:
            if table == "events":
                conn.execute("INSERT OR REPLACE INTO events (doc_id, seq, at_ms, doc, writer) "
                             "VALUES (?, ?, 0, ?, ?)", (doc_id, seq, doc, writer))
            else:
                conn.execute("INSERT OR REPLACE INTO checkpoints (doc_id, seq, doc, writer) "
                             "VALUES (?, ?, ?, ?)", (doc_id, seq, doc, writer))

    def delete(self, doc_id: str, table: str = "events") -> None:
        with self._conn() as conn:
            conn.execute(f"DELETE FROM {_table(table)} WHERE doc_id = ?",  # noqa: S608
                         (doc_id,))

    def refresh(self) -> None:
        return None

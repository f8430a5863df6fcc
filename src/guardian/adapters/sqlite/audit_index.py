"""The embedded audit index: a SQLite file with the same contract as the OpenSearch one.

Documents are stored as the journal wrote them (canonical JSON), keyed like OpenSearch
documents by ``doc_id`` (``"<writer>:<seq>"``, or the sequence number for an event without a
writer id) with the writer in a column of its own, with the searched fields copied into indexed
columns and customers and reason codes into side tables. Indexing is create-only: a document
already there is compared, never replaced. Events that do not fit the strict mapping of
``audit/opensearch/mappings.json`` are rejected, as OpenSearch would.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson

from guardian.adapters.sqlite import aggregations as sqlite_aggregations
from guardian.adapters.sqlite import index_schema as sqlite_index_schema
from guardian.adapters.sqlite import retention as sqlite_retention
from guardian.adapters.sqlite.index_schema import INSERT_EVENT, TABLES, added_values, list_rows
from guardian.audit.aggregations import AggregateQuery, Bucket, Span
from guardian.audit.queries import AuditPage, AuditQuery, Order, cursor_of, event_millis
from guardian.audit.records import (
    IndexStatus,
    ItemOutcome,
    ItemStatus,
    JournalRecord,
    Removal,
    SetupReport,
    SetupStep,
    StepOutcome,
    StoredEvent,
)
from guardian.audit.schema import mapping_problems
from guardian.audit.writers import writer_of
from guardian.errors import AuditIndexUnavailable

RETENTION_TEXT = ("guardian: rows past GUARDIAN_AUDIT_RETENTION_DAYS deleted by the retention job "
                  "(daily in `guardian serve`, or `guardian audit retention`)")
_T = TypeVar("_T")
_COLUMNS = {"user.id": "e.user_id", "guardian.database": "e.db",
            "guardian.category": "e.category", "guardian.purpose": "e.purpose",
            "guardian.decision": "e.decision", "event.action": "e.action"}


class SqliteAuditIndex:
    """A :class:`guardian.ports.AuditIndex` in a local SQLite file."""

    def __init__(self, path: Path, properties: Mapping[str, Any]) -> None:
        self.path = path
        self._properties = properties
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    # -- connections --------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False,
                                   isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # acknowledged means on disk
        except (sqlite3.Error, OSError) as exc:
            raise AuditIndexUnavailable(f"SQLite audit index {self.path}: {exc}") from exc
        return conn

    def _writer(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = self._connect()
            try:
                sqlite_index_schema.create(conn)
            except sqlite3.Error as exc:
                conn.close()
                raise AuditIndexUnavailable(f"SQLite audit index {self.path}: {exc}") from exc
            self._conn = conn
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- setup and status ---------------------------------------------------------------

    def setup(self) -> SetupReport:
        with self._lock:
            existed = self.path.exists()
            conn = self._writer()
            steps = [SetupStep(f"table {name}", StepOutcome.UNCHANGED if existed
                               else StepOutcome.CREATED) for name, _ in TABLES]
            del conn
        return SetupReport("sqlite", tuple(steps), (
            f"embedded index at {self.path}",
            "retention: Guardian's retention job deletes rows past GUARDIAN_AUDIT_RETENTION_DAYS "
            "(`guardian audit retention`, daily in `guardian serve`)",
        ))

    def status(self) -> IndexStatus:
        return IndexStatus("sqlite", str(self.path), RETENTION_TEXT)

    # -- retention (no ISM here: Guardian's retention job; see sqlite_retention) -------------

    def retention_managed(self) -> bool:
        return False

    def prepare(self) -> None:
        return None  # the mapping is read from the design files when the index is opened

    def roll_over(self, now_ms: int, max_age_ms: int, max_bytes: int, *,
                  dry_run: bool = False) -> str | None:
        return None  # one table: rows are deleted by date, nothing to roll over

    def expired(self, cutoff_ms: int) -> list[Removal]:
        return self._locked(lambda conn: sqlite_retention.expired(conn, cutoff_ms))

    def remove(self, removal: Removal) -> int:
        return self._locked(lambda conn: sqlite_retention.remove(conn, removal))

    def _locked(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            conn = self._writer()
            try:
                return work(conn)
            except sqlite3.Error as exc:
                raise AuditIndexUnavailable(f"SQLite audit index: {exc}") from exc

    # -- indexing -----------------------------------------------------------------------

    def index_events(self, records: Sequence[JournalRecord]) -> list[ItemOutcome]:
        return self._create(records, events=True)

    def index_checkpoints(self, records: Sequence[JournalRecord]) -> list[ItemOutcome]:
        return self._create(records, events=False)

    def _create(self, records: Sequence[JournalRecord], *, events: bool) -> list[ItemOutcome]:
        if not records:
            return []
        table = "events" if events else "checkpoints"
        with self._lock:
            conn = self._writer()
            try:
                conn.execute("BEGIN IMMEDIATE")
                outcomes = self._insert(conn, table, records, events=events)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise AuditIndexUnavailable(f"SQLite audit index: {exc}") from exc
        return outcomes

    def _insert(
        self, conn: sqlite3.Connection, table: str, records: Sequence[JournalRecord], *,
        events: bool,
    ) -> list[ItemOutcome]:
        existing = _existing(conn, table, [r.doc_id for r in records])
        outcomes: list[ItemOutcome] = []
        rows: list[tuple[Any, ...]] = []
        customers: list[tuple[str, str, int, int]] = []
        reasons: list[tuple[str, str, int, int]] = []
        lists: list[tuple[str, str, str, int]] = []
        for record in records:
            doc_id = record.doc_id
            if doc_id in existing:
                outcomes.append(_compare(record, existing[doc_id]))
                continue
            problems = mapping_problems(record.event, self._properties)
            if problems:
                outcomes.append(ItemOutcome(record.seq, ItemStatus.REJECTED, problems[0]))
                continue
            existing[doc_id] = record.raw
            outcomes.append(ItemOutcome(record.seq, ItemStatus.CREATED))
            if not events:
                rows.append((doc_id, record.seq, record.raw, writer_of(record.event)))
                continue
            row, cust, why = _event_row(doc_id, record)
            rows.append(row)
            customers.extend(cust)
            reasons.extend(why)
            lists.extend(list_rows(record.event, doc_id, row[2]))
        if events:
            conn.executemany(INSERT_EVENT, rows)
            conn.executemany("INSERT INTO event_customers VALUES (?,?,?,?)", customers)
            conn.executemany("INSERT INTO event_reasons VALUES (?,?,?,?)", reasons)
            conn.executemany("INSERT INTO event_lists VALUES (?,?,?,?)", lists)
        else:
            conn.executemany("INSERT INTO checkpoints (doc_id, seq, doc, writer) "
                             "VALUES (?,?,?,?)", rows)
        return outcomes

    # -- reading ------------------------------------------------------------------------

    def _read(self, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        if self._conn is None:
            with self._lock:
                self._writer()  # the tables exist before anyone reads them
        conn = self._connect()
        try:
            cursor = conn.execute(sql, params)
            while rows := cursor.fetchmany(5000):
                yield from rows
        except sqlite3.Error as exc:
            raise AuditIndexUnavailable(f"SQLite audit index: {exc}") from exc
        finally:
            conn.close()

    def events_in_order(self, after_seq: int = 0) -> Iterator[StoredEvent]:
        sql = "SELECT doc_id, doc FROM events WHERE seq > ? ORDER BY writer, seq, doc_id"
        for doc_id, doc in self._read(sql, (after_seq,)):
            yield StoredEvent(doc_id, orjson.loads(doc))

    def checkpoints(self) -> Iterator[StoredEvent]:
        sql = "SELECT doc_id, doc FROM checkpoints ORDER BY writer, seq"
        for doc_id, doc in self._read(sql, ()):
            yield StoredEvent(doc_id, orjson.loads(doc))

    def count(self) -> int:
        rows = list(self._read("SELECT count(*) FROM events", ()))
        return int(rows[0][0]) if rows else 0

    def search(self, query: AuditQuery) -> AuditPage:
        sql, params = _search_sql(query)
        events = [orjson.loads(doc) for doc, _at, _seq in self._read(sql, params)]
        more = len(events) > query.size
        events = events[:query.size]
        return AuditPage(events, cursor_of(events[-1]) if more and events else None)

    # -- aggregations (periodic reports; see sqlite_aggregations) ---------------------------

    def aggregate(self, query: AggregateQuery) -> list[Bucket]:
        return sqlite_aggregations.aggregate(self._read, query)

    def span(self, since_ms: int, until_ms: int) -> Span:
        return sqlite_aggregations.span(self._read, since_ms, until_ms)


def _existing(conn: sqlite3.Connection, table: str, ids: list[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT doc_id, doc FROM {table} WHERE doc_id IN ({marks})"  # noqa: S608 - placeholders only
        found.update((str(i), bytes(d)) for i, d in conn.execute(sql, chunk))
    return found


def _compare(record: JournalRecord, stored: bytes) -> ItemOutcome:
    if stored == record.raw or orjson.loads(stored) == record.event:
        return ItemOutcome(record.seq, ItemStatus.DUPLICATE)
    return ItemOutcome(record.seq, ItemStatus.CONFLICT,
                       f"another document already holds {record.doc_id}")


def _event_row(
    doc_id: str, record: JournalRecord
) -> tuple[tuple[Any, ...], list[tuple[str, str, int, int]], list[tuple[str, str, int, int]]]:
    event = record.event
    g: Mapping[str, Any] = event.get("guardian", {})
    at_ms = event_millis(event)
    row = (doc_id, record.seq, at_ms, event.get("event", {}).get("action"),
           event.get("user", {}).get("id"), g.get("database"), g.get("category"),
           g.get("purpose"), g.get("decision"), record.raw, *added_values(event),
           writer_of(event))
    # Each value once per event, so a search joining these tables never repeats an event.
    customers = [(c, doc_id, at_ms, record.seq)
                 for c in dict.fromkeys(str(c) for c in g.get("customer_ids", ()))]
    reasons = [(r, doc_id, at_ms, record.seq)
               for r in dict.fromkeys(str(r) for r in g.get("reasons", ()))]
    return row, customers, reasons


def _search_sql(query: AuditQuery) -> tuple[str, list[Any]]:
    """SQL with ``?`` placeholders for every value the caller gave; never their text.

    The most selective side table (customers, else reason codes, else the events themselves)
    drives the query through its (value, time, seq) index, so the newest page comes first
    without sorting every match.
    """
    terms = query.terms()
    customer, reason = terms.pop("guardian.customer_ids", None), terms.pop("guardian.reasons",
                                                                            None)
    source, params = "events e", list[Any]()
    driver = "e"
    if customer is not None:
        source, driver = "event_customers c JOIN events e ON e.doc_id = c.doc_id", "c"
        params.append(customer)
    if reason is not None:
        if driver == "e":
            source, driver = "event_reasons r JOIN events e ON e.doc_id = r.doc_id", "r"
        else:
            source += " JOIN event_reasons r ON r.doc_id = e.doc_id"
        params.append(reason)
    where = [f"{d}.{col} = ?" for d, col in (("c", "customer_id"), ("r", "reason"))
             if (d == "c" and customer is not None) or (d == "r" and reason is not None)]
    for field, value in terms.items():
        where.append(f"{_COLUMNS[field]} = ?")
        params.append(value)
    if query.since_ms is not None:
        where.append(f"{driver}.at_ms >= ?")
        params.append(query.since_ms)
    if query.until_ms is not None:
        where.append(f"{driver}.at_ms < ?")
        params.append(query.until_ms)
    desc = query.order is Order.NEWEST_FIRST
    if query.after is not None:
        op = "<" if desc else ">"
        where.append(f"({driver}.at_ms {op} ? OR ({driver}.at_ms = ? AND {driver}.seq {op} ?))")
        params.extend([query.after.at_ms, query.after.at_ms, query.after.seq])
    direction = "DESC" if desc else "ASC"
    # Only fixed fragments of this module are joined here; every value is a ``?`` parameter.
    filters = " WHERE " + " AND ".join(where) if where else ""
    sql = ("SELECT e.doc, e.at_ms, e.seq FROM " + source + filters  # noqa: S608
           + f" ORDER BY {driver}.at_ms {direction}, {driver}.seq {direction} LIMIT ?")
    params.append(query.size + 1)
    return sql, params


"""The change feed of the embedded default: a ``changes`` table polled by every process.

Workers of one machine share the SQLite store, so a change is one row inserted into ``changes``
(kind, key, origin process) and every process reads the rows after the last one it saw, every
``poll_s`` (150 ms by default), in a daemon thread of its own: a cheap indexed range read, never
on the event loop. SQLite hands out ids in commit order (one writer at a time), so a cursor on
the id misses nothing. The process that publishes prunes rows older than ``keep_s``.
"""

from __future__ import annotations

import time
import uuid

from sqlalchemy import Engine, delete, func, insert, select

from guardian.adapters.sql.errors import translated
from guardian.adapters.sql.store import changes
from guardian.adapters.threads.background import Every
from guardian.changes import MAX_KEY, ChangeKind, Handler, Subscribers, parse
from guardian.errors import StoreUnavailable
from guardian.logging import get_logger

log = get_logger("guardian.changes")
_BATCH = 1000


class SqliteChangeFeed:
    """Implements :class:`~guardian.ports.ChangeFeed` on the store's ``changes`` table."""

    def __init__(self, engine: Engine, *, poll_s: float = 0.15, keep_s: float = 600.0) -> None:
        self.engine = engine
        self.origin = uuid.uuid4().hex
        self.subscribers = Subscribers()
        self._keep_s = keep_s
        self._cursor: int | None = None
        self._pruned_at = 0.0
        self._loop = Every("guardian-changes", poll_s, self.poll)

    def publish(self, kind: ChangeKind, key: str) -> None:
        now = time.time()
        try:
            with translated(), self.engine.begin() as conn:
                conn.execute(insert(changes).values(kind=kind.value, key=key[:MAX_KEY],
                                                    origin=self.origin, at=now))
                if now - self._pruned_at > self._keep_s / 10:
                    conn.execute(delete(changes).where(changes.c.at < now - self._keep_s))
                    self._pruned_at = now
        except StoreUnavailable as exc:
            log.warning("change not published; other processes see it at their next refresh",
                        kind=kind.value, error=exc.message)

    def subscribe(self, kind: ChangeKind, handler: Handler) -> None:
        self.subscribers.subscribe(kind, handler)

    def mark(self) -> None:
        """Start reading after the changes stored so far (call before loading the views, so a
        change stored while they load is delivered, not missed)."""
        with translated(), self.engine.connect() as conn:
            self._cursor = int(conn.execute(select(func.max(changes.c.id))).scalar() or 0)

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()

    def poll(self) -> int:
        """Deliver the changes other processes made since the last poll; how many."""
        try:
            return self._poll()
        except StoreUnavailable as exc:
            log.warning("change feed not read; retrying", error=exc.message)
            return 0

    def _poll(self) -> int:
        with translated(), self.engine.connect() as conn:
            if self._cursor is None:  # first poll: start from now
                self._cursor = int(conn.execute(select(func.max(changes.c.id))).scalar() or 0)
                return 0
            rows = conn.execute(
                select(changes.c.id, changes.c.kind, changes.c.key, changes.c.origin)
                .where(changes.c.id > self._cursor).order_by(changes.c.id).limit(_BATCH)).all()
        delivered = 0
        for row_id, kind, key, origin in rows:
            self._cursor = int(row_id)
            change = parse(str(kind), str(key))
            if change is not None and origin != self.origin:
                self.subscribers.deliver(change)
                delivered += 1
        return delivered

"""The leader lock on PostgreSQL: a session advisory lock on a connection kept while leading.

``try_acquire(name)`` takes ``pg_try_advisory_lock(key)`` (non-blocking) on a connection of
its own, checked out of the engine's pool and held as long as this process leads ``name``.
The lock belongs to that database session, so when the connection drops (the server restarts,
the network cuts it, this process dies) the lock is gone and another replica can take it:
a lost connection is lost leadership. ``held`` asks the server whether the session still holds
it (a dead connection answers no), and the next ``try_acquire`` starts over on a new
connection. The key is the first 63 bits of SHA-256 of ``guardian-leader:<name>``, so any
job's name maps to one stable key without a registry of numbers.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from guardian.errors import StoreUnavailable
from guardian.logging import get_logger

log = get_logger("guardian.leader")

_HELD = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = pg_backend_pid() AND objsubid = 1 "
    "AND ((classid::bigint << 32) | objid::bigint) = :key")


def lock_key(name: str) -> int:
    """The advisory-lock key of a job's name (non-negative, 63 bits)."""
    digest = hashlib.sha256(f"guardian-leader:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class PostgresLeaderLock:
    """Implements :class:`guardian.ports.LeaderLock` with PostgreSQL advisory locks."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connections: dict[str, Connection] = {}
        self._guard = threading.Lock()

    def try_acquire(self, name: str) -> bool:
        with self._guard:
            if self._still_held(name):
                return True
            conn = self._connect()
            try:
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                        {"key": lock_key(name)}).scalar())
                conn.commit()
            except SQLAlchemyError as exc:
                _close(conn)
                raise StoreUnavailable(f"cannot ask PostgreSQL for the {name!r} lock: "
                                       f"{type(exc).__name__}") from exc
            if not got:
                _close(conn)
                return False
            self._connections[name] = conn
            log.info("leading", job=name)
            return True

    def release(self, name: str) -> None:
        with self._guard:
            conn = self._connections.pop(name, None)
            if conn is None:
                return
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(name)})
                conn.commit()
            except SQLAlchemyError:
                pass  # the session is gone, and its lock with it
            finally:
                _close(conn)

    def held(self, name: str) -> bool:
        with self._guard:
            return self._still_held(name)

    def close(self) -> None:
        for name in list(self._connections):
            self.release(name)

    def _still_held(self, name: str) -> bool:
        conn = self._connections.get(name)
        if conn is None:
            return False
        try:
            count = conn.execute(_HELD, {"key": lock_key(name)}).scalar()
            conn.commit()
        except SQLAlchemyError:
            count = 0
        if count:
            return True
        log.warning("leadership lost", job=name)
        del self._connections[name]
        _close(conn)
        return False

    def _connect(self) -> Connection:
        try:
            return self.engine.connect()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot reach PostgreSQL: {type(exc).__name__}") from exc


def _close(conn: Connection) -> None:
    with contextlib.suppress(SQLAlchemyError):
        conn.invalidate()  # never back to the pool: a session that held a lock is not reused
    with contextlib.suppress(SQLAlchemyError):
        conn.close()

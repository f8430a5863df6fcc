"""The change feed between replicas: PostgreSQL LISTEN/NOTIFY, on a connection of its own.

``publish`` sends ``NOTIFY`` through the store's engine (one short round trip, off the event
loop: services publish after storing). Listening holds one psycopg 3 connection in autocommit,
in a daemon thread that waits for notifications and hands each to the subscribers; if the
connection drops, it reconnects with a growing pause (up to ``max_backoff_s``). After every
LISTEN (the first included) it delivers a ``resync``, so every view re-reads whatever it may
have missed before. The
periodic refresh of every view stays, as the net under a notification lost in between.

A notification is ``origin|kind|key``; a process skips its own. The channel is named after
the store's schema (``search_path``), so deployments sharing a database in separate schemas
do not wake each other.
"""

from __future__ import annotations

import re
import threading
import uuid

import psycopg
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError

from guardian.changes import MAX_KEY, Change, ChangeKind, Handler, Subscribers, parse
from guardian.logging import get_logger

log = get_logger("guardian.changes")
_SEARCH_PATH = re.compile(r"search_path=([A-Za-z0-9_]+)")


def channel_of(url: str) -> str:
    """``guardian_changes``, suffixed by the schema of ``url``'s ``search_path`` if it has one."""
    options = str(make_url(url).query.get("options", ""))
    found = _SEARCH_PATH.search(options)
    return "guardian_changes" if found is None else f"guardian_changes_{found.group(1)}"[:63]


def conninfo_of(url: str) -> str:
    """A libpq URI for psycopg from the store's SQLAlchemy URL (driver name dropped)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresChangeFeed:
    """Implements :class:`~guardian.ports.ChangeFeed` with LISTEN/NOTIFY."""

    def __init__(self, engine: Engine, url: str, *, max_backoff_s: float = 5.0,
                 connect_timeout_s: float = 5.0) -> None:
        self.engine = engine
        self.origin = uuid.uuid4().hex
        self.channel = channel_of(url)
        self.subscribers = Subscribers()
        self.connected = threading.Event()
        self.reconnects = 0
        self._conninfo = conninfo_of(url)
        self._timeout_s = connect_timeout_s
        self._max_backoff_s = max_backoff_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def publish(self, kind: ChangeKind, key: str) -> None:
        payload = f"{self.origin}|{kind.value}|{key[:MAX_KEY]}"
        try:
            with self.engine.begin() as conn:
                conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                             {"channel": self.channel, "payload": payload})
        except SQLAlchemyError as exc:
            log.warning("change not published; other replicas see it at their next refresh",
                        kind=kind.value, error=type(exc).__name__)

    def subscribe(self, kind: ChangeKind, handler: Handler) -> None:
        self.subscribers.subscribe(kind, handler)

    def start(self, wait_s: float = 5.0) -> None:
        """Start listening; wait up to ``wait_s`` for the first LISTEN to be in place."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="guardian-changes", daemon=True)
        self._thread.start()
        self.connected.wait(wait_s)

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(10.0)

    def _run(self) -> None:
        pause = 0.1
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True,
                                     connect_timeout=int(self._timeout_s)) as conn:
                    conn.execute(f'LISTEN "{self.channel}"')
                    self.connected.set()
                    # What was published before this LISTEN (since the views were loaded, or
                    # while disconnected) is unknown: every view re-reads.
                    self.subscribers.deliver(Change(ChangeKind.RESYNC, ""))
                    pause = 0.1
                    self._listen(conn)
            except psycopg.Error as exc:
                self.connected.clear()
                self.reconnects += 1
                log.warning("change feed disconnected; reconnecting", error=type(exc).__name__,
                            retry_in_s=round(pause, 2))
                self._stop.wait(pause)
                pause = min(pause * 2, self._max_backoff_s)

    def _listen(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        while not self._stop.is_set():
            for note in conn.notifies(timeout=0.5, stop_after=100):
                self._deliver(note.payload)

    def _deliver(self, payload: str) -> None:
        origin, _, rest = payload.partition("|")
        kind, _, key = rest.partition("|")
        if origin == self.origin:
            return
        change = parse(kind, key)
        if change is not None:
            self.subscribers.deliver(change)

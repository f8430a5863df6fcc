"""The in-process leader lock: on the embedded default (SQLite, one process) this process leads.

Holders in one process share one table of names, so two schedulers started in the same
process (tests, or a job wired twice) still make one leader. A holder that is garbage-collected
without releasing frees its names (the table keeps weak references), so a forgotten holder
cannot keep a job from running for the life of the process. A second process on the same
SQLite file is not covered: SQLite deployments are one process by design; several replicas
use the PostgreSQL lock (:mod:`guardian.adapters.sql.leader_lock`).
"""

from __future__ import annotations

import threading
import weakref

_GUARD = threading.Lock()
_HOLDERS: dict[str, weakref.ref[ProcessLeaderLock]] = {}


class ProcessLeaderLock:
    """Implements :class:`guardian.ports.LeaderLock` within this process."""

    def try_acquire(self, name: str) -> bool:
        with _GUARD:
            holder = _HOLDERS.get(name)
            current = holder() if holder is not None else None
            if current is None:
                _HOLDERS[name] = weakref.ref(self)
                return True
            return current is self

    def release(self, name: str) -> None:
        with _GUARD:
            holder = _HOLDERS.get(name)
            if holder is not None and holder() in (self, None):
                del _HOLDERS[name]

    def held(self, name: str) -> bool:
        with _GUARD:
            holder = _HOLDERS.get(name)
            return holder is not None and holder() is self

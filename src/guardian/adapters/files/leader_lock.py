"""The leader lock of the embedded default: ``flock`` on a file per job in the data folder.

The workers of ``guardian serve --workers N`` share one data folder and one SQLite store, and
the scheduled jobs (reports, retention, review clock) must run in one of them only. Each job's
name has a lock file, ``<data folder>/leader/<name>.lock``; ``try_acquire`` takes an exclusive,
non-blocking ``flock`` on it, held on an open file kept while leading. The kernel releases it
when the holder closes it or dies (a SIGKILLed worker hands leadership on at once), and two
holders in one process exclude each other too (``flock`` locks belong to the open file). A
holder garbage-collected without releasing closes its files. Several machines sharing a store
use the PostgreSQL lock (:mod:`guardian.adapters.sql.leader_lock`) instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
import weakref
from pathlib import Path


def _close_all(fds: dict[str, int]) -> None:
    for fd in fds.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    fds.clear()


class FileLeaderLock:
    """Implements :class:`guardian.ports.LeaderLock` across the processes of one host."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._guard = threading.Lock()
        self._fds: dict[str, int] = {}
        weakref.finalize(self, _close_all, self._fds)

    def _path(self, name: str) -> Path:
        return self._folder / (re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".lock")

    def try_acquire(self, name: str) -> bool:
        with self._guard:
            if name in self._fds:
                return True
            self._folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path(name), os.O_RDWR | os.O_CREAT, 0o640)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
            self._fds[name] = fd
            return True

    def release(self, name: str) -> None:
        with self._guard:
            fd = self._fds.pop(name, None)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)  # closing the file drops its lock

    def held(self, name: str) -> bool:
        with self._guard:
            return name in self._fds

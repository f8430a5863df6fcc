"""Background work of ``guardian serve``: one daemon thread calling one function every interval.

The directory sync, the directory-file watcher and the report schedule are the same loop with
different work; this is that loop, once. The work is called at start (unless told otherwise),
then every ``interval_s`` until :meth:`Every.stop`. Work is expected to catch and report its
own failures; anything it lets through is logged here and the thread carries on, since a
background thread that dies silently is worse than one that logs the same error every interval.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from guardian.errors import GuardianError
from guardian.logging import get_logger
from guardian.ports import LeaderLock

log = get_logger("guardian.background")


class Every:
    """Call ``work`` every ``interval_s`` seconds in a daemon thread named ``name``."""

    def __init__(self, name: str, interval_s: float, work: Callable[[], object], *,
                 at_start: bool = True, first_wait_s: float = 0.0) -> None:
        self.name = name
        self.interval_s = interval_s
        self._work = work
        self._at_start = at_start
        self._first_wait_s = first_wait_s
        self._stop = threading.Event()
        self._first_done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread; with ``first_wait_s``, wait that long at most for the first run."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._first_done.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        if self._at_start and self._first_wait_s > 0:
            self._first_done.wait(self._first_wait_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout_s)

    def _run(self) -> None:
        if self._at_start:
            self._call()
        self._first_done.set()
        while not self._stop.wait(self.interval_s):
            self._call()

    def _call(self) -> None:
        try:
            self._work()
        except Exception as exc:  # noqa: BLE001 - the thread must outlive any surprise
            log.error("background work crashed", thread=self.name, error=type(exc).__name__)


class LeaderJob:
    """A scheduled job of ``guardian serve`` that one replica runs: :meth:`work` every
    ``interval_s`` in a daemon thread, only while this process leads ``job`` (the
    :class:`~guardian.ports.LeaderLock`; without one, always). The report, retention and
    review schedules are this loop with different work; it counts checks, failures and the
    checks skipped because another replica leads, for health and metrics."""

    job = ""
    """The leader lock's name for this job."""
    what = "scheduled job"
    """How the log names a check of this job."""

    def __init__(self, thread_name: str, interval_s: float, leader: LeaderLock | None) -> None:
        self.leader = leader
        self._loop = Every(thread_name, interval_s, self.check_once)
        self.checks = 0
        self.failures = 0
        self.followed = 0
        """Checks skipped because another replica leads."""

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._loop.stop(timeout_s)
        if self.leader is not None:
            try:
                self.leader.release(self.job)
            except GuardianError as exc:
                log.warning(f"{self.what}: releasing the leader lock failed", error=exc.message)

    def leading(self) -> bool:
        return self.leader is None or self.leader.try_acquire(self.job)

    def check_once(self) -> None:
        """One check: the work if this process leads, its failure logged, never raised."""
        try:
            if not self.leading():
                self.followed += 1
                return
            self.work()
        except GuardianError as exc:
            self.failures += 1
            log.warning(f"{self.what} failed", error=exc.message)
        except Exception as exc:  # noqa: BLE001 - the thread must outlive any surprise
            self.failures += 1
            log.error(f"{self.what} crashed", error=type(exc).__name__)
        finally:
            self.checks += 1

    def work(self) -> None:
        raise NotImplementedError

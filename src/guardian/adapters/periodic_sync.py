"""The server's background directory sync: one daemon thread that syncs every interval.

Started and stopped with the application (its lifespan). The first sync runs at once and
``start`` waits a bounded time for it, so a freshly started server decides on current data when
the directory answers, and on the persisted snapshot when it does not. A failed sync is logged
and left in the directory's status for ``/v1/health``; the thread carries on at the next
interval. Nothing here ever blocks a decision.
"""

from __future__ import annotations

import threading

from guardian.errors import GuardianError
from guardian.identity.directory_sync import SyncedDirectory
from guardian.logging import get_logger

log = get_logger("guardian.directory")


class PeriodicSync:
    def __init__(
        self, directory: SyncedDirectory, interval_s: float, *, first_wait_s: float = 15.0
    ) -> None:
        self.directory = directory
        self.interval_s = interval_s
        self._first_wait_s = first_wait_s
        self._stop = threading.Event()
        self._first_done = threading.Event()
        self._thread: threading.Thread | None = None
        self.syncs = 0
        """Attempts made, successful or not (for tests and operators)."""

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="guardian-directory-sync",
                                        daemon=True)
        self._thread.start()
        self._first_done.wait(self._first_wait_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            self._sync_once()
            self._first_done.set()
            if self._stop.wait(self.interval_s):
                return

    def _sync_once(self) -> None:
        try:
            result = self.directory.sync()
        except GuardianError as exc:
            log.warning("directory sync failed", source=self.directory.source_name,
                        error=exc.message)
        except Exception as exc:  # noqa: BLE001 - the thread must outlive any surprise
            log.error("directory sync crashed", error=type(exc).__name__)
        else:
            if not result.diff.empty or result.persist_error:
                log.info("directory synced", users=result.users, changes=result.diff.summary(),
                         seconds=round(result.duration_s, 3), persist_error=result.persist_error)
        finally:
            self.syncs += 1

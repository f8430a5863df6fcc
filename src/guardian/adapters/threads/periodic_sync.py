"""The server's background directory sync: one daemon thread that syncs every interval.

Started and stopped with the application (its lifespan). The first sync runs at once and
``start`` waits a bounded time for it, so a freshly started server decides on current data when
the directory answers, and on the persisted snapshot when it does not. A failed sync is logged
and left in the directory's status for ``/v1/health``; the thread carries on at the next
interval. Nothing here ever blocks a decision.
"""

from __future__ import annotations

from guardian.adapters.threads.background import Every
from guardian.changes import ChangeKind
from guardian.errors import GuardianError
from guardian.identity.directory_sync import SyncedDirectory
from guardian.logging import get_logger
from guardian.ports import ChangeFeed

log = get_logger("guardian.directory")


class PeriodicSync:
    def __init__(
        self, directory: SyncedDirectory, interval_s: float, *, first_wait_s: float = 15.0,
        changes: ChangeFeed | None = None,
    ) -> None:
        """``changes``: told of every snapshot that changed, so other workers reload it."""
        self.directory = directory
        self._changes = changes
        self.interval_s = interval_s
        self._loop = Every("guardian-directory-sync", interval_s, self._sync_once,
                           first_wait_s=first_wait_s)
        self.syncs = 0
        """Attempts made, successful or not (for tests and operators)."""

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._loop.stop(timeout_s)

    def _sync_once(self) -> None:
        try:
            result = self.directory.sync()
        except GuardianError as exc:
            log.warning("directory sync failed", source=self.directory.source_name,
                        error=exc.message)
        except Exception as exc:  # noqa: BLE001 - the thread must outlive any surprise
            log.error("directory sync crashed", error=type(exc).__name__)
        else:
            if not result.diff.empty and result.persist_error is None and self._changes:
                self._changes.publish(ChangeKind.DIRECTORY, self.directory.source_name)
            if not result.diff.empty or result.persist_error:
                log.info("directory synced", users=result.users, changes=result.diff.summary(),
                         seconds=round(result.duration_s, 3), persist_error=result.persist_error)
        finally:
            self.syncs += 1

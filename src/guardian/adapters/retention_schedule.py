"""The server's retention schedule: a daemon thread that runs the retention job once a day.

Started and stopped with the application (its lifespan) when ``GUARDIAN_AUDIT_RETENTION_SCHEDULE``
is ``daily`` (the default). It runs at start, then every ``check_s``; the job itself decides what
is due (nothing where ISM does the work, nothing until something is past retention), so a
restart or an extra run deletes nothing twice. It runs only while this process leads the
``retention`` job (:class:`~guardian.ports.LeaderLock`), so with several replicas one deletes.
"""

from __future__ import annotations

from guardian.adapters.background import Every
from guardian.audit.retention import RetentionJob
from guardian.errors import GuardianError
from guardian.logging import get_logger
from guardian.ports import LeaderLock

log = get_logger("guardian.audit.retention")
DAY_S = 86_400.0
JOB = "retention"


class RetentionSchedule:
    def __init__(self, job: RetentionJob, *, check_s: float = DAY_S,
                 leader: LeaderLock | None = None) -> None:
        self.job = job
        self.check_s = check_s
        self.leader = leader
        self._loop = Every("guardian-retention", check_s, self.run_once)
        self.runs = 0
        self.followed = 0
        """Runs skipped because another replica leads."""

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._loop.stop(timeout_s)
        if self.leader is not None:
            try:
                self.leader.release(JOB)
            except GuardianError as exc:
                log.warning("retention: releasing the leader lock failed", error=exc.message)

    def run_once(self) -> None:
        try:
            if self.leader is not None and not self.leader.try_acquire(JOB):
                self.followed += 1
                return
            result = self.job.apply()
        except GuardianError as exc:
            log.warning("retention job failed", error=exc.message)
        except Exception as exc:  # noqa: BLE001 - the thread must outlive any surprise
            log.error("retention job crashed", error=type(exc).__name__)
        else:
            for removal in result.removals:
                log.info("retention applied", target=removal.target, events=removal.events,
                         first_seq=removal.first_seq, last_seq=removal.last_seq)
            if result.rolled_over:
                log.info("audit index rolled over", index=result.rolled_over)
        finally:
            self.runs += 1

"""The server's retention schedule: a daemon thread that runs the retention job once a day.

Started and stopped with the application (its lifespan) when ``GUARDIAN_AUDIT_RETENTION_SCHEDULE``
is ``daily`` (the default). It runs at start, then every ``check_s``; the job itself decides what
is due (nothing where ISM does the work, nothing until something is past retention), so a
restart or an extra run deletes nothing twice. It runs only while this process leads the
``retention`` job (:class:`~guardian.ports.LeaderLock`), so with several replicas one deletes.
"""

from __future__ import annotations

from guardian.adapters.threads.background import LeaderJob
from guardian.audit.retention import RetentionJob
from guardian.logging import get_logger
from guardian.ports import LeaderLock

log = get_logger("guardian.audit.retention")
DAY_S = 86_400.0
JOB = "retention"


class RetentionSchedule(LeaderJob):
    job = JOB
    what = "retention job"

    def __init__(self, retention: RetentionJob, *, check_s: float = DAY_S,
                 leader: LeaderLock | None = None) -> None:
        super().__init__("guardian-retention", check_s, leader)
        self.retention = retention
        self.check_s = check_s

    @property
    def runs(self) -> int:
        return self.checks

    def run_once(self) -> None:
        self.check_once()

    def work(self) -> None:
        result = self.retention.apply()
        for removal in result.removals:
            log.info("retention applied", target=removal.target, events=removal.events,
                     first_seq=removal.first_seq, last_seq=removal.last_seq)
        if result.rolled_over:
            log.info("audit index rolled over", index=result.rolled_over)

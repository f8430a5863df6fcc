"""The server's report schedule: a daemon thread that makes last month's report when due.

Started and stopped with the application (its lifespan) when ``GUARDIAN_REPORTS_SCHEDULE`` is
``monthly``. It checks at start and then every ``check_s``, and works only while this process
leads the ``reports`` job (:class:`~guardian.ports.LeaderLock`: a PostgreSQL advisory lock
with several replicas, the in-process lock on the embedded default), so one replica makes each
report; the archive says whether it exists already, so restarts and repeated checks make it
once. A report just made is delivered (mail, webhook) when delivery is configured; a failed
delivery is journalled and kept with the report, and does not make the check fail.
"""

from __future__ import annotations

from guardian.adapters.threads.background import LeaderJob
from guardian.logging import get_logger
from guardian.ports import LeaderLock
from guardian.reports.delivery import ReportDelivery
from guardian.reports.periodic_service import PeriodicReports

log = get_logger("guardian.reports")
JOB = "reports"
"""The leader lock's name for this job."""


class ReportSchedule(LeaderJob):
    job = JOB
    what = "scheduled report"

    def __init__(self, reports: PeriodicReports, *, check_s: float = 3600.0,
                 leader: LeaderLock | None = None, delivery: ReportDelivery | None = None
                 ) -> None:
        super().__init__("guardian-report-schedule", check_s, leader)
        self.reports = reports
        self.check_s = check_s
        self.delivery = delivery

    def work(self) -> None:
        made = self.reports.produce_due()
        if made is not None:
            log.info("scheduled report made", id=made.id, period_from=made.period_from,
                     period_to=made.period_to, sha256=made.sha256)
            if self.delivery is not None:
                for done in self.delivery.deliver(made):
                    log.info("scheduled report delivered" if done.error is None
                             else "scheduled report NOT delivered", id=made.id,
                             channel=done.channel, attempts=done.attempts, error=done.error)

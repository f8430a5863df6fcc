"""The server's report schedule: a daemon thread that makes last month's report when due.

Started and stopped with the application (its lifespan) when ``GUARDIAN_REPORTS_SCHEDULE`` is
``monthly``. It checks at start and then every ``check_s``; the archive says whether the report
exists already, so restarts and repeated checks make it once. One process runs it: with
several replicas on PostgreSQL, enable it on one only (no advisory-lock leader yet).
"""

from __future__ import annotations

from guardian.adapters.background import Every
from guardian.errors import GuardianError
from guardian.logging import get_logger
from guardian.reports.periodic_service import PeriodicReports

log = get_logger("guardian.reports")


class ReportSchedule:
    def __init__(self, reports: PeriodicReports, *, check_s: float = 3600.0) -> None:
        self.reports = reports
        self.check_s = check_s
        self._loop = Every("guardian-report-schedule", check_s, self.check_once)
        self.checks = 0
        self.failures = 0

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._loop.stop(timeout_s)

    def check_once(self) -> None:
        try:
            made = self.reports.produce_due()
        except GuardianError as exc:
            self.failures += 1
            log.warning("scheduled report failed", error=exc.message)
        except Exception as exc:  # noqa: BLE001 - the thread must outlive any surprise
            self.failures += 1
            log.error("scheduled report crashed", error=type(exc).__name__)
        else:
            if made is not None:
                log.info("scheduled report made", id=made.id, period_from=made.period_from,
                         period_to=made.period_to, sha256=made.sha256)
        finally:
            self.checks += 1

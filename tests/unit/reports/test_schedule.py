"""The monthly schedule: last month's report is due once, whatever the number of checks."""

from __future__ import annotations

import pytest

from guardian.audit.queries import iso_to_millis
from guardian.bootstrap import Guardian
from guardian.clock import ManualClock
from guardian.reports.archive import ArchivedReport
from guardian.reports.schedule import due_period, last_month


@pytest.mark.parametrize(("now", "period"), [
    ("2026-12-01T00:00:00Z", ("2026-11-01", "2026-12-01")),
    ("2026-12-31T23:59:59Z", ("2026-11-01", "2026-12-01")),
    ("2027-01-15T08:00:00Z", ("2026-12-01", "2027-01-01")),
])
def test_the_period_due_is_the_previous_calendar_month(now: str, period: tuple[str, str]
                                                       ) -> None:
    assert last_month(iso_to_millis(now) / 1000) == period


def test_a_month_already_archived_is_not_due_again() -> None:
    now = iso_to_millis("2026-12-02T00:00:00Z") / 1000
    made = ArchivedReport("R", "periodic", "2026-11-01", "2026-12-01", now, "x", "s", "g", b"")
    other = ArchivedReport("R", "periodic", "2026-11-01", "2026-11-15", now, "x", "s", "g", b"")

    assert due_period(now, [made]) is None
    assert due_period(now, [other]) == ("2026-11-01", "2026-12-01")


def test_the_scheduler_makes_last_month_s_report_once(guardian: Guardian, clock: ManualClock
                                                      ) -> None:
    from guardian.adapters.threads.report_schedule import ReportSchedule

    schedule = ReportSchedule(guardian.reports)
    schedule.check_once()
    schedule.check_once()

    [report] = guardian.reports.list()
    assert report.created_by == "scheduler" and schedule.checks == 2
    assert (report.period_from, report.period_to) == last_month(clock.now())

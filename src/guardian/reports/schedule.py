"""Which periodic report is due: the previous calendar month (UTC), once.

``GUARDIAN_REPORTS_SCHEDULE=monthly`` makes the server check now and then; the report of last
month is due when the archive holds no periodic report of exactly that period. Several checks
(or a restart) never make it twice, since the archive is asked first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from guardian.reports.archive import ArchivedReport
from guardian.reports.periodic import KIND


def last_month(now: float) -> tuple[str, str]:
    """``(first day of last month, first day of this month)`` as ISO dates, UTC."""
    today = datetime.fromtimestamp(now, UTC)
    end = today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end.replace(year=end.year - 1, month=12) if end.month == 1
             else end.replace(month=end.month - 1))
    return start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")


def due_period(now: float, archived: Iterable[ArchivedReport]) -> tuple[str, str] | None:
    period = last_month(now)
    for report in archived:
        if report.kind == KIND and (report.period_from, report.period_to) == period:
            return None
    return period

"""The server's retention schedule runs the job at start and survives a failing run."""

from __future__ import annotations

import time
from typing import Any

from guardian.adapters.threads.retention_schedule import RetentionSchedule
from guardian.audit.retention import RetentionResult
from guardian.errors import AuditIndexUnavailable


class Job:
    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.calls = 0

    def apply(self, *, dry_run: bool = False) -> RetentionResult:
        self.calls += 1
        if self.fail:
            raise AuditIndexUnavailable("down")
        return RetentionResult(None, dry_run, "2025-01-01T00:00:00.000Z")


def _schedule(job: Any) -> RetentionSchedule:
    return RetentionSchedule(job, check_s=3600)


def test_the_job_runs_once_at_start_then_waits_a_day() -> None:
    job = Job(fail=False)
    schedule = _schedule(job)
    schedule.start()
    deadline = time.monotonic() + 10
    while schedule.runs == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    schedule.stop()  # stops it while it waits

    assert job.calls == 1 and schedule.runs == 1


def test_a_failing_run_is_logged_and_the_schedule_goes_on() -> None:
    job = Job(fail=True)
    schedule = _schedule(job)

    schedule.run_once()
    schedule.run_once()

    assert job.calls == 2 and schedule.runs == 2

"""The server's review schedule: works only while it leads the ``reviews`` job (two schedules
on one in-process lock: one calls the clock), survives a failing run, hands the lock back on
stop, and runs at start in its thread."""

from __future__ import annotations

import time
from typing import Any

from guardian.adapters.threads.process_leader import ProcessLeaderLock
from guardian.adapters.threads.review_schedule import JOB, ReviewSchedule
from guardian.clock import ManualClock
from guardian.errors import StoreUnavailable
from guardian.governance.review_model import Campaign


class Clock:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.at: list[float] = []

    def run_due(self, now: float) -> list[Campaign]:
        self.at.append(now)
        if self.fail:
            raise StoreUnavailable("down")
        return []


def _schedule(clock: Any, leader: ProcessLeaderLock | None = None) -> ReviewSchedule:
    """A schedule on ``clock`` (a fake of :class:`ReviewClock`)."""
    return ReviewSchedule(clock, ManualClock(1_796_000_000.0), check_s=3600, leader=leader)


def test_of_two_schedules_on_one_lock_only_the_leader_runs_the_clock() -> None:
    lock_a, lock_b = ProcessLeaderLock(), ProcessLeaderLock()  # two replicas' holders
    first, second = Clock(), Clock()
    a, b = _schedule(first, lock_a), _schedule(second, lock_b)
    a.check_once()
    b.check_once()
    a.check_once()
    assert first.at == [1_796_000_000.0] * 2 and second.at == []
    assert (a.followed, b.followed) == (0, 1)

    a.stop()  # hands over
    assert not lock_a.held(JOB)
    b.check_once()
    assert second.at == [1_796_000_000.0]


def test_a_failing_run_is_counted_and_the_next_runs_again() -> None:
    clock = Clock(fail=True)
    schedule = _schedule(clock)
    schedule.check_once()
    schedule.check_once()
    assert schedule.failures == 2 and schedule.checks == 2 and len(clock.at) == 2


def test_it_runs_at_start_in_its_thread() -> None:
    clock = Clock()
    schedule = _schedule(clock)
    schedule.start()
    deadline = time.monotonic() + 10
    while schedule.checks == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    schedule.stop()
    assert clock.at == [1_796_000_000.0]

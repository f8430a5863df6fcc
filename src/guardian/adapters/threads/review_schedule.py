"""The server's access review schedule: a daemon thread that calls the review clock.

Started and stopped with the application when ``GUARDIAN_REVIEWS_SCHEDULE`` is on (the
default). It checks at start and then every ``GUARDIAN_REVIEWS_CHECK_S``, and works only while
this process leads the ``reviews`` job (:class:`~guardian.ports.LeaderLock`: the PostgreSQL
advisory lock across replicas, the in-process lock on the embedded default), so each reminder
goes out once and each deadline is applied once however many replicas run.
"""

from __future__ import annotations

from guardian.adapters.threads.background import LeaderJob
from guardian.governance.review_clock import ReviewClock
from guardian.logging import get_logger
from guardian.ports import Clock, LeaderLock

log = get_logger("guardian.reviews")
JOB = "reviews"
"""The leader lock's name for this job."""


class ReviewSchedule(LeaderJob):
    job = JOB
    what = "review schedule check"

    def __init__(self, clock: ReviewClock, time: Clock, *, check_s: float = 300.0,
                 leader: LeaderLock | None = None) -> None:
        super().__init__("guardian-review-schedule", check_s, leader)
        self.clock = clock
        self.time = time

    def work(self) -> None:
        for campaign in self.clock.run_due(self.time.now()):
            log.info("access review campaign moved on", id=campaign.id,
                     definition=campaign.definition, state=campaign.state.value,
                     stage=campaign.stage)

"""The server's access review schedule: a daemon thread that calls the review clock.

Started and stopped with the application when ``GUARDIAN_REVIEWS_SCHEDULE`` is on (the
default). It checks at start and then every ``GUARDIAN_REVIEWS_CHECK_S``, and works only while
this process leads the ``reviews`` job (:class:`~guardian.ports.LeaderLock`: the PostgreSQL
advisory lock across replicas, the in-process lock on the embedded default), so each reminder
goes out once and each deadline is applied once however many replicas run.
"""

from __future__ import annotations

from guardian.adapters.background import Every
from guardian.errors import GuardianError
from guardian.governance.review_clock import ReviewClock
from guardian.logging import get_logger
from guardian.ports import Clock, LeaderLock

log = get_logger("guardian.reviews")
JOB = "reviews"
"""The leader lock's name for this job."""


class ReviewSchedule:
    def __init__(self, clock: ReviewClock, time: Clock, *, check_s: float = 300.0,
                 leader: LeaderLock | None = None) -> None:
        self.clock = clock
        self.time = time
        self.leader = leader
        self._loop = Every("guardian-review-schedule", check_s, self.check_once)
        self.checks = 0
        self.failures = 0
        self.followed = 0
        """Checks skipped because another replica leads."""

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._loop.stop(timeout_s)
        if self.leader is not None:
            try:
                self.leader.release(JOB)
            except GuardianError as exc:
                log.warning("review schedule: releasing the leader lock failed",
                            error=exc.message)

    def check_once(self) -> None:
        try:
            if self.leader is not None and not self.leader.try_acquire(JOB):
                self.followed += 1
                return
            for campaign in self.clock.run_due(self.time.now()):
                log.info("access review campaign moved on", id=campaign.id,
                         definition=campaign.definition, state=campaign.state.value,
                         stage=campaign.stage)
        except GuardianError as exc:
            self.failures += 1
            log.warning("review schedule check failed", error=exc.message)
        except Exception as exc:  # noqa: BLE001 - the thread must outlive any surprise
            self.failures += 1
            log.error("review schedule check crashed", error=type(exc).__name__)
        finally:
            self.checks += 1

"""The review clock on real PostgreSQL with two replicas (two ``guardian serve`` builds on one
database, each with its review schedule): only the advisory lock's leader works, so each
reviewer's reminder is mailed (a real SMTP server on loopback) and posted (a loopback webhook
receiver checking the HMAC) once, and the deadline is applied once."""

from __future__ import annotations

import hmac
import json
import threading
from pathlib import Path

import pytest

from delivery_support import (  # noqa: F401 - fixtures
    Inbox,
    Receiver,
    smtp_inbox,
    webhook_receiver,
)
from guardian.adapters.http.signature import body_signature
from guardian.adapters.threads.review_schedule import ReviewSchedule
from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from guardian.governance.review_model import CampaignState
from support import real_settings

pytestmark = pytest.mark.integration
DAY = 86400.0
SECRET = "review-webhook-secret-0123456789"


def _check_together(schedules: list[ReviewSchedule], rounds: int = 3) -> None:
    barrier = threading.Barrier(len(schedules))

    def run(schedule: ReviewSchedule) -> None:
        for _ in range(rounds):
            barrier.wait()
            schedule.check_once()

    threads = [threading.Thread(target=run, args=(s,)) for s in schedules]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)


def _journalled(apps: list[Guardian], action: str) -> int:
    return sum(g.settings.journal_file.read_text("utf-8").count(f'"action":"{action}"')
               for g in apps)


def test_two_schedulers_one_leader_each_reminder_sent_once_each_deadline_applied_once(
    schema_url: str, tmp_path: Path, smtp_inbox: Inbox,  # noqa: F811
    webhook_receiver: Receiver,  # noqa: F811
) -> None:
    clock = ManualClock(start=1_796_000_000.0)
    apps = [build(real_settings(
        tmp_path / name, database_url=schema_url, reports_schedule="off",
        audit_retention_schedule="off", smtp_host="127.0.0.1", smtp_port=smtp_inbox.port,
        review_mail_domain="example.com", review_webhook_url=webhook_receiver.url,
        review_webhook_secret=SECRET), clock=clock, prepare=True) for name in ("a", "b")]
    schedules = [next(t for t in g.background if isinstance(t, ReviewSchedule)) for g in apps]
    try:
        assert apps[0].reviews is not None and apps[1].reviews is not None
        campaign, counts = apps[0].reviews.service.open("ivan", "crm-quarterly")
        reviewers = {i.reviewer for i in apps[0].reviews.service.items(campaign.id)
                     if i.reviewer is not None}
        assert counts.items > 0 and reviewers
        clock.advance(7 * DAY)  # the 7-days reminder

        _check_together(schedules)

        leaders = [s for s in schedules if s.followed == 0]
        assert len(leaders) == 1 and sum(s.followed for s in schedules) == 3
        assert sum(s.failures for s in schedules) == 0
        to = sorted(rcpt for _, rcpts in smtp_inbox.envelopes for rcpt in rcpts)
        assert to == sorted(f"{r}@example.com" for r in reviewers)  # each once
        assert len(webhook_receiver.received) == len(reviewers)
        for headers, body in webhook_receiver.received:
            assert hmac.compare_digest(headers["x-guardian-signature"],
                                       body_signature(SECRET, body))
        posted = sorted(json.loads(body)["reviewer"] for _, body in webhook_receiver.received)
        assert posted == sorted(reviewers)
        stored = apps[1].reviews.service.get(campaign.id)[0]  # seen from the other replica
        assert {(n.reviewer, n.channel) for n in stored.notifications} == {
            (r, "email+webhook") for r in reviewers}
        assert _journalled(apps, "review.reminder_sent") == len(reviewers)

        clock.advance(7 * DAY)  # the deadline
        _check_together(schedules)

        after, counts = apps[1].reviews.service.get(campaign.id)
        assert after.state is not CampaignState.OPEN
        assert _journalled(apps, "review.stage_closed") == 1
        items = apps[1].reviews.service.items(campaign.id)
        if after.state is not CampaignState.CLOSING:  # not held by the brake
            assert all(sum(d.defaulted for d in i.history) <= 1 for i in items)
            assert counts.pending == 0
        # Reminders at 3 and 1 days were due on the way: still one mail per reviewer per day.
        assert len(smtp_inbox.envelopes) == len(webhook_receiver.received)
    finally:
        for g in apps:
            g.close()

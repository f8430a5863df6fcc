"""The review clock on a fake clock: campaigns opened on their recurrence (never while one is
live), reminders mailed and posted once per reviewer with pending items and recorded with
their channel, revoked memberships removed through the write account (``removed``), a failed
removal ``failed``, journalled as escalated and retried by the clock until it goes through,
then ``verified`` by the directory."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from guardian.errors import DeliveryFailed, DirectoryWriteFailed
from guardian.governance.review_clock import ReviewClock
from guardian.governance.review_closing import ReviewClosing
from guardian.governance.review_model import CampaignState, RemediationState, Verdict
from guardian.governance.review_notices import NoticeConfig, ReviewNotifier
from guardian.governance.reviews import DecisionInput
from guardian.ports import Mailer, OutgoingMail, WebhookSender
from review_support import DAY, NOW, Wired, crm_quarterly, wired


class FakeMailer(Mailer):
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[OutgoingMail] = []
        self.fail = fail

    def send(self, mail: OutgoingMail) -> None:
        if self.fail:
            raise DeliveryFailed("550 no such mailbox")
        self.sent.append(mail)


class FakeWebhook(WebhookSender):
    def __init__(self) -> None:
        self.posted: list[Mapping[str, Any]] = []

    def post(self, url: str, payload: Mapping[str, Any], secret: bytes) -> None:
        self.posted.append(payload)


class FlakyWriter:
    """Refuses the first removal of ``uid``, takes every other."""

    def __init__(self, uid: str) -> None:
        self.refuse = {uid}
        self.removed: list[tuple[str, str]] = []

    def remove_member(self, uid: str, role: str) -> None:
        if uid in self.refuse:
            self.refuse.discard(uid)
            raise DirectoryWriteFailed("insufficientAccessRights")
        self.removed.append((uid, role))


def _clock(w: Wired, **closing: Any) -> tuple[ReviewClock, ReviewClosing]:
    closing_ = ReviewClosing(w.deps, **closing)
    return ReviewClock(w.deps, w.service, closing_), closing_


def _notifier(mailer: Mailer, webhook: WebhookSender | None = None) -> ReviewNotifier:
    return ReviewNotifier(NoticeConfig(mail_domain="example.com",
                                       webhook_url="http://127.0.0.1:9/hook",
                                       webhook_secret=b"s" * 16),
                          mailer=mailer, webhook=webhook)


def test_a_campaign_opens_again_when_its_recurrence_comes_round_never_while_live() -> None:
    w = wired()
    clock, _ = _clock(w)
    assert clock.open_due(NOW + 400 * DAY) == []  # never opened by an officer: not the clock's
    first, _ = w.service.open("ivan", "crm-quarterly")
    w.clock.advance(100 * DAY)
    assert clock.open_due(w.clock.now()) == []  # the first one is still open
    w.service.cancel("ivan", first.id, "opened by mistake in a test")
    w.clock.set(NOW + 80 * DAY)
    assert clock.open_due(w.clock.now()) == []  # three months have not passed
    w.clock.set(NOW + 92 * DAY)

    (second,) = clock.run_due(w.clock.now())

    assert second.definition == "crm-quarterly" and second.opened_by == "guardian"
    assert second.state is CampaignState.OPEN
    assert clock.open_due(w.clock.now()) == []  # once
    assert w.actions().count("review.campaign_opened") == 2
    assert {n.kind for n in second.notifications} == {"opened:1"}  # its reviewers told


def test_reviewers_are_told_once_when_a_stage_opens_then_on_each_reminder_day() -> None:
    w = wired()
    mailer = FakeMailer()
    clock, _ = _clock(w, notify=_notifier(mailer).notify)
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    clock.run_due(w.clock.now())
    clock.run_due(w.clock.now() + DAY)
    assert len(mailer.sent) == 2 and all("opened" in m.subject for m in mailer.sent)
    w.clock.advance(7 * DAY)
    clock.run_due(w.clock.now())
    assert len(mailer.sent) == 4 and all("reminder" in m.subject for m in mailer.sent[2:])
    stored = w.store.get_campaign(campaign.id)
    assert stored is not None
    assert [n.kind for n in stored.notifications] == ["opened:1"] * 2 + ["reminder:1:7"] * 2


def test_reminders_are_mailed_and_posted_once_per_reviewer_and_recorded_with_channel() -> None:
    w = wired()
    mailer, webhook = FakeMailer(), FakeWebhook()
    clock, _ = _clock(w, notify=_notifier(mailer, webhook).notify)
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    w.clock.advance(7 * DAY)

    clock.run_due(w.clock.now())
    clock.run_due(w.clock.now())  # the same day again: nothing more

    assert sorted(m.recipients for m in mailer.sent) == [("nina@example.com",),
                                                         ("oscar@example.com",)]
    nina = next(m for m in mailer.sent if m.recipients == ("nina@example.com",))
    pending = [i for i in w.store.campaign_items(campaign.id) if i.reviewer == "nina"]
    assert all(i.subject.uid in nina.text for i in pending)
    assert "/console/" in nina.text and f"guardian review inbox --campaign {campaign.id}" \
        in nina.text
    assert sorted(p["reviewer"] for p in webhook.posted) == ["nina", "oscar"]
    assert {p["pending"] for p in webhook.posted} == {len(pending), 2}
    stored = w.store.get_campaign(campaign.id)
    assert stored is not None
    assert {(n.reviewer, n.channel) for n in stored.notifications} == {
        ("nina", "email+webhook"), ("oscar", "email+webhook")}
    events = [e["guardian"]["review"] for e in w.journal.events
              if e["event"]["action"] == "review.reminder_sent"]
    assert [e["channel"] for e in events] == ["email+webhook"] * 2


def test_no_mail_for_an_empty_inbox_and_a_refused_mail_is_recorded_as_failed() -> None:
    w = wired()
    mailer = FakeMailer()
    clock, _ = _clock(w, notify=_notifier(mailer).notify)
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    oscar = [i for i in w.store.campaign_items(campaign.id) if i.reviewer == "oscar"]
    w.service.decide("oscar", [DecisionInput(i.id, Verdict.REVOKE) for i in oscar])
    w.clock.advance(7 * DAY)
    clock.run_due(w.clock.now())
    assert [m.recipients for m in mailer.sent] == [("nina@example.com",)]

    mailer.fail = True
    w.clock.advance(4 * DAY)  # the 3-days reminder
    clock.run_due(w.clock.now())
    stored = w.store.get_campaign(campaign.id)
    assert stored is not None
    assert [n.channel for n in stored.notifications] == ["email", "email-failed"]


def test_a_failed_removal_is_escalated_and_retried_then_verified_by_the_directory() -> None:
    w = wired(crm_quarterly(brake=1.0))
    writer = FlakyWriter("dave")
    clock, closing = _clock(w, writer=writer)
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    dave = next(i for i in w.store.campaign_items(campaign.id) if i.subject.uid == "dave")
    w.service.decide("nina", [DecisionInput(dave.id, Verdict.REVOKE)])
    w.clock.advance(14 * DAY)

    clock.run_due(w.clock.now())  # the deadline: revoked, removal attempted

    (failed,) = w.store.get_items([dave.id])
    assert failed.remediation is not None and failed.remediation.state is RemediationState.FAILED
    assert w.view.revoked_roles("dave") == {"marketing": campaign.id}  # denied meanwhile
    failures = [e for e in w.journal.events
                if e["event"]["action"] == "review.remediation_failed"]
    assert failures and failures[0]["event"]["outcome"] == "failure"
    assert failures[0]["guardian"]["review"]["subject"] == "dave"
    assert ("bob", "billing") in writer.removed  # the others went through at once
    removed_before = len(writer.removed)

    clock.run_due(w.clock.now() + 60)  # the retry goes through
    (removed,) = w.store.get_items([dave.id])
    assert removed.remediation is not None
    assert removed.remediation.state is RemediationState.REMOVED
    assert ("dave", "marketing") in writer.removed[removed_before:]
    assert "review.remediation_removed" in w.actions()

    principal = w.directory.get("dave")
    assert principal is not None
    w.directory.put(dataclasses.replace(principal, roles=frozenset()))  # the next sync
    clock.run_due(w.clock.now() + 120)
    (verified,) = w.store.get_items([dave.id])
    assert verified.remediation is not None
    assert verified.remediation.state is RemediationState.VERIFIED
    assert w.view.revoked_roles("dave") == {}
    assert closing is not None

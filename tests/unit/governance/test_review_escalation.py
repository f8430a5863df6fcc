"""Escalation on a fake clock: items still undecided when the stage's last reminder is due go
to the stage's ``escalate_to`` person (assigned by ``escalation``, journalled before stored),
who is told once; decided items stay, a stage escalates once, an ineligible escalatee is passed
over, and the original reviewer can no longer decide what was taken away."""

from __future__ import annotations

import pytest

from guardian.errors import NotYourItem
from guardian.governance.review_clock import ReviewClock
from guardian.governance.review_closing import ReviewClosing
from guardian.governance.review_definitions import ReviewerRule, Stage
from guardian.governance.review_escalation import escalation_due_at
from guardian.governance.review_model import AssignedBy, Verdict
from guardian.governance.review_notices import NoticeConfig, ReviewNotifier
from guardian.governance.reviews import DecisionInput
from guardian.ports import Mailer, OutgoingMail
from review_support import DAY, Wired, crm_quarterly, wired


class Mails(Mailer):
    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail) -> None:
        self.sent.append(mail)


def _clock(w: Wired, mails: Mails) -> ReviewClock:
    notifier = ReviewNotifier(NoticeConfig(mail_domain="example.com"), mailer=mails)
    return ReviewClock(w.deps, w.service, ReviewClosing(w.deps, notify=notifier.notify))


def test_overdue_items_escalate_at_the_last_reminder_and_the_escalatee_is_told_once() -> None:
    w = wired()
    mails = Mails()
    clock = _clock(w, mails)
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    ninas = sorted((i for i in w.store.campaign_items(campaign.id) if i.reviewer == "nina"),
                   key=lambda i: i.subject.uid)
    decided = ninas[0]
    w.service.decide("nina", [DecisionInput(decided.id, Verdict.REVOKE)])
    assert escalation_due_at(campaign, crm_quarterly().stages[0]) == campaign.due_at - DAY

    w.clock.set(campaign.due_at - 3 * DAY)  # the 3-day reminder: not overdue yet
    clock.run_due(w.clock.now())
    assert "review.item_escalated" not in w.actions()

    w.clock.set(campaign.due_at - DAY)  # the last reminder: overdue
    clock.run_due(w.clock.now())

    items = {i.id: i for i in w.store.campaign_items(campaign.id)}
    escalated = [items[i.id] for i in ninas[1:]]
    assert escalated and all(i.reviewer == "ivan" for i in escalated)
    assert all(i.assignment.assigned_by is AssignedBy.ESCALATION and
               i.assignment.by == "guardian" and i.assignments[0].reviewer == "nina"
               for i in escalated)
    assert items[decided.id].reviewer == "nina"  # decided: left with its reviewer
    events = [e["guardian"]["review"] for e in w.journal.events
              if e["event"]["action"] == "review.item_escalated"]
    assert sorted(e["item_id"] for e in events if e["from"] == "nina") == sorted(
        i.id for i in escalated)
    assert {(e["from"], e["reviewer"]) for e in events} == {("nina", "ivan"), ("oscar", "ivan")}
    ivan = [m for m in mails.sent if m.recipients == ("ivan@example.com",)]
    assert len(ivan) == 1 and ivan[0].subject.startswith("[Guardian] escalation")
    assert all(i.subject.uid in ivan[0].text for i in escalated)
    stored = w.store.get_campaign(campaign.id)
    assert stored is not None and stored.escalated_stage == 1
    assert ("ivan", "escalation:1", len(events)) in {
        (n.reviewer, n.kind, n.items) for n in stored.notifications}

    sent = len(mails.sent)
    clock.run_due(w.clock.now() + 3600)  # later the same day: nothing escalates again
    assert len(events) == sum(1 for a in w.actions() if a == "review.item_escalated")
    assert len(mails.sent) == sent

    with pytest.raises(NotYourItem):
        w.service.decide("nina", [DecisionInput(escalated[0].id, Verdict.KEEP, "still on it")])
    (kept,) = w.service.decide("ivan", [DecisionInput(escalated[0].id, Verdict.REVOKE)])
    assert kept.decision is not None and kept.decision.by == "ivan"


def test_an_ineligible_escalatee_is_passed_over_for_the_next_and_none_leaves_the_item() -> None:
    stage = Stage(ReviewerRule.MANAGER, 14, fallback=("ivan",), reminders=(2,),
                  escalate_to=("heidi", "peggy"))  # heidi's account is disabled
    w = wired(crm_quarterly(stages=(stage,)))
    clock = _clock(w, Mails())
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    w.clock.set(campaign.due_at - 2 * DAY)
    clock.run_due(w.clock.now())
    items = w.store.campaign_items(campaign.id)
    assert items and all(i.reviewer == "peggy" for i in items)
    assert all("escalation heidi: account disabled" in i.assignment.skipped for i in items)

    nobody = Stage(ReviewerRule.MANAGER, 14, reminders=(2,), escalate_to=("heidi",))
    w = wired(crm_quarterly(stages=(nobody,)))
    clock = _clock(w, Mails())
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    before = {i.id: i.reviewer for i in w.store.campaign_items(campaign.id)}
    w.clock.set(campaign.due_at - 2 * DAY)
    clock.run_due(w.clock.now())
    assert {i.id: i.reviewer for i in w.store.campaign_items(campaign.id)} == before
    assert "review.item_escalated" not in w.actions()


def test_no_escalation_without_escalate_to_and_none_once_the_deadline_closes_the_stage() -> None:
    stage = Stage(ReviewerRule.MANAGER, 14, reminders=(1,))
    w = wired(crm_quarterly(stages=(stage,)))
    clock = _clock(w, Mails())
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    w.clock.set(campaign.due_at - DAY)
    clock.run_due(w.clock.now())
    assert "review.item_escalated" not in w.actions()

    w = wired()
    clock = _clock(w, Mails())
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    w.clock.set(campaign.due_at + 1)  # never ran before the deadline: the stage just closes
    clock.run_due(w.clock.now())
    assert "review.item_escalated" not in w.actions()
    assert "review.stage_closed" in w.actions()

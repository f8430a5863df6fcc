"""An officer's reminder now: only in an open campaign, only to reviewers with pending items
(never for an empty inbox), sent through the notifier, journalled with the officer as actor and
kept in the campaign's timeline; who counts as overdue (pending once reminders are due)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from guardian.errors import CampaignStateConflict, InvalidRequest
from guardian.governance.review_model import Campaign, ReviewItem
from guardian.governance.review_reminders import ReviewReminders, overdue
from review_support import DAY, wired


def test_a_reminder_goes_to_the_pending_reviewers_and_is_recorded() -> None:
    w = wired()
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    told: list[tuple[str, str, int]] = []

    def notify(c: Campaign, kind: str, pending: Mapping[str, Sequence[ReviewItem]]
               ) -> dict[str, str]:
        told.extend((r, kind, len(its)) for r, its in pending.items())
        return {r: "email" for r in pending}

    reminded = ReviewReminders(w.deps, notify).remind("ivan", campaign.id, ["nina"])
    assert [(r, k) for r, k, _ in told] == [("nina", "manual:1")]
    assert [(n.reviewer, n.kind, n.channel) for n in reminded.notifications] == [
        ("nina", "manual:1", "email")]
    event = w.journal.events[-1]
    assert event["event"]["action"] == "review.reminder_sent"
    assert event["user"]["id"] == "ivan"
    stored = w.store.get_campaign(campaign.id)
    assert stored is not None and len(stored.notifications) == 1


def test_nobody_pending_means_no_reminder_and_a_closed_campaign_none_either() -> None:
    w = wired()
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    reminders = ReviewReminders(w.deps)
    with pytest.raises(InvalidRequest):
        reminders.remind("ivan", campaign.id, ["mallory"])
    w.service.cancel("ivan", campaign.id, "opened by mistake")
    with pytest.raises(CampaignStateConflict):
        reminders.remind("ivan", campaign.id)


def test_overdue_reviewers_are_those_pending_once_reminders_are_due() -> None:
    w = wired()
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    items = w.service.items(campaign.id)
    reminders = (7, 3, 1)
    assert overdue(campaign, items, reminders, campaign.opened_at + DAY) == []
    late = overdue(campaign, items, reminders, campaign.due_at - 6 * DAY)
    assert "nina" in late and late == sorted({i.reviewer for i in items if i.reviewer})

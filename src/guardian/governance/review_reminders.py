"""An officer's reminder, now, to the reviewers of a campaign who still have items to decide
(the console's "remind" on a campaign page), beside the clock's scheduled reminders.

Same channels and records as the clock's (:meth:`ReviewClosing._remind`): the notices go out
through the review notifier (mail, webhook) batched per reviewer, never for an empty inbox;
each one is journalled (``review.reminder_sent``, the officer as actor, kind
``manual:<stage>``) and then added to the campaign's notification timeline, which the
evidence report shows. Who is *overdue* is :func:`overdue`: pending items once the stage's
first reminder day has come, or past its deadline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from guardian.audit.events import AuditAction
from guardian.errors import CampaignStateConflict, InvalidRequest
from guardian.governance.review_closing import Notify
from guardian.governance.review_model import Campaign, CampaignState, Notification, ReviewItem
from guardian.governance.review_opening import DAY_S
from guardian.governance.reviews import ReviewDeps, review_event


def pending_by_reviewer(items: Iterable[ReviewItem]) -> dict[str, list[ReviewItem]]:
    out: dict[str, list[ReviewItem]] = {}
    for item in items:
        if item.decision is None and item.reviewer is not None:
            out.setdefault(item.reviewer, []).append(item)
    return out


def reminders_start(campaign: Campaign, reminder_days: Sequence[int]) -> float:
    """When the current stage's first reminder is due (its deadline without reminders)."""
    return campaign.due_at - max(reminder_days, default=0) * DAY_S


def overdue(campaign: Campaign, items: Iterable[ReviewItem], reminder_days: Sequence[int],
            now: float) -> list[str]:
    """Reviewers still holding pending items once reminders are due (or past the deadline)."""
    if campaign.state is not CampaignState.OPEN or now < reminders_start(campaign,
                                                                         reminder_days):
        return []
    return sorted(pending_by_reviewer(items))


class ReviewReminders:
    def __init__(self, deps: ReviewDeps, notify: Notify | None = None) -> None:
        self._d = deps
        self._notify = notify

    def remind(self, officer: str, campaign_id: str,
               reviewers: Sequence[str] | None = None) -> Campaign:
        """Remind ``reviewers`` (default: everyone with pending items) of an open campaign."""
        d = self._d
        campaign = d.campaign(campaign_id)
        if campaign.state is not CampaignState.OPEN:
            raise CampaignStateConflict(f"campaign {campaign.id} is {campaign.state.value}: "
                                        "reviewers are reminded while it is open")
        pending = pending_by_reviewer(d.store.campaign_items(campaign.id))
        if reviewers is not None:
            pending = {r: its for r, its in pending.items() if r in set(reviewers)}
        if not pending:
            raise InvalidRequest("nobody of those has items left to decide: no reminder sent")
        now = d.clock.now()
        kind = f"manual:{campaign.stage}"
        sent = self._notify(campaign, kind, pending) if self._notify is not None else {}
        notes = tuple(Notification(now, r, kind, len(its), sent.get(r, "recorded"))
                      for r, its in sorted(pending.items()))
        d.journal.append_many([review_event(
            AuditAction.REVIEW_REMINDER_SENT, officer, now, review={
                "campaign_id": campaign.id, "reviewer": n.reviewer, "items": n.items,
                "stage": campaign.stage, "kind": n.kind, "channel": n.channel})
            for n in notes])
        fresh = d.store.get_campaign(campaign.id) or campaign
        reminded = replace(fresh, notifications=(*fresh.notifications, *notes))
        d.store.save_campaign(reminded)
        return reminded

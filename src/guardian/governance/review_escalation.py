"""Escalation of overdue review items to the stage's ``escalate_to`` people.

An item is overdue once its stage's last reminder is due (the smallest of ``reminders:`` days
before the deadline, or one day before it when the stage has no reminders) and it is still
undecided: its reviewer was told and reminded and did not answer, or nobody eligible was
found for it. Each such item is handed to the first person of ``escalate_to`` who may review it
(the eligibility rules of every assignment: never the person reviewed, never the grantor,
never a report of the person reviewed, never a disabled or unknown account); the assignment
says ``escalation`` and the reviewer it was taken from. The escalation is journalled
(``review.item_escalated``, one event per item) before the items are stored, then every
escalatee is notified once with their escalated items (``escalation:<stage>``, recorded like
a reminder). A stage escalates once: the campaign records the stage it last escalated, so the
next run of the clock does nothing more, and items decided meanwhile are left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from guardian.audit.events import AuditAction
from guardian.governance.review_definitions import Stage
from guardian.governance.review_eligibility import ineligibility
from guardian.governance.review_model import (
    AssignedBy,
    Assignment,
    Campaign,
    Notification,
    ReviewItem,
)
from guardian.governance.review_opening import DAY_S
from guardian.governance.reviews import ReviewDeps, item_ref, review_event

Notify = Callable[[Campaign, str, Mapping[str, Sequence[ReviewItem]]], Mapping[str, str]]
ACTOR = "guardian"


def escalation_due_at(campaign: Campaign, stage: Stage) -> float:
    """When the items of the campaign's current stage still pending become overdue."""
    lead_days = min(stage.reminders) if stage.reminders else 1
    return campaign.due_at - min(lead_days, stage.days) * DAY_S


def _escalatee(stage: Stage, item: ReviewItem, deps: ReviewDeps) -> tuple[str | None,
                                                                           tuple[str, ...]]:
    """The first eligible person of ``escalate_to`` for ``item``, and who was passed over."""
    subject = item.subject.uid if item.subject.type in ("employee", "contractor") else None
    skipped: list[str] = []
    for uid in stage.escalate_to:
        why = ineligibility(uid, subject, item.access, deps.directory)
        if why is None:
            return uid, tuple(skipped)
        skipped.append(f"escalation {uid}: {why}")
    return None, tuple(skipped)


def escalate(deps: ReviewDeps, notify: Notify | None, campaign: Campaign, stage: Stage,
             now: float) -> Campaign:
    """Escalate the campaign's overdue items, once per stage; returns the campaign as stored."""
    if not stage.escalate_to or campaign.escalated_stage >= campaign.stage or \
            now < escalation_due_at(campaign, stage):
        return campaign
    moved: dict[str, list[ReviewItem]] = {}
    events = []
    for item in deps.store.campaign_items(campaign.id):
        if item.decision is not None or item.stage != campaign.stage:
            continue
        to, skipped = _escalatee(stage, item, deps)
        if to is None or to == item.reviewer:
            continue
        a = Assignment(to, AssignedBy.ESCALATION, now, item.stage, skipped,
                       f"overdue: no decision {_days(campaign.due_at - now)} before the "
                       "deadline", ACTOR)
        moved.setdefault(to, []).append(replace(item, assignment=a,
                                                assignments=(*item.assignments, a)))
        events.append(review_event(AuditAction.REVIEW_ITEM_ESCALATED, ACTOR, now, review={
            **item_ref(item), "from": item.reviewer, "reviewer": to,
            "assigned_by": AssignedBy.ESCALATION.value}))
    if events:
        deps.journal.append_many(events)
        deps.store.save_items([i for its in moved.values() for i in its])
    kind = f"escalation:{campaign.stage}"
    sent = notify(campaign, kind, moved) if notify is not None and moved else {}
    notes = tuple(Notification(now, r, kind, len(its), sent.get(r, "recorded"))
                  for r, its in sorted(moved.items()))
    if notes:
        deps.journal.append_many([review_event(
            AuditAction.REVIEW_REMINDER_SENT, ACTOR, now, review={
                "campaign_id": campaign.id, "reviewer": n.reviewer, "items": n.items,
                "stage": campaign.stage, "kind": n.kind, "channel": n.channel})
            for n in notes])
    fresh = deps.store.get_campaign(campaign.id) or campaign  # an officer may have acted
    escalated = replace(fresh, escalated_stage=campaign.stage,
                        notifications=(*fresh.notifications, *notes))
    deps.store.save_campaign(escalated)
    return escalated


def _days(seconds: float) -> str:
    days = max(0, round(seconds / DAY_S))
    return f"{days} day{'s' if days != 1 else ''}"

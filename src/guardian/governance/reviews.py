"""Access review campaigns: opening, the reviewer's inbox, deciding, reassigning, cancelling.

Each use case validates, journals, then stores, in that order (like grants): no campaign,
decision or assignment exists without its audit event. Opening freezes the population, journals
its snapshot hash (``review.campaign_opened``) and stores every item with its evidence,
recommendation and reviewer in one transaction. A reviewer decides only their own items
(``not_your_item``), only while the item's stage is open (``stage_closed``), with a
justification where the definition asks for one (``justification_required``); deciding again
changes the decision and keeps the earlier one in the item's history. Closing, remediation and
sign-off are in :mod:`guardian.governance.review_closing`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from guardian.audit.events import AuditAction, governance_event
from guardian.changes import ChangeKind
from guardian.errors import (
    CampaignNotFound,
    CampaignStateConflict,
    DefinitionNotFound,
    InvalidRequest,
    ItemNotFound,
    JustificationRequired,
    NotYourItem,
    ReviewerIneligible,
    StageClosed,
)
from guardian.governance.review_definitions import ReviewDefinition, ReviewKind
from guardian.governance.review_eligibility import ineligibility
from guardian.governance.review_model import (
    AssignedBy,
    Assignment,
    Campaign,
    CampaignState,
    Counts,
    ItemDecision,
    ReviewItem,
    Verdict,
)
from guardian.governance.review_opening import (
    DAY_S,
    OpeningContext,
    RoleFacts,
    build_items,
    gather_evidence,
    holdings,
    rule_holdings,
    snapshot_hash,
)
from guardian.governance.review_recommendations import justification_needed
from guardian.governance.review_revocations import RevocationView
from guardian.governance.review_usage import UsageEvidence
from guardian.ids import new_ulid
from guardian.policy.definition import JustificationRule, PolicyDefinition
from guardian.policy.vocabulary import AdminRole
from guardian.ports import (
    ApiKeyRegistry,
    AuditJournal,
    ChangeFeed,
    Clock,
    Directory,
    GrantRegistry,
    ReviewStore,
)

MAX_TEXT = 1024
MAX_BULK = 5000
"""Most decisions one request may carry."""
MAX_PAGE = 1000
"""Largest inbox page."""
JUSTIFICATION = JustificationRule(min_length=8)


@dataclass(frozen=True, slots=True)
class DecisionInput:
    item_id: str
    decision: Verdict
    justification: str | None = None
    until: float | None = None


@dataclass
class ReviewDeps:
    """What every review use case needs (ports, and the in-memory revocation view)."""

    store: ReviewStore
    directory: Directory
    policy: Callable[[], PolicyDefinition]
    definitions: Callable[[], Mapping[str, ReviewDefinition]]
    journal: AuditJournal
    clock: Clock
    evidence: UsageEvidence
    revocations: RevocationView
    grants: GrantRegistry | None = None
    keys: ApiKeyRegistry | None = None
    changes: ChangeFeed | None = None
    """Where other processes hear that revocations changed (they re-read them at once)."""

    def revocations_changed(self, campaign_id: str) -> None:
        """Tell the other workers and replicas (this process's view is already current)."""
        if self.changes is not None:
            self.changes.publish(ChangeKind.REVOCATION, campaign_id)

    def campaign(self, campaign_id: str) -> Campaign:
        campaign = self.store.get_campaign(campaign_id)
        if campaign is None:
            raise CampaignNotFound(f"no campaign {campaign_id!r}")
        return campaign

    def definition(self, name: str) -> ReviewDefinition:
        definition = self.definitions().get(name)
        if definition is None:
            raise DefinitionNotFound(f"no review definition {name!r} in policies/reviews")
        return definition


def review_event(action: AuditAction, actor: str, at: float, **extra: Any) -> dict[str, Any]:
    return governance_event(action, actor, at, **extra)


def item_ref(item: ReviewItem) -> dict[str, Any]:
    """An item as its audit events name it."""
    return {"campaign_id": item.campaign_id, "item_id": item.id, "stage": item.stage,
            "subject": item.subject.uid,
            "access": f"{item.access.kind.value}:{item.access.role or item.access.ref}"}


def check_text(text: str | None, what: str) -> str:
    if text is None or not text.strip() or len(text) > MAX_TEXT:
        raise InvalidRequest(f"{what} of 1 to {MAX_TEXT} characters is required")
    return text.strip()


class ReviewService:
    def __init__(self, deps: ReviewDeps) -> None:
        self._d = deps

    def definitions(self) -> list[ReviewDefinition]:
        return sorted(self._d.definitions().values(), key=lambda d: d.name)

    def open(self, officer: str, definition_name: str) -> tuple[Campaign, Counts]:
        d = self._d
        definition = d.definition(definition_name)
        live = [c for c in d.store.list_campaigns() if c.definition == definition.name
                and c.state in (CampaignState.OPEN, CampaignState.CLOSING)]
        if live:
            raise CampaignStateConflict(
                f"campaign {live[0].id} of {definition.name} is still {live[0].state.value}: "
                "close or cancel it first")
        now = d.clock.now()
        facts = RoleFacts(d.policy())
        campaign_id = new_ulid(now)
        dpos = tuple(sorted(p.uid for p in d.directory.principals()
                            if AdminRole.DPO.value in p.roles and p.active))
        ctx = OpeningContext(definition, facts, d.directory, d.evidence, dpos, campaign_id, now)
        # The usage aggregations (the index's time) run while the population is built and its
        # reviewers assigned (this process's time).
        with ThreadPoolExecutor(1, thread_name_prefix="review-evidence") as pool:
            evidence = pool.submit(gather_evidence, ctx)
            if definition.kind is ReviewKind.PERMISSION:
                population = list(rule_holdings(definition, facts))
            else:
                grants = d.grants.list_grants() if d.grants and definition.scope.grants else []
                keys = d.keys.list_keys() if d.keys and definition.scope.keys else []
                revoked = {r.uid: {r.role: r.campaign_id}
                           for r in d.store.active_revocations()}
                population = list(holdings(definition, facts, d.directory, grants, keys,
                                           revoked, now))
            items = build_items(ctx, population, evidence.result)
        stage = definition.stages[0]
        campaign = Campaign(
            id=campaign_id, name=f"{definition.title} — opened {_day(now)}",
            definition=definition.name, kind=definition.kind.value, state=CampaignState.OPEN,
            stage=1, opened_at=now, due_at=now + stage.days * DAY_S, opened_by=officer,
            snapshot_hash=snapshot_hash(items), definition_version=definition.version,
            definition_doc=definition.as_dict(), stages=len(definition.stages))
        d.journal.append(review_event(
            AuditAction.REVIEW_CAMPAIGN_OPENED, officer, now, review={
                "campaign_id": campaign.id, "definition": definition.name,
                "definition_version": definition.version, "snapshot_hash": campaign.snapshot_hash,
                "items": len(items), "stage": 1}))
        d.store.add_campaign(campaign, items)
        return campaign, _counts(items)

    def campaigns(self, state: str | None = None) -> list[tuple[Campaign, Counts]]:
        if state is not None and state not in {s.value for s in CampaignState}:
            names = ", ".join(s.value for s in CampaignState)
            raise InvalidRequest(f"state must be one of {names}")
        return [(c, self._d.store.counts(c.id)) for c in self._d.store.list_campaigns(state)]

    def get(self, campaign_id: str) -> tuple[Campaign, Counts]:
        campaign = self._d.campaign(campaign_id)
        return campaign, self._d.store.counts(campaign.id)

    def items(self, campaign_id: str) -> list[ReviewItem]:
        return self._d.store.campaign_items(self._d.campaign(campaign_id).id)

    def inbox(self, reviewer: str, *, campaign_id: str | None = None, pending_only: bool = False,
              after_id: str | None = None, limit: int = 100) -> list[ReviewItem]:
        """The reviewer's own items in live campaigns, by id (a page after ``after_id``).
        Up to one more than the largest page, so a caller can tell whether another follows."""
        if not 1 <= limit <= MAX_PAGE + 1:
            raise InvalidRequest(f"limit must be 1 to {MAX_PAGE}")
        return self._d.store.reviewer_items(reviewer, campaign_id=campaign_id,
                                            pending_only=pending_only, after_id=after_id,
                                            limit=limit)

    def decide(self, reviewer: str, decisions: Sequence[DecisionInput]) -> list[ReviewItem]:
        """Decide (or decide again) each item: all or nothing, one journal append."""
        d = self._d
        if not 1 <= len(decisions) <= MAX_BULK:
            raise InvalidRequest(f"send 1 to {MAX_BULK} decisions")
        if len({x.item_id for x in decisions}) != len(decisions):
            raise InvalidRequest("an item may be decided once per request")
        now = d.clock.now()
        found = {i.id: i for i in d.store.get_items([x.item_id for x in decisions])}
        campaigns: dict[str, Campaign] = {}
        changed: list[ReviewItem] = []
        events = []
        high = RoleFacts(d.policy()).highest
        for x in decisions:
            item = found.get(x.item_id)
            if item is None:
                raise ItemNotFound(f"no review item {x.item_id!r}")
            if item.reviewer != reviewer:
                raise NotYourItem(f"item {item.id} is not assigned to you")
            campaign = campaigns.get(item.campaign_id) or d.campaign(item.campaign_id)
            campaigns[campaign.id] = campaign
            if campaign.state is not CampaignState.OPEN or item.stage != campaign.stage:
                raise StageClosed(f"stage {item.stage} of campaign {campaign.id} is closed")
            justification = self._justification(campaign, item, x, high)
            if x.until is not None and (x.decision is not Verdict.KEEP or x.until <= now):
                raise InvalidRequest("`until` is a future date, for a keep decision only")
            decided = ItemDecision(x.decision, reviewer, now, item.stage, justification, x.until)
            previous = item.decision.decision.value if item.decision else None
            changed.append(replace(item, decision=decided, history=(*item.history, decided)))
            events.append(review_event(
                AuditAction.REVIEW_ITEM_DECIDED, reviewer, now, justification=justification,
                review={**item_ref(item), "decision": x.decision.value, "previous": previous,
                        "until": x.until, "defaulted": False}))
        d.journal.append_many(events)
        d.store.save_items(changed)
        return changed

    def _justification(self, campaign: Campaign, item: ReviewItem, x: DecisionInput,
                       high: frozenset[str]) -> str | None:
        definition = self._d.definitions().get(campaign.definition)
        why = None
        if definition is not None:
            why = justification_needed(definition, item.access, item.usage, x.decision, high)
        text = (x.justification or "").strip() or None
        if why is not None:
            problem = JUSTIFICATION.problem(text)
            if problem is not None:
                raise JustificationRequired(f"item {item.id}: {why}: {problem}")
        if text is not None and len(text) > MAX_TEXT:
            raise InvalidRequest(f"a justification is at most {MAX_TEXT} characters")
        return text

    def reassign(self, actor: str, item_id: str, to: str, reason: str, *,
                 officer: bool = False) -> ReviewItem:
        """Give an item to someone else, with a reason: its reviewer may, or an officer."""
        d = self._d
        reason = check_text(reason, "say why the item is reassigned: a reason")
        now = d.clock.now()
        found = d.store.get_items([item_id])
        if not found:
            raise ItemNotFound(f"no review item {item_id!r}")
        item = found[0]
        if item.reviewer != actor and not officer:
            raise NotYourItem(f"item {item.id} is not assigned to you")
        campaign = d.campaign(item.campaign_id)
        if campaign.state is not CampaignState.OPEN or item.stage != campaign.stage:
            raise StageClosed(f"stage {item.stage} of campaign {campaign.id} is closed")
        principal = d.directory.get(item.subject.uid) if item.subject.type in (
            "employee", "contractor") else None
        why = ineligibility(to, principal.uid if principal else None, item.access, d.directory)
        if why is not None:
            raise ReviewerIneligible(f"{to} cannot review this item: {why}")
        assignment = Assignment(to, AssignedBy.REASSIGNMENT, now, item.stage, (), reason, actor)
        moved = replace(item, assignment=assignment, assignments=(*item.assignments, assignment))
        d.journal.append(review_event(
            AuditAction.REVIEW_ITEM_REASSIGNED, actor, now, reason=reason,
            review={**item_ref(item), "reviewer": to,
                    "assigned_by": AssignedBy.REASSIGNMENT.value}))
        d.store.save_items([moved])
        return moved

    def cancel(self, officer: str, campaign_id: str, reason: str) -> Campaign:
        d = self._d
        reason = check_text(reason, "say why the campaign is cancelled: a reason")
        campaign = d.campaign(campaign_id)
        if campaign.state not in (CampaignState.OPEN, CampaignState.CLOSING):
            raise CampaignStateConflict(
                f"campaign {campaign.id} is {campaign.state.value}: only an open or held "
                "campaign can be cancelled")
        now = d.clock.now()
        d.journal.append(review_event(
            AuditAction.REVIEW_CAMPAIGN_CANCELLED, officer, now, reason=reason,
            review={"campaign_id": campaign.id, "state": CampaignState.CANCELLED.value}))
        cancelled = replace(campaign, state=CampaignState.CANCELLED, closed_at=now,
                            cancelled_by=officer, cancel_reason=reason)
        d.store.save_campaign(cancelled)
        return cancelled


def _counts(items: Sequence[ReviewItem]) -> Counts:
    keep = sum(1 for i in items if i.decision and i.decision.decision is Verdict.KEEP)
    revoke = sum(1 for i in items if i.decision and i.decision.decision is Verdict.REVOKE)
    defaulted = sum(1 for i in items if i.decision and i.decision.defaulted)
    return Counts(len(items), len(items) - keep - revoke, keep, revoke, defaulted)


def _day(at: float) -> str:
    from guardian.clock import iso_utc

    return iso_utc(at)[:10]

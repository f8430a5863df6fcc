"""Closing a campaign's stage, the no-answer rules and the brake, remediation, restoring,
sign-off, and what a scheduler calls when time passes (:meth:`ReviewClosing.run_due`).

Closing a stage that is not the last moves every item not revoked on to the next stage's
reviewer (its decisions stay in its history). Closing the last stage applies the no-answer
rule to every undecided item (per its sensitivity: revoke, keep flagged, or follow the
recommendation); if more than the definition's brake would be revoked by default, nothing is
applied and the campaign holds (``closing``) until an officer confirms or cancels. Applying
revokes at once in Guardian: a standing role goes into the revocation view (decisions deny
``access_revoked``) and waits for the directory to show it gone (``blocked`` → ``verified``),
a grant or key is revoked through its own service, a permission review's rule becomes part of
a ``policy.csv`` change proposal. Sign-off needs an officer or DPO who reviewed nothing in the
campaign.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from guardian.audit.events import AuditAction
from guardian.errors import CampaignStateConflict, ItemNotFound, NotIndependent
from guardian.governance.review_definitions import NoAnswer, ReviewDefinition
from guardian.governance.review_eligibility import assign
from guardian.governance.review_escalation import escalate
from guardian.governance.review_model import (
    AccessKind,
    Campaign,
    CampaignState,
    ItemDecision,
    Notification,
    Remediation,
    RemediationState,
    ReviewItem,
    Revocation,
    Verdict,
)
from guardian.governance.review_opening import DAY_S, RoleFacts
from guardian.governance.review_proposal import policy_proposal, proposed_csv
from guardian.governance.review_remediation import remove_memberships
from guardian.governance.reviews import ReviewDeps, check_text, item_ref, review_event
from guardian.policy.vocabulary import AdminRole
from guardian.ports import MembershipWriter

SYSTEM = "guardian"
"""The actor of what the clock does (deadlines, no-answer rules)."""
RevokeGrant = Callable[[str, str, str], object]
"""(actor, grant id, reason): the grant service's revoke."""
RevokeKey = Callable[[str, str], object]
"""(key id, actor): the key service's revoke."""
CheckPolicy = Callable[[str], Sequence[str]]
"""A proposed ``policy.csv`` → what lint and the policy tests find wrong with it (none: ok)."""
Notify = Callable[[Campaign, str, Mapping[str, Sequence[ReviewItem]]], Mapping[str, str]]
"""(campaign, kind, reviewer → pending items) → reviewer → channels it went out on."""


class ReviewClosing:
    def __init__(self, deps: ReviewDeps, *, revoke_grant: RevokeGrant | None = None,
                 revoke_key: RevokeKey | None = None,
                 policy_csv: Callable[[], str] | None = None,
                 writer: MembershipWriter | None = None, notify: Notify | None = None,
                 check_policy: CheckPolicy | None = None) -> None:
        self._d = deps
        self._check_policy = check_policy
        self._writer = writer
        self._notify = notify
        self._revoke_grant = revoke_grant
        self._revoke_key = revoke_key
        self._policy_csv = policy_csv

    # -- closing ------------------------------------------------------------------------

    def close(self, actor: str, campaign_id: str) -> Campaign:
        """Close the current stage (an officer early, or the clock at the deadline)."""
        campaign = self._d.campaign(campaign_id)
        if campaign.state is not CampaignState.OPEN:
            raise CampaignStateConflict(f"campaign {campaign.id} is {campaign.state.value}, "
                                        "not open")
        definition = self._definition(campaign)
        now = self._d.clock.now()
        items = self._d.store.campaign_items(campaign.id)
        self._d.journal.append(review_event(
            AuditAction.REVIEW_STAGE_CLOSED, actor, now, review={
                "campaign_id": campaign.id, "stage": campaign.stage, "items": len(items)}))
        if campaign.stage < len(definition.stages):
            return self._next_stage(campaign, definition, items, now)
        defaults = self._defaults(definition, items)
        would_revoke = sum(1 for v, _ in defaults.values() if v is Verdict.REVOKE)
        share = would_revoke / len(items) if items else 0.0
        if share > definition.brake:
            held = {"would_revoke": would_revoke, "items": len(items), "share": round(share, 4),
                    "brake": definition.brake}
            self._d.journal.append(review_event(
                AuditAction.REVIEW_CAMPAIGN_HELD, actor, now, review={
                    "campaign_id": campaign.id, "share": share, "items": would_revoke,
                    "state": CampaignState.CLOSING.value}))
            closing = replace(campaign, state=CampaignState.CLOSING, held=held)
            self._d.store.save_campaign(closing)
            return closing
        return self._apply(actor, campaign, definition, items, now)

    def confirm(self, officer: str, campaign_id: str) -> Campaign:
        """Apply the no-answer rules of a campaign the brake holds."""
        campaign = self._d.campaign(campaign_id)
        if campaign.state is not CampaignState.CLOSING:
            raise CampaignStateConflict(f"campaign {campaign.id} is {campaign.state.value}: "
                                        "only a campaign held by its brake is confirmed")
        now = self._d.clock.now()
        self._d.journal.append(review_event(
            AuditAction.REVIEW_CAMPAIGN_CONFIRMED, officer, now,
            review={"campaign_id": campaign.id, "state": CampaignState.REMEDIATING.value}))
        return self._apply(officer, campaign, self._definition(campaign),
                           self._d.store.campaign_items(campaign.id), now)

    def _definition(self, campaign: Campaign) -> ReviewDefinition:
        return self._d.definition(campaign.definition)

    def _next_stage(self, campaign: Campaign, definition: ReviewDefinition,
                    items: Sequence[ReviewItem], now: float) -> Campaign:
        number = campaign.stage + 1
        stage = definition.stages[number - 1]
        owners = self._d.policy().role_owners
        dpos = tuple(sorted(p.uid for p in self._d.directory.principals()
                            if AdminRole.DPO.value in p.roles and p.active))
        moved = []
        for item in items:
            if item.decision is not None and item.decision.decision is Verdict.REVOKE:
                continue
            principal = self._d.directory.get(item.subject.uid)
            a = assign(stage, number, principal, item.access, self._d.directory, owners, dpos,
                       now)
            moved.append(replace(item, stage=number, decision=None, assignment=a,
                                 assignments=(*item.assignments, a)))
        self._d.store.save_items(moved)
        advanced = replace(campaign, stage=number, due_at=now + stage.days * DAY_S)
        self._d.store.save_campaign(advanced)
        return advanced

    def _defaults(self, definition: ReviewDefinition, items: Sequence[ReviewItem]
                  ) -> dict[str, tuple[Verdict, bool]]:
        """Undecided item id → (what the no-answer rule gives, flagged)."""
        out = {}
        for item in items:
            if item.decision is not None:
                continue
            rule = definition.no_answer_for(item.access.sensitivity)
            if rule is NoAnswer.REVOKE:
                out[item.id] = (Verdict.REVOKE, False)
            elif rule is NoAnswer.KEEP_FLAGGED:
                out[item.id] = (Verdict.KEEP, True)
            else:
                out[item.id] = (item.recommendation.decision, False)
        return out

    def _apply(self, actor: str, campaign: Campaign, definition: ReviewDefinition,
               items: Sequence[ReviewItem], now: float) -> Campaign:
        defaults = self._defaults(definition, items)
        decided: list[ReviewItem] = []
        events = []
        for item in items:
            if item.id in defaults:
                verdict, flagged = defaults[item.id]
                d = ItemDecision(verdict, SYSTEM, now, item.stage, "no answer by the deadline",
                                 defaulted=True)
                item = replace(item, decision=d, history=(*item.history, d), flagged=flagged)
                events.append(review_event(
                    AuditAction.REVIEW_ITEM_DECIDED, SYSTEM, now, review={
                        **item_ref(item), "decision": verdict.value, "defaulted": True}))
            decided.append(item)
        if events:
            self._d.journal.append_many(events)
        remediated = self._remediate(actor, campaign, decided, now)
        self._d.store.save_items(remediated)
        proposal, problems = None, None
        rules = [i.access for i in remediated if i.access.kind is AccessKind.RULE
                 and i.decision is not None and i.decision.decision is Verdict.REVOKE]
        if rules and self._policy_csv is not None:
            csv = self._policy_csv()
            proposal = policy_proposal(csv, rules)
            if self._check_policy is not None:
                problems = tuple(self._check_policy(proposed_csv(csv, rules)))
        waiting = any(i.remediation is not None and i.remediation.state in _WAITING
                      for i in remediated)
        state = CampaignState.REMEDIATING if waiting else CampaignState.AWAITING_SIGN_OFF
        done = replace(campaign, state=state, closed_at=now, held=None, proposal=proposal,
                       proposal_problems=problems)
        self._d.store.save_campaign(done)
        return done

    def _remediate(self, actor: str, campaign: Campaign, items: Sequence[ReviewItem],
                   now: float) -> list[ReviewItem]:
        """Revoke in Guardian every revoked item: journalled, then stored, then in memory."""
        revoked = [i for i in items if i.decision is not None and i.decision.decision is
                   Verdict.REVOKE and i.remediation is None]
        if not revoked:
            return list(items)
        self._d.journal.append_many([review_event(
            AuditAction.REVIEW_ACCESS_REVOKED, actor, now,
            review={**item_ref(i), "remediation": _first_state(i).value}) for i in revoked])
        roles = [Revocation(i.subject.uid, i.access.role or "", campaign.id, i.id, now)
                 for i in revoked if i.access.kind is AccessKind.ROLE]
        self._d.store.add_revocations(roles)
        self._d.revocations.add(roles)
        if roles:
            self._d.revocations_changed(campaign.id)
        reason = f"revoked in access review campaign {campaign.id}"
        for i in revoked:
            if i.access.kind is AccessKind.GRANT and self._revoke_grant and i.access.ref:
                self._revoke_grant(actor, i.access.ref, reason)
            elif i.access.kind is AccessKind.KEY and self._revoke_key and i.access.ref:
                self._revoke_key(i.access.ref, actor)
        by_id = {i.id: replace(i, remediation=Remediation(_first_state(i), now, now))
                 for i in revoked}
        if self._writer is not None:
            removed = remove_memberships(self._writer, self._d.journal, actor,
                                         list(by_id.values()), now)
            by_id = {i.id: i for i in removed}
        return self._verified([by_id.get(i.id, i) for i in items], actor, now)

    # -- remediation ----------------------------------------------------------------------

    def _verified(self, items: list[ReviewItem], actor: str, now: float) -> list[ReviewItem]:
        """Blocked roles the directory no longer shows become verified (journalled first)."""
        gone = []
        for item in items:
            rem = item.remediation
            if rem is None or rem.state not in _WAITING:
                continue
            principal = self._d.directory.get(item.subject.uid)
            if principal is None or item.access.role not in principal.roles:
                gone.append(item)
        if not gone:
            return items
        self._d.journal.append_many([review_event(
            AuditAction.REVIEW_REMEDIATION_VERIFIED, actor, now,
            review={**item_ref(i), "remediation": RemediationState.VERIFIED.value})
            for i in gone])
        for item in gone:
            self._d.store.end_revocation(item.id, now)
        self._d.revocations.remove(i.id for i in gone)
        self._d.revocations_changed(gone[0].campaign_id)
        changed = {i.id: replace(i, remediation=replace(
            i.remediation, state=RemediationState.VERIFIED, updated_at=now,
            note="the directory no longer shows the membership")) for i in gone
            if i.remediation is not None}
        return [changed.get(i.id, i) for i in items]

    def verify(self, actor: str, campaign_id: str) -> Campaign:
        """Check the directory for every blocked item; move on once none is left."""
        campaign = self._d.campaign(campaign_id)
        if campaign.state is not CampaignState.REMEDIATING:
            return campaign
        now = self._d.clock.now()
        items = self._d.store.campaign_items(campaign.id)
        checked = self._verified(items, actor, now)
        if self._writer is not None:  # retry what failed, and what waited for an account
            checked = remove_memberships(self._writer, self._d.journal, actor, checked, now)
        self._d.store.save_items([b for a, b in zip(items, checked, strict=True) if a is not b])
        if any(i.remediation is not None and i.remediation.state in _WAITING
               for i in checked):
            return campaign
        done = replace(campaign, state=CampaignState.AWAITING_SIGN_OFF)
        self._d.store.save_campaign(done)
        return done

    def restore(self, officer: str, item_id: str, justification: str) -> ReviewItem:
        """Give back a standing role a review revoked (an officer, with a justification)."""
        text = check_text(justification, "say why the access is restored: a justification")
        found = self._d.store.get_items([item_id])
        if not found:
            raise ItemNotFound(f"no review item {item_id!r}")
        item = found[0]
        rem = item.remediation
        if rem is None or rem.state is RemediationState.RESTORED or \
                item.access.kind is not AccessKind.ROLE:
            raise CampaignStateConflict(
                f"item {item.id} has no revoked role to restore (a revoked grant or key is "
                "given again through grants or keys)")
        now = self._d.clock.now()
        self._d.journal.append(review_event(
            AuditAction.REVIEW_ACCESS_RESTORED, officer, now, justification=text,
            review={**item_ref(item), "remediation": RemediationState.RESTORED.value}))
        self._d.store.end_revocation(item.id, now)
        self._d.revocations.remove([item.id])
        self._d.revocations_changed(item.campaign_id)
        restored = replace(item, remediation=replace(
            rem, state=RemediationState.RESTORED, updated_at=now, restored_by=officer,
            restore_justification=text))
        self._d.store.save_items([restored])
        return restored

    # -- sign-off -------------------------------------------------------------------------

    def sign_off(self, actor: str, campaign_id: str) -> Campaign:
        campaign = self.verify(actor, campaign_id)
        if campaign.state is not CampaignState.AWAITING_SIGN_OFF:
            raise CampaignStateConflict(
                f"campaign {campaign.id} is {campaign.state.value}: it is signed off once "
                "closed and remediated (awaiting-sign-off)")
        items = self._d.store.campaign_items(campaign.id)
        if any(actor in {a.reviewer for a in i.assignments} or
               any(h.by == actor for h in i.history) for i in items):
            raise NotIndependent(f"{actor} reviewed items of this campaign: another officer "
                                 "or the DPO signs it off")
        now = self._d.clock.now()
        self._d.journal.append(review_event(
            AuditAction.REVIEW_CAMPAIGN_SIGNED_OFF, actor, now, review={
                "campaign_id": campaign.id, "snapshot_hash": campaign.snapshot_hash,
                "items": len(items), "state": CampaignState.CLOSED.value}))
        closed = replace(campaign, state=CampaignState.CLOSED, signed_off_by=actor,
                         signed_off_at=now)
        self._d.store.save_campaign(closed)
        return closed

    # -- the clock ------------------------------------------------------------------------

    def run_due(self, now: float) -> list[Campaign]:
        """What time asks for: reminders, stages past their deadline closed, remediation
        checked. Returns the campaigns that changed. The scheduler calls this."""
        changed = []
        for campaign in self._d.store.list_campaigns(CampaignState.OPEN.value):
            reminded = self._remind(self._escalate(campaign, now), now)
            if campaign.due_at <= now:
                changed.append(self.close(SYSTEM, reminded.id))
            elif reminded is not campaign:
                changed.append(reminded)
        just_closed = {c.id for c in changed}  # their removals were just tried: next time
        for campaign in self._d.store.list_campaigns(CampaignState.REMEDIATING.value):
            if campaign.id in just_closed:
                continue
            after = self.verify(SYSTEM, campaign.id)
            if after.state is not campaign.state:
                changed.append(after)
        return changed

    def _escalate(self, campaign: Campaign, now: float) -> Campaign:
        definition = self._d.definitions().get(campaign.definition)
        if definition is None or campaign.due_at <= now:
            return campaign  # past the deadline the stage closes instead
        return escalate(self._d, self._notify, campaign,
                        definition.stages[campaign.stage - 1], now)

    def _remind(self, campaign: Campaign, now: float) -> Campaign:
        """Tell every reviewer with pending items, once when the stage opens and once per
        reminder day; each notice recorded with its channel."""
        definition = self._d.definitions().get(campaign.definition)
        if definition is None:
            return campaign
        stage = definition.stages[campaign.stage - 1]
        due = [d for d in stage.reminders if campaign.due_at - d * DAY_S <= now]
        told = {n.kind for n in campaign.notifications}
        if due:
            kind = f"reminder:{campaign.stage}:{min(due)}"
            if kind in told:
                return campaign
        else:  # a stage just opened: its reviewers are told once, before any reminder
            kind = f"opened:{campaign.stage}"
            if any(k == kind or k.startswith(f"reminder:{campaign.stage}:") for k in told):
                return campaign
        pending: dict[str, list[ReviewItem]] = {}
        since = campaign.due_at - min(due) * DAY_S if due else now
        escalated_now = {n.reviewer for n in campaign.notifications  # their notice was this one
                         if n.kind == f"escalation:{campaign.stage}" and n.at >= since}
        for item in self._d.store.campaign_items(campaign.id):
            if item.decision is None and item.reviewer is not None and \
                    item.reviewer not in escalated_now:
                pending.setdefault(item.reviewer, []).append(item)
        if not pending:
            return campaign  # never a reminder for an empty inbox
        sent = self._notify(campaign, kind, pending) if self._notify is not None else {}
        notes = tuple(Notification(now, r, kind, len(its), sent.get(r, "recorded"))
                      for r, its in sorted(pending.items()))
        self._d.journal.append_many([review_event(
            AuditAction.REVIEW_REMINDER_SENT, SYSTEM, now, review={
                "campaign_id": campaign.id, "reviewer": n.reviewer, "items": n.items,
                "stage": campaign.stage, "kind": n.kind, "channel": n.channel})
            for n in notes])
        # Sending took a while: keep what an officer changed meanwhile, add only the notices.
        fresh = self._d.store.get_campaign(campaign.id) or campaign
        reminded = replace(fresh, notifications=(*fresh.notifications, *notes))
        self._d.store.save_campaign(reminded)
        return reminded

    def high_levels(self) -> frozenset[str]:
        return RoleFacts(self._d.policy()).highest


_WAITING = (RemediationState.BLOCKED, RemediationState.REMOVED, RemediationState.FAILED)
"""Revoked in Guardian, not yet shown gone by the directory."""


def _first_state(item: ReviewItem) -> RemediationState:
    if item.access.kind is AccessKind.ROLE:
        return RemediationState.BLOCKED
    if item.access.kind is AccessKind.RULE:
        return RemediationState.PROPOSED
    return RemediationState.VERIFIED  # a grant or key ends in Guardian's own store

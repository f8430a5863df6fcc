"""Access review records: campaigns, items, their evidence, decisions and remediation.

Every record is frozen: a change is a new record, stored after the audit event that describes
it was journalled (:mod:`guardian.governance.reviews`). ``as_dict`` gives the shapes of
DESIGN.md's HTTP contract (a campaign, an item), which the evidence report reuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from guardian.clock import iso_utc, iso_utc_or_none


class CampaignState(StrEnum):
    OPEN = "open"
    CLOSING = "closing"
    """The last stage closed and the brake held it: an officer confirms (``:confirm``)."""
    REMEDIATING = "remediating"
    AWAITING_SIGN_OFF = "awaiting-sign-off"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class AccessKind(StrEnum):
    ROLE = "role"
    GRANT = "grant"
    KEY = "key"
    RULE = "rule"


class AssignedBy(StrEnum):
    MANAGER = "manager"
    ROLE_OWNER = "role-owner"
    DPO = "dpo"
    NAMED = "named"
    FALLBACK = "fallback"
    ESCALATION = "escalation"
    REASSIGNMENT = "reassignment"
    UNASSIGNED = "unassigned"
    """Nobody eligible: the item shows in the report, an officer reassigns it."""


class Verdict(StrEnum):
    KEEP = "keep"
    REVOKE = "revoke"


class RecoCode(StrEnum):
    NEVER_USED = "never_used"
    UNUSED_IN_WINDOW = "unused_in_window"
    USED_IN_WINDOW = "used_in_window"
    ACCOUNT_DISABLED = "account_disabled"
    CLAUSE_MISSING = "clause_missing"
    CATEGORIES_UNUSED = "categories_unused"
    RECENTLY_GRANTED = "recently_granted"


class RemediationState(StrEnum):
    BLOCKED = "blocked"
    """Guardian no longer counts the access in decisions; the directory still shows it."""
    REMOVED = "removed"
    VERIFIED = "verified"
    FAILED = "failed"
    RESTORED = "restored"
    PROPOSED = "proposed"
    """A permission review's revoked rule: part of the policy change proposal."""


@dataclass(frozen=True, slots=True)
class Subject:
    uid: str
    name: str
    type: str
    manager: str | None
    active: bool
    supplier: str | None = None
    contract_clause: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"uid": self.uid, "name": self.name, "type": self.type,
                               "manager": self.manager, "active": self.active}
        if self.type == "contractor":
            out["supplier"] = self.supplier
            out["contract_clause"] = self.contract_clause
        return out


@dataclass(frozen=True, slots=True)
class Access:
    kind: AccessKind
    role: str | None
    source: str
    """``directory`` (a standing role), ``grant``, ``store``/``file`` (a key), ``policy``."""
    ref: str | None = None
    """The grant's or key's id, or the rule as ``db/category/action/purpose``."""
    granted_by: str | None = None
    granted_at: float | None = None
    sensitivity: str | None = None

    def key(self) -> tuple[str, str, str]:
        return (self.kind.value, self.role or "", self.ref or "")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind.value, "role": self.role, "source": self.source,
                               "sensitivity": self.sensitivity}
        if self.kind is AccessKind.GRANT:
            out.update(grant_id=self.ref, granted_by=self.granted_by,
                       granted_at=iso_utc_or_none(self.granted_at))
        elif self.kind is AccessKind.KEY:
            out.update(key_id=self.ref)
        elif self.kind is AccessKind.RULE:
            out.update(rule=self.ref)
        return out


@dataclass(frozen=True, slots=True)
class Usage:
    window_days: int
    permits: int = 0
    last_used_at: float | None = None
    """Last permit in the window."""
    ever_used: bool = False
    """Any permit relying on this access in the whole trail."""
    categories_used: tuple[str, ...] = ()
    categories_permitted: tuple[str, ...] = ()
    purposes_used: tuple[str, ...] = ()
    customers: int = 0
    denies: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"window_days": self.window_days, "permits": self.permits,
                "last_used_at": iso_utc_or_none(self.last_used_at),
                "categories_used": list(self.categories_used),
                "categories_permitted": list(self.categories_permitted),
                "purposes_used": list(self.purposes_used), "customers": self.customers,
                "denies": self.denies}


@dataclass(frozen=True, slots=True)
class Recommendation:
    decision: Verdict
    reasons: tuple[RecoCode, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"decision": self.decision.value, "reasons": [r.value for r in self.reasons]}


@dataclass(frozen=True, slots=True)
class ItemDecision:
    decision: Verdict
    by: str
    at: float
    stage: int
    justification: str | None = None
    until: float | None = None
    defaulted: bool = False
    """Taken by the no-answer rule at the deadline, not by a reviewer."""

    def as_dict(self) -> dict[str, Any]:
        return {"decision": self.decision.value, "by": self.by, "at": iso_utc(self.at),
                "stage": self.stage, "justification": self.justification,
                "until": iso_utc_or_none(self.until), "defaulted": self.defaulted}


@dataclass(frozen=True, slots=True)
class Assignment:
    reviewer: str | None
    assigned_by: AssignedBy
    at: float
    stage: int
    skipped: tuple[str, ...] = ()
    """Who the rule named but could not review, and why (``nina: is the subject``)."""
    reason: str | None = None
    """A reassignment's reason."""
    by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"reviewer": self.reviewer, "assigned_by": self.assigned_by.value,
                "at": iso_utc(self.at), "stage": self.stage, "skipped": list(self.skipped),
                "reason": self.reason, "by": self.by}


@dataclass(frozen=True, slots=True)
class Remediation:
    state: RemediationState
    at: float
    """When the access was revoked in Guardian (time-to-revoke counts from the close)."""
    updated_at: float
    note: str | None = None
    restored_by: str | None = None
    restore_justification: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state.value, "revoked_at": iso_utc(self.at),
                "updated_at": iso_utc(self.updated_at), "note": self.note,
                "restored_by": self.restored_by,
                "restore_justification": self.restore_justification}


@dataclass(frozen=True, slots=True)
class ReviewItem:
    id: str
    campaign_id: str
    stage: int
    subject: Subject
    access: Access
    usage: Usage
    recommendation: Recommendation
    assignment: Assignment
    assignments: tuple[Assignment, ...] = ()
    """Every assignment, the current one last."""
    decision: ItemDecision | None = None
    history: tuple[ItemDecision, ...] = ()
    """Every decision taken, the current one last (a change of mind keeps the earlier)."""
    flagged: bool = False
    """Kept without an answer (no-answer rule ``keep-flagged``)."""
    remediation: Remediation | None = None

    @property
    def reviewer(self) -> str | None:
        return self.assignment.reviewer

    @property
    def pending(self) -> bool:
        return self.decision is None

    def as_dict(self, *, with_history: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "campaign_id": self.campaign_id, "stage": self.stage,
            "reviewer": self.reviewer, "assigned_by": self.assignment.assigned_by.value,
            "subject": self.subject.as_dict(), "access": self.access.as_dict(),
            "usage": self.usage.as_dict(), "recommendation": self.recommendation.as_dict(),
            "decision": None if self.decision is None else self.decision.as_dict(),
            "flagged": self.flagged,
            "remediation": None if self.remediation is None else self.remediation.as_dict(),
        }
        if with_history:
            out["history"] = [d.as_dict() for d in self.history]
            out["assignments"] = [a.as_dict() for a in self.assignments]
        return out


@dataclass(frozen=True, slots=True)
class Notification:
    at: float
    reviewer: str
    kind: str
    """``opened``, ``reminder``, ``escalation``."""
    items: int
    channel: str = "recorded"

    def as_dict(self) -> dict[str, Any]:
        return {"at": iso_utc(self.at), "reviewer": self.reviewer, "kind": self.kind,
                "items": self.items, "channel": self.channel}


@dataclass(frozen=True, slots=True)
class Counts:
    items: int = 0
    pending: int = 0
    keep: int = 0
    revoke: int = 0
    defaulted: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"items": self.items, "pending": self.pending, "keep": self.keep,
                "revoke": self.revoke, "defaulted": self.defaulted}


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    name: str
    definition: str
    kind: str
    state: CampaignState
    stage: int
    opened_at: float
    due_at: float
    """The current stage's deadline."""
    opened_by: str
    snapshot_hash: str
    definition_version: str
    definition_doc: dict[str, Any] = field(default_factory=dict)
    stages: int = 1
    closed_at: float | None = None
    held: dict[str, Any] | None = None
    """Why the brake holds the campaign (share that would be revoked by default)."""
    signed_off_by: str | None = None
    signed_off_at: float | None = None
    cancelled_by: str | None = None
    cancel_reason: str | None = None
    notifications: tuple[Notification, ...] = ()
    proposal: str | None = None
    """A permission review's policy change proposal (a unified diff of policy.csv)."""
    proposal_problems: tuple[str, ...] | None = None
    """What lint and the policy tests found wrong with the proposal (``None``: not checked)."""
    escalated_stage: int = 0
    """The last stage whose overdue items were escalated (each stage escalates once)."""

    def as_dict(self, counts: Counts | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "name": self.name, "definition": self.definition, "kind": self.kind,
            "state": self.state.value, "stage": self.stage, "stages": self.stages,
            "opened_at": iso_utc(self.opened_at), "due_at": iso_utc(self.due_at),
            "opened_by": self.opened_by, "snapshot_hash": self.snapshot_hash,
            "definition_version": self.definition_version,
            "closed_at": iso_utc_or_none(self.closed_at), "held": self.held,
            "signed_off_by": self.signed_off_by,
            "signed_off_at": iso_utc_or_none(self.signed_off_at),
            "cancelled_by": self.cancelled_by, "cancel_reason": self.cancel_reason,
        }
        if counts is not None:
            out["counts"] = counts.as_dict()
        return out


@dataclass(frozen=True, slots=True)
class Revocation:
    """A standing role a review revoked: it no longer counts for ``uid`` in decisions."""

    uid: str
    role: str
    campaign_id: str
    item_id: str
    at: float

"""The decision request and decision: plain, frozen values that cross every layer.

They carry no behaviour beyond rendering themselves; the pipeline in
:mod:`guardian.policy.pipeline` is what produces a :class:`Decision`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from guardian.audit.records import AuditReceipt
from guardian.policy.vocabulary import Action, Outcome, ReasonCode

# AuditReceipt is re-exported: it moved to guardian.audit.records.
__all__ = ["Action", "AuditReceipt", "Decision", "DecisionRequest", "Obligation", "Outcome",
           "Reason"]


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """May ``subject_id`` perform ``action`` on ``database/category`` for ``purpose``?"""

    subject_id: str
    action: Action
    database: str
    category: str
    purpose: str
    customer_ids: tuple[str, ...] = ()
    session_token: str | None = None
    justification: str | None = None
    client_ip: str | None = None
    """The address of the person behind the application, as the application reports it."""
    application: str | None = None
    """The application authenticated by its API key."""
    key_id: str | None = None
    """Which of its keys it presented."""
    client_application: str | None = None
    """What the client says it is (``context.application``): recorded, never trusted."""
    scope: str | None = None
    """What a bulk request (no customer named) covers, in the caller's words."""


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    message: str
    customer_ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.customer_ids:
            out["customer_ids"] = list(self.customer_ids)
        return out


@dataclass(frozen=True, slots=True)
class Obligation:
    """Something the calling application must do when it acts on a permit (e.g. mask fields)."""

    type: str
    fields: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "fields": list(self.fields)}


@dataclass(frozen=True, slots=True)
class Decision:
    decision_id: str
    outcome: Outcome
    reasons: tuple[Reason, ...]
    policy_version: str
    obligations: tuple[Obligation, ...] = ()
    audit: AuditReceipt | None = None
    roles: tuple[str, ...] = field(default=())
    mfa_age_s: int | None = None
    role: str | None = None
    """The role that permitted (a permit only): access reviews count its use."""

    @property
    def permitted(self) -> bool:
        return self.outcome is Outcome.PERMIT

    @property
    def reason_codes(self) -> tuple[ReasonCode, ...]:
        return tuple(r.code for r in self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "decision": self.outcome,
            "reasons": [r.as_dict() for r in self.reasons],
            "obligations": [o.as_dict() for o in self.obligations],
            "policy_version": self.policy_version,
            "audit": (
                {"seq": self.audit.seq, "hash": self.audit.hash} if self.audit is not None else None
            ),
        }

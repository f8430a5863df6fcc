"""Audit events: what happened, shaped as Elastic Common Schema with Guardian's own fields.

ECS names where one exists (``@timestamp``, ``event.action``, ``event.outcome``, ``user.id``,
``user.roles``, ``source.ip``); Guardian's under ``guardian.*``. Events are built once and never
changed; the journal adds ``guardian.seq``, ``guardian.prev_hash`` and ``guardian.hash``.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from typing import Any

from guardian.clock import iso_utc
from guardian.policy.model import Decision, DecisionRequest


class AuditAction(StrEnum):
    """``event.action`` values: ``<domain>.<what happened>``."""

    ACCESS_DECISION = "access.decision"
    ACCESS_REFUSED_INPUT = "access.invalid_request"
    SESSION_CREATED = "session.created"
    SESSION_FAILED = "session.failed"
    SESSION_STEPPED_UP = "session.stepped_up"
    MFA_ENROLMENT_STARTED = "mfa.enrolment_started"
    MFA_FACTOR_ACTIVATED = "mfa.factor_activated"
    MFA_WEBAUTHN_REGISTERED = "mfa.webauthn_registered"
    MFA_INVITATION_CREATED = "mfa.invitation_created"
    MFA_INVITATION_USED = "mfa.invitation_used"
    GRANT_CREATED = "governance.grant_created"
    GRANT_REFUSED = "governance.grant_refused"
    GRANT_REVOKED = "governance.grant_revoked"
    API_KEY_CREATED = "governance.api_key_created"
    API_KEY_REVOKED = "governance.api_key_revoked"
    CONSENT_GRANTED = "consent.granted"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    TRAIL_SEARCHED = "audit.trail_searched"
    CUSTOMER_REPORT_PRODUCED = "audit.customer_report_produced"
    PERIODIC_REPORT_PRODUCED = "audit.periodic_report_produced"
    CHAIN_REGRESSED = "audit.chain_regressed"
    RETENTION_APPLIED = "audit.retention_applied"
    POLICY_CHANGED = "policy.changed"


@functools.lru_cache(maxsize=256)
def timestamp(at: float) -> str:
    """ISO 8601 in UTC with milliseconds; cached, as a batch shares one instant."""
    return iso_utc(at, "milliseconds")


def decision_event(
    request: DecisionRequest, decision: Decision, at: float
) -> dict[str, Any]:
    # Enum members are str subclasses: orjson writes them as their value, no `.value` needed.
    guardian: dict[str, Any] = {
        "decision_id": decision.decision_id,
        "decision": decision.outcome,
        "action": request.action,
        "purpose": request.purpose,
        "database": request.database,
        "category": request.category,
        "customer_ids": list(request.customer_ids),
        "reasons": [r.code for r in decision.reasons],
        "policy_version": decision.policy_version,
    }
    if decision.mfa_age_s is not None:
        guardian["mfa_age_s"] = decision.mfa_age_s
    if request.justification:
        guardian["justification"] = request.justification
    if decision.obligations:
        guardian["obligations"] = [o.as_dict() for o in decision.obligations]
    if request.key_id:
        guardian["key_id"] = request.key_id
    if request.scope:
        guardian["scope"] = request.scope
    if request.client_application:
        # What the client claims about itself, beside (never instead of) what its key proves.
        guardian["client"] = {"application": request.client_application}
    event: dict[str, Any] = {
        "@timestamp": timestamp(at),
        "event": {
            "kind": "event",
            "category": ["iam"],
            "action": AuditAction.ACCESS_DECISION,
            "outcome": "success" if decision.permitted else "failure",
        },
        "user": {"id": request.subject_id, "roles": list(decision.roles)},
        "guardian": guardian,
    }
    if request.client_ip:
        event["source"] = {"ip": request.client_ip}
    if request.application:
        event["service"] = {"name": request.application}  # authenticated by its API key
    return event


def session_event(action: AuditAction, uid: str, at: float, **extra: Any) -> dict[str, Any]:
    outcome = "failure" if action is AuditAction.SESSION_FAILED else "success"
    return {
        "@timestamp": timestamp(at),
        "event": {"kind": "event", "category": ["authentication"], "action": action.value,
                  "outcome": outcome},
        "user": {"id": uid},
        "guardian": dict(extra),
    }


def governance_event(
    action: AuditAction, actor: str, at: float, *, success: bool = True, **extra: Any
) -> dict[str, Any]:
    """A change to who may do what (grants, API keys, second factors), made by ``actor``."""
    return {
        "@timestamp": timestamp(at),
        "event": {"kind": "event", "category": ["iam", "configuration"], "action": action.value,
                  "outcome": "success" if success else "failure"},
        "user": {"id": actor},
        "guardian": dict(extra),
    }


def trail_access_event(
    action: AuditAction, auditor: str, at: float, query: str
) -> dict[str, Any]:
    """An auditor or the DPO read the trail itself: who looked, and at what (``query`` renders
    the filters, e.g. ``customer=C-1001 purpose=marketing``). Kept apart from
    ``guardian.customer_ids`` so reading a customer's trail is not counted as accessing them."""
    return {
        "@timestamp": timestamp(at),
        "event": {"kind": "event", "category": ["iam"], "action": action.value,
                  "outcome": "success"},
        "user": {"id": auditor},
        "guardian": {"query": query},
    }


def consent_event(
    actor: str, application: str | None, key_id: str | None, at: float, *, customer_id: str,
    purpose: str, granted: bool, source: str, given_at: float,
) -> dict[str, Any]:
    """A customer's consent given or withdrawn, as ``actor`` (the consent system's application,
    or whoever imported a file) recorded it. The customer is under ``guardian.consent``, not
    ``guardian.customer_ids``: a consent change is not an access to their data."""
    action = AuditAction.CONSENT_GRANTED if granted else AuditAction.CONSENT_WITHDRAWN
    guardian: dict[str, Any] = {
        "purpose": purpose,
        "consent": {"customer_id": customer_id, "granted": granted, "source": source,
                    "at": given_at},
    }
    if key_id is not None:
        guardian["key_id"] = key_id
    event: dict[str, Any] = {
        "@timestamp": timestamp(at),
        "event": {"kind": "event", "category": ["iam", "configuration"],
                  "action": action.value, "outcome": "success"},
        "user": {"id": actor},
        "guardian": guardian,
    }
    if application is not None:
        event["service"] = {"name": application}
    return event

"""Audit events: what happened, shaped as Elastic Common Schema with Guardian's own fields.

ECS names where one exists (``@timestamp``, ``event.action``, ``event.outcome``, ``user.id``,
``user.roles``, ``source.ip``); Guardian's under ``guardian.*``. Events are built once and never
changed; the journal adds ``guardian.seq``, ``guardian.prev_hash`` and ``guardian.hash``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from guardian.clock import iso_utc


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
    REPORT_DELIVERED = "report.delivered"
    REVIEW_CAMPAIGN_OPENED = "review.campaign_opened"
    REVIEW_ITEM_DECIDED = "review.item_decided"
    REVIEW_ITEM_REASSIGNED = "review.item_reassigned"
    REVIEW_STAGE_CLOSED = "review.stage_closed"
    REVIEW_CAMPAIGN_HELD = "review.campaign_held"
    REVIEW_CAMPAIGN_CONFIRMED = "review.campaign_confirmed"
    REVIEW_ACCESS_REVOKED = "review.access_revoked"
    REVIEW_ACCESS_RESTORED = "review.access_restored"
    REVIEW_REMEDIATION_VERIFIED = "review.remediation_verified"
    REVIEW_CAMPAIGN_SIGNED_OFF = "review.campaign_signed_off"
    REVIEW_CAMPAIGN_CANCELLED = "review.campaign_cancelled"
    REVIEW_REMINDER_SENT = "review.reminder_sent"
    REVIEW_REPORT_PRODUCED = "review.report_produced"
    POLICY_CHANGED = "policy.changed"
    REVIEW_REMEDIATION_REMOVED = "review.remediation_removed"
    REVIEW_REMEDIATION_FAILED = "review.remediation_failed"
    REVIEW_ITEM_ESCALATED = "review.item_escalated"



_second: tuple[int, str] = (-1, "")
"""The last whole second formatted (``YYYY-MM-DDTHH:MM:SS``): one tuple, read and replaced
whole, so threads sharing it never see a second with another's text."""


def timestamp(at: float) -> str:
    """ISO 8601 in UTC with milliseconds (as ``iso_utc(at, "milliseconds")``); the date and
    time of day are formatted once a second, as ``datetime`` costs microseconds a call."""
    global _second
    second = int(at)
    ms = round((at - second) * 1_000_000) // 1000  # datetime's rounding to the microsecond
    if ms == 1000:
        second, ms = second + 1, 0
    cached = _second
    if cached[0] != second:
        cached = _second = (second, iso_utc(second)[:-1])
    return f"{cached[1]}.{ms:03d}Z"


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


def delivery_event(
    report_id: str, channel: str, recipients: int, attempts: int, at: float, *,
    actor: str, error: str | None = None,
) -> dict[str, Any]:
    """A report (or notification) handed to a mail server or a webhook, or not: ``channel``
    ``email``/``webhook``, how many recipients, after how many attempts, and why it failed
    (``event.outcome`` ``failure``). No address or URL: where it went is configuration."""
    delivery: dict[str, Any] = {"report_id": report_id, "channel": channel,
                                "recipients": recipients, "attempts": attempts}
    if error is not None:
        delivery["error"] = error[:500]
    return {
        "@timestamp": timestamp(at),
        "event": {"kind": "event", "category": ["iam"],
                  "action": AuditAction.REPORT_DELIVERED.value,
                  "outcome": "failure" if error is not None else "success"},
        "user": {"id": actor},
        "guardian": {"delivery": delivery},
    }

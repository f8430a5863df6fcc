"""Audit events: what happened, shaped as Elastic Common Schema with Guardian's own fields.

ECS names where one exists (``@timestamp``, ``event.action``, ``event.outcome``, ``user.id``,
``user.roles``, ``source.ip``); Guardian's under ``guardian.*``. Events are built once and never
changed; the journal adds ``guardian.seq``, ``guardian.prev_hash`` and ``guardian.hash``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from guardian.policy.model import Decision, DecisionRequest


class AuditAction(StrEnum):
    """``event.action`` values: ``<domain>.<what happened>``."""

    ACCESS_DECISION = "access.decision"
    ACCESS_REFUSED_INPUT = "access.invalid_request"
    SESSION_CREATED = "session.created"
    SESSION_FAILED = "session.failed"
    SESSION_STEPPED_UP = "session.stepped_up"


def timestamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


def decision_event(
    request: DecisionRequest, decision: Decision, at: float
) -> dict[str, Any]:
    guardian: dict[str, Any] = {
        "decision_id": decision.decision_id,
        "decision": decision.outcome.value,
        "action": request.action.value,
        "purpose": request.purpose,
        "database": request.database,
        "category": request.category,
        "customer_ids": list(request.customer_ids),
        "reasons": [r.code.value for r in decision.reasons],
        "policy_version": decision.policy_version,
    }
    if decision.mfa_age_s is not None:
        guardian["mfa_age_s"] = decision.mfa_age_s
    if request.justification:
        guardian["justification"] = request.justification
    if decision.obligations:
        guardian["obligations"] = [o.as_dict() for o in decision.obligations]
    event: dict[str, Any] = {
        "@timestamp": timestamp(at),
        "event": {
            "kind": "event",
            "category": ["iam"],
            "action": AuditAction.ACCESS_DECISION.value,
            "outcome": "success" if decision.permitted else "failure",
        },
        "user": {"id": request.subject_id, "roles": list(decision.roles)},
        "guardian": guardian,
    }
    if request.client_ip:
        event["source"] = {"ip": request.client_ip}
    if request.application:
        event["service"] = {"name": request.application}
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

"""How a decision is recorded: one access-decision audit event per request and its answer.

The pipeline journals every decision, permit and deny alike, as this event (ECS fields where
one exists, Guardian's under ``guardian.*``). It lives with the decision model it reads, so the
audit trail itself never depends on the decision point.
"""

from __future__ import annotations

from typing import Any

from guardian.audit.events import AuditAction, timestamp
from guardian.policy.model import Decision, DecisionRequest


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
    if decision.role is not None:
        guardian["role"] = decision.role  # what access reviews count as use of the role
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

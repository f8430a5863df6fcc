"""The access-decision event: permit and deny alike, what the key proves beside what the client
claims, optional fields present only when known, and a shape the strict mapping accepts."""

from __future__ import annotations

import json
from pathlib import Path

from guardian.audit.events import AuditAction
from guardian.audit.schema import mapping_problems
from guardian.policy.decision_events import decision_event
from guardian.policy.model import Decision, DecisionRequest, Obligation, Reason
from guardian.policy.vocabulary import Action, Outcome, ReasonCode

MAPPINGS = Path(__file__).resolve().parents[3] / "audit" / "opensearch" / "mappings.json"


def _request(**extra: object) -> DecisionRequest:
    return DecisionRequest("alice", Action.READ, "crm", "contact", "service", ("C-1",),
                           **extra)  # type: ignore[arg-type]


def test_a_minimal_deny_is_a_failure_without_optional_fields() -> None:
    decision = Decision("d1", Outcome.DENY, (Reason(ReasonCode.NOT_AUTHORISED, "no"),), "v1")

    event = decision_event(_request(), decision, 0.0)

    assert event["event"]["action"] == AuditAction.ACCESS_DECISION
    assert event["event"]["outcome"] == "failure"
    assert event["guardian"]["reasons"] == ["not_authorised"]
    assert event["guardian"]["customer_ids"] == ["C-1"]
    assert not {"mfa_age_s", "role", "justification", "obligations", "key_id", "scope",
                "client"} & set(event["guardian"])
    assert "source" not in event and "service" not in event


def test_a_full_permit_records_key_claims_and_use_of_the_role() -> None:
    decision = Decision("d2", Outcome.PERMIT, (Reason(ReasonCode.PERMITTED, "ok"),), "v1",
                        (Obligation("mask", ("email",)),), roles=("support",), mfa_age_s=40,
                        role="support")
    request = _request(justification="ticket 9", client_ip="10.0.0.1", application="crm",
                       key_id="k1", client_application="crm-web", scope="decide")

    event = decision_event(request, decision, 0.0)

    assert event["event"]["outcome"] == "success"
    assert event["service"] == {"name": "crm"}
    assert event["guardian"]["client"] == {"application": "crm-web"}
    assert (event["guardian"]["role"], event["guardian"]["mfa_age_s"]) == ("support", 40)
    assert event["source"] == {"ip": "10.0.0.1"}
    assert event["user"] == {"id": "alice", "roles": ["support"]}
    properties = json.loads(MAPPINGS.read_text())["template"]["mappings"]["properties"]
    assert mapping_problems(json.loads(json.dumps(event)), properties) == []

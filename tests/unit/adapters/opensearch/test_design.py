"""The index design of audit/opensearch: every event shape fits the strict mapping; the ISM
policy and templates sent to OpenSearch have the expected shape; `audit init` is idempotent and
says when ISM is absent; searches are term/range clauses only."""

from __future__ import annotations

from typing import Any

import pytest

from audit_support import DESIGN, decision, signer
from guardian.adapters.opensearch.design import ISM_ROLLOVER_SETTING, load_design
from guardian.adapters.opensearch.index import search_body
from guardian.adapters.opensearch.setup import apply_design, ism_policy_body
from guardian.audit.checkpoints import checkpoint_event
from guardian.audit.events import AuditAction, governance_event, session_event, trail_access_event
from guardian.audit.queries import AuditQuery, Cursor, Order
from guardian.audit.records import StepOutcome
from guardian.audit.schema import mapping_problems
from guardian.errors import ConfigurationError
from guardian.policy.decision_events import decision_event
from guardian.policy.model import Action, Decision, DecisionRequest, Outcome, Reason
from guardian.policy.vocabulary import ReasonCode
from support import ROOT

RECORDED = DecisionRequest(
    "carol", Action.READ, "crm", "location", "fraud-prevention", (), justification="FR-1",
    client_ip="2001:db8::1", application="fraud-tools", key_id="sha256:0123456789abcdef",
    client_application="fraud-ui", scope="every SIM swapped this week")
DECIDED = Decision("D1", Outcome.PERMIT, (Reason(ReasonCode.PERMITTED, "ok"),), "sha256:x",
                   roles=("fraud-analyst",), mfa_age_s=3)
SEALED = {"seq": 7, "prev_hash": "0" * 64, "hash": "1" * 64}


def _sealed(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "guardian": {**event["guardian"], **SEALED}}


EVENTS = {
    "decision": decision(1),
    "decision_with_everything": {**decision(2), "source": {"ip": "10.2.3.4"}, "guardian": {
        **decision(2)["guardian"], "mfa_age_s": 12, "justification": "INC-4711",
        "obligations": [{"type": "mask", "fields": ["iban"]}]}},
    "decision_as_the_api_records_it": decision_event(RECORDED, DECIDED, 1.0),
    "session_created": session_event(AuditAction.SESSION_CREATED, "alice", 1.0,
                                     session_id="s1", amr=["pwd", "otp"]),
    "session_failed": session_event(AuditAction.SESSION_FAILED, "alice", 1.0,
                                    reason="invalid_credentials", step_up=True),
    "mfa_enrolment": session_event(AuditAction.MFA_WEBAUTHN_REGISTERED, "alice", 1.0,
                                   factor="webauthn", credential_id="c1", session_id="s1"),
    "grant_created": governance_event(AuditAction.GRANT_CREATED, "ivan", 1.0, grant_id="g1",
                                      grantee="bob", role="billing", starts_at=1.5,
                                      expires_at=2.5, justification="INC-1"),
    "grant_refused": governance_event(AuditAction.GRANT_REFUSED, "ivan", 1.0, success=False,
                                      reason="unknown_role", grantee="bob", role="x"),
    "api_key_created": governance_event(AuditAction.API_KEY_CREATED, "ivan", 1.0,
                                        key_id="k1", application="crm-web"),
    "checkpoint": checkpoint_event(signer(), 6, "2" * 64, 1.0),
    "trail_searched": trail_access_event(AuditAction.TRAIL_SEARCHED, "judy", 1.0,
                                         "customer=C-1001 purpose=marketing"),
    "review_opened": governance_event(AuditAction.REVIEW_CAMPAIGN_OPENED, "ivan", 1.0, review={
        "campaign_id": "C1", "definition": "crm-quarterly", "definition_version": "sha256:x",
        "snapshot_hash": "sha256:y", "items": 8, "stage": 1}),
    "review_decided": governance_event(AuditAction.REVIEW_ITEM_DECIDED, "nina", 1.0,
                                       justification="still needed", review={
        "campaign_id": "C1", "item_id": "I1", "stage": 1, "subject": "dave",
        "access": "role:marketing", "decision": "keep", "previous": "revoke",
        "until": 2.5, "defaulted": False}),
    "review_held": governance_event(AuditAction.REVIEW_CAMPAIGN_HELD, "ivan", 1.0, review={
        "campaign_id": "C1", "share": 0.75, "items": 6, "state": "closing"}),
    "review_reassigned": governance_event(AuditAction.REVIEW_ITEM_REASSIGNED, "nina", 1.0,
                                          reason="on leave", review={
        "campaign_id": "C1", "item_id": "I1", "reviewer": "peggy",
        "assigned_by": "reassignment", "remediation": "blocked"}),
    "review_reminder_sent": governance_event(AuditAction.REVIEW_REMINDER_SENT, "guardian", 1.0,
                                             review={
        "campaign_id": "C1", "reviewer": "nina", "items": 4, "stage": 1,
        "kind": "reminder:1:7", "channel": "email+webhook"}),
    "review_remediation_failed": governance_event(
        AuditAction.REVIEW_REMEDIATION_FAILED, "guardian", 1.0, success=False, review={
            "campaign_id": "C1", "item_id": "I1", "stage": 1, "subject": "dave",
            "access": "role:marketing", "remediation": "failed",
            "note": "removal in the directory failed: insufficientAccessRights"}),
    "review_remediation_removed": governance_event(
        AuditAction.REVIEW_REMEDIATION_REMOVED, "guardian", 1.0, review={
            "campaign_id": "C1", "item_id": "I1", "stage": 1, "subject": "dave",
            "access": "role:marketing", "remediation": "removed"}),
    "decision_with_its_role": decision_event(RECORDED, DECIDED.__class__(
        "D2", Outcome.PERMIT, (), "sha256:x", role="fraud-analyst"), 1.0),
}


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_event_guardian_writes_fits_the_strict_mapping(name: str) -> None:
    assert mapping_problems(_sealed(EVENTS[name]), DESIGN.properties) == []


def test_a_field_the_mapping_lacks_or_a_wrong_type_is_named() -> None:
    odd = _sealed(decision(1))
    odd["guardian"]["colour"] = "red"
    odd["guardian"]["mfa_age_s"] = "old"
    odd["user"] = "alice"
    assert sorted(mapping_problems(odd, DESIGN.properties)) == [
        "guardian.colour is not in the strict mapping",
        "guardian.mfa_age_s is a str where the mapping expects a long",
        "user should be an object",
    ]


def test_the_mapping_is_strict_at_every_level() -> None:
    mappings = DESIGN.component["template"]["mappings"]
    assert mappings["dynamic"] == "strict"
    objects = [spec for spec in mappings["properties"].values() if "properties" in spec]
    assert objects and all(spec["dynamic"] == "strict" for spec in objects)
    assert mappings["properties"]["@timestamp"]["type"] == "date"
    assert mappings["properties"]["source"]["properties"]["ip"]["type"] == "ip"


def test_the_ism_policy_rolls_over_makes_read_only_and_deletes_after_the_retention() -> None:
    design = load_design(ROOT / "audit" / "opensearch", prefix="acme-audit",
                         retention_days=400, rollover_days=7, replicas=2)
    policy = ism_policy_body(design)["policy"]

    states = {s["name"]: s for s in policy["states"]}
    assert policy["default_state"] == "hot"
    assert states["hot"]["actions"] == [{"rollover": {"min_index_age": "7d",
                                                       "min_size": "20gb"}}]
    assert states["hot"]["transitions"] == [{"state_name": "read_only"}]
    assert states["read_only"]["actions"] == [{"read_only": {}}]
    assert states["read_only"]["transitions"] == [
        {"state_name": "delete", "conditions": {"min_rollover_age": "400d"}}]
    assert states["delete"]["actions"] == [{"delete": {}}]
    assert policy["ism_template"] == [{"index_patterns": ["acme-audit-events-*"],
                                       "priority": 100}]
    assert "[design " in policy["description"]
    assert design.events_template["template"]["settings"]["index"]["number_of_replicas"] == 2


def test_the_rollover_alias_setting_is_only_sent_when_ism_is_there() -> None:
    with_ism = DESIGN.events_template_for(ism=True)["template"]["settings"]["index"]
    without = DESIGN.events_template_for(ism=False)["template"]["settings"]["index"]
    assert with_ism[ISM_ROLLOVER_SETTING] == "t-events"
    assert ISM_ROLLOVER_SETTING not in without


def test_a_missing_design_file_is_a_configuration_error(tmp_path: Any) -> None:
    with pytest.raises(ConfigurationError, match="missing"):
        load_design(tmp_path, prefix="x", retention_days=1, rollover_days=1, replicas=0)


class FakeOpenSearch:
    """Answers the setup's requests from what was PUT before (enough to test idempotence)."""

    def __init__(self, *, ism: bool) -> None:
        self.ism = ism
        self.stored: dict[str, Any] = {}
        self.writes: list[tuple[str, str, Any]] = []

    def __call__(self, method: str, path: str, body: Any = None, params: Any = None) -> Any:
        from opensearchpy.exceptions import NotFoundError

        if method == "GET" and path == "/_cat/plugins":
            return [{"component": "opensearch-index-management"}] if self.ism else []
        if method == "GET" and path.endswith("/_mapping"):
            return {}
        if method == "GET":
            if path not in self.stored:
                raise NotFoundError(404, "not found", {})
            return self.stored[path]
        self.writes.append((method, path, body))
        if path.startswith("/_component_template/"):
            self.stored[path] = {"component_templates": [{"component_template": body}]}
        elif path.startswith("/_index_template/"):
            self.stored[path] = {"index_templates": [{"index_template": body}]}
        elif path.startswith("/_plugins/_ism/policies/"):
            self.stored[path] = {**body, "_seq_no": 1, "_primary_term": 1}
        elif path == "/t-events-000001":
            self.stored["/_alias/t-events"] = {"t-events-000001": {"aliases": {
                "t-events": {"is_write_index": True}}}}
        elif method == "POST" and "/_plugins/_ism/add/" in path:
            return {"updated_indices": 0}
        else:
            self.stored[path] = {}
        return {"acknowledged": True}


def test_init_with_ism_applies_the_policy_once_and_a_second_run_changes_nothing() -> None:
    fake = FakeOpenSearch(ism=True)
    first = apply_design(fake, DESIGN)
    writes = len(fake.writes)
    second = apply_design(fake, DESIGN)

    assert first.changed and not second.changed
    assert {s.outcome for s in second.steps} == {StepOutcome.UNCHANGED}
    assert len(fake.writes) == writes + 1  # only the (idempotent) "add policy" call
    policy = next(b for m, p, b in fake.writes if p == "/_plugins/_ism/policies/t-retention")
    assert policy == ism_policy_body(DESIGN)
    template = next(b for m, p, b in fake.writes if p == "/_index_template/t-events")
    assert template["template"]["settings"]["index"][ISM_ROLLOVER_SETTING] == "t-events"
    created = [p for m, p, b in fake.writes if m == "PUT"]
    assert created.index("/_plugins/_ism/policies/t-retention") < created.index(
        "/t-events-000001")  # the policy exists before the first index picks it up


def test_init_without_ism_says_so_and_applies_everything_else() -> None:
    fake = FakeOpenSearch(ism=False)
    report = apply_design(fake, DESIGN)

    ism = next(s for s in report.steps if s.name.startswith("ISM policy"))
    assert ism.outcome is StepOutcome.ABSENT and "not installed" in ism.detail
    assert any("ISM absent" in n for n in report.notes)
    assert not any("_ism" in p for _, p, _ in fake.writes)


def test_a_search_is_term_and_range_clauses_whatever_the_values_contain() -> None:
    tricky = 'C-1" OR *:* {"query_string": 1}'
    body = search_body(AuditQuery(customer_id=tricky, user_id="alice*", decision="deny",
                                  since_ms=1000, until_ms=2000, size=10,
                                  after=Cursor(1500, 42), order=Order.OLDEST_FIRST))

    assert body["query"] == {"bool": {"filter": [
        {"term": {"guardian.customer_ids": tricky}},
        {"term": {"user.id": "alice*"}},
        {"term": {"guardian.decision": "deny"}},
        {"range": {"@timestamp": {"gte": 1000, "lt": 2000, "format": "epoch_millis"}}},
    ]}}
    assert body["sort"] == [{"@timestamp": {"order": "asc"}}, {"guardian.seq": {"order": "asc"}}]
    assert body["search_after"] == [1500, 42] and body["size"] == 11
    assert "query_string" not in str(body["query"]).replace(tricky, "")


class RetriedAfterTimeout(FakeOpenSearch):
    """Creates the indices, then answers as OpenSearch does to the client's retry of a PUT that
    timed out after it took effect: ``resource_already_exists_exception``."""

    def __call__(self, method: str, path: str, body: Any = None, params: Any = None) -> Any:
        from opensearchpy.exceptions import RequestError

        answer = super().__call__(method, path, body, params)
        if method == "PUT" and path in ("/t-checkpoints", "/t-events-000001"):
            raise RequestError(400, "resource_already_exists_exception", {})
        return answer


def test_an_index_creation_retried_after_a_timeout_is_not_a_setup_failure() -> None:
    report = apply_design(RetriedAfterTimeout(ism=False), DESIGN)

    outcomes = {s.name: s.outcome for s in report.steps}
    assert outcomes["index t-checkpoints"] is StepOutcome.UNCHANGED
    assert outcomes["write alias t-events"] is StepOutcome.UNCHANGED

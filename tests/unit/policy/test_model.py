"""The decision model as answered over HTTP: reasons carry their customers only when they name
some, obligations their fields, the receipt its place in the trail (or null)."""

from __future__ import annotations

from guardian.audit.records import AuditReceipt
from guardian.policy.model import Decision, Obligation, Reason
from guardian.policy.vocabulary import Outcome, ReasonCode


def test_a_permit_answers_with_its_obligations_and_receipt() -> None:
    decision = Decision("d1", Outcome.PERMIT, (Reason(ReasonCode.PERMITTED, "ok"),), "v1",
                        (Obligation("mask", ("email", "phone")),), AuditReceipt(7, "ab"))

    assert decision.permitted and decision.reason_codes == (ReasonCode.PERMITTED,)
    assert decision.as_dict() == {
        "decision_id": "d1", "decision": "permit",
        "reasons": [{"code": "permitted", "message": "ok"}],
        "obligations": [{"type": "mask", "fields": ["email", "phone"]}],
        "policy_version": "v1", "audit": {"seq": 7, "hash": "ab"}}


def test_a_deny_names_the_customers_of_its_reason_and_may_have_no_receipt() -> None:
    reason = Reason(ReasonCode.CONSENT_MISSING, "no consent", ("C-1", "C-2"))
    decision = Decision("d2", Outcome.DENY, (reason,), "v1")

    assert not decision.permitted
    assert decision.as_dict()["reasons"] == [
        {"code": "consent_missing", "message": "no consent", "customer_ids": ["C-1", "C-2"]}]
    assert decision.as_dict()["audit"] is None

"""The decision pipeline on in-memory ports: fail-closed paths, grants, journalling, sessions."""

from __future__ import annotations

import orjson
import pytest

from guardian.adapters.files.policy import load_policy
from guardian.adapters.memory.ports import (
    MemoryConsents,
    MemoryDirectory,
    MemoryGrants,
    MemoryJournal,
)
from guardian.audit.verifier import verify_trail
from guardian.clock import ManualClock
from guardian.identity.principal import Principal
from guardian.identity.tokens import TokenSigner
from guardian.identity.vocabulary import AuthMethod, EmployeeType
from guardian.policy.model import DecisionRequest
from guardian.policy.pipeline import CompiledPolicy, DecisionPipeline
from guardian.policy.vocabulary import Action, Outcome, ReasonCode
from support import ROOT

POLICY = CompiledPolicy.of(load_policy(ROOT / "policies"))
MFA = (AuthMethod.PASSWORD, AuthMethod.OTP)


class World:
    def __init__(self) -> None:
        self.clock = ManualClock()
        self.directory = MemoryDirectory([
            Principal("alice", "Alice", frozenset({"customer-care"})),
            Principal("bob", "Bob", frozenset({"billing"})),
            Principal("mallory", "Mallory", frozenset()),
            Principal("grace", "Grace", frozenset({"customer-care"}),
                      EmployeeType.CONTRACTOR, supplier="QuickCall"),
        ])
        self.grants = MemoryGrants()
        self.journal = MemoryJournal()
        self.signer = TokenSigner(b"k" * 32)
        self.pipeline = DecisionPipeline(
            POLICY, self.directory, self.grants, MemoryConsents([("C-1", "marketing")]),
            self.signer, self.journal, self.clock)

    def token(self, uid: str, *, mfa_age: float = 0, amr: tuple[AuthMethod, ...] = MFA) -> str:
        now = self.clock.now()
        token, _ = self.signer.issue(uid, amr, auth_time=now - mfa_age, now=now, ttl_s=3600)
        return token

    def request(self, uid: str = "alice", *, category: str = "contact",
                purpose: str = "customer-care", token: str | None = "auto",
                action: Action = Action.READ) -> DecisionRequest:
        session = self.token(uid) if token == "auto" else token
        return DecisionRequest(uid, action, "crm", category, purpose, ("C-1",), session)


@pytest.fixture
def world() -> World:
    return World()


def test_a_permitted_request_is_journalled_with_its_receipt(world: World) -> None:
    decision = world.pipeline.decide(world.request())
    assert decision.outcome is Outcome.PERMIT
    assert decision.audit is not None and decision.audit.seq == 1
    event = world.journal.events[0]
    assert event["guardian"]["decision_id"] == decision.decision_id
    assert event["guardian"]["hash"] == decision.audit.hash
    assert event["user"] == {"id": "alice", "roles": ["customer-care"]}
    assert event["event"]["outcome"] == "success"


def test_denials_are_journalled_too(world: World) -> None:
    decision = world.pipeline.decide(world.request("mallory"))
    assert decision.outcome is Outcome.DENY
    assert world.journal.events[0]["guardian"]["reasons"] == ["not_authorised"]
    assert world.journal.events[0]["event"]["outcome"] == "failure"


def test_a_journal_failure_turns_a_permit_into_audit_unavailable(world: World) -> None:
    world.journal.fail = True
    decision = world.pipeline.decide(world.request())
    assert decision.outcome is Outcome.DENY
    assert decision.reason_codes == (ReasonCode.AUDIT_UNAVAILABLE,)
    assert decision.audit is None and decision.obligations == ()


def test_a_journal_failure_keeps_the_other_denial_reasons(world: World) -> None:
    world.journal.fail = True
    decision = world.pipeline.decide(world.request("mallory"))
    assert decision.reason_codes == (ReasonCode.NOT_AUTHORISED, ReasonCode.AUDIT_UNAVAILABLE)


def test_any_exception_while_deciding_is_a_deny_never_a_permit(world: World) -> None:
    class Exploding(MemoryDirectory):
        def get(self, uid: str) -> Principal | None:
            raise RuntimeError("directory blew up")

    world.pipeline._directory = Exploding()
    decision = world.pipeline.decide(world.request())
    assert decision.outcome is Outcome.DENY
    assert decision.reason_codes == (ReasonCode.INTERNAL_ERROR,)
    assert world.journal.events[0]["guardian"]["reasons"] == ["internal_error"]


def test_an_unknown_subject_stops_the_pipeline(world: World) -> None:
    decision = world.pipeline.decide(world.request("oscar"))
    assert decision.reason_codes == (ReasonCode.UNKNOWN_SUBJECT,)


def test_a_valid_temporary_grant_adds_its_role(world: World) -> None:
    now = world.clock.now()
    world.grants.add("mallory", "customer-care", now - 10, now + 60)
    assert world.pipeline.decide(world.request("mallory")).permitted
    world.clock.advance(120)
    assert not world.pipeline.decide(world.request("mallory")).permitted


def test_a_grant_not_yet_started_gives_nothing(world: World) -> None:
    now = world.clock.now()
    world.grants.add("mallory", "customer-care", now + 60, now + 120)
    assert not world.pipeline.decide(world.request("mallory")).permitted


def test_an_expired_session_requires_authentication(world: World) -> None:
    token = world.token("alice")
    world.clock.advance(3601)
    decision = world.pipeline.decide(world.request(token=token))
    assert decision.reason_codes == (ReasonCode.AUTHENTICATION_REQUIRED,)
    assert "expired" in decision.reasons[0].message


def test_a_forged_session_requires_authentication(world: World) -> None:
    forged, _ = TokenSigner(b"x" * 32).issue("alice", MFA, world.clock.now(),
                                             world.clock.now(), 3600)
    decision = world.pipeline.decide(world.request(token=forged))
    assert decision.reason_codes == (ReasonCode.AUTHENTICATION_REQUIRED,)


def test_mfa_age_is_recorded_and_limits_by_sensitivity(world: World) -> None:
    fresh = world.pipeline.decide(world.request("bob", category="economic-financial",
                                                purpose="billing", token=world.token("bob")))
    assert fresh.permitted and fresh.mfa_age_s == 0
    stale = world.pipeline.decide(world.request(
        "bob", category="economic-financial", purpose="billing",
        token=world.token("bob", mfa_age=16 * 60)))
    assert stale.reason_codes == (ReasonCode.MFA_STALE,)
    assert world.journal.events[-1]["guardian"]["mfa_age_s"] == 16 * 60


def test_billing_read_carries_the_iban_mask_and_export_does_not(world: World) -> None:
    read = world.pipeline.decide(world.request("bob", category="economic-financial",
                                               purpose="billing"))
    assert [o.as_dict() for o in read.obligations] == [{"type": "mask", "fields": ["iban"]}]
    export = world.pipeline.decide(world.request("bob", category="economic-financial",
                                                 purpose="billing", action=Action.EXPORT))
    assert export.permitted and export.obligations == ()


def test_a_contractor_without_clause_is_denied_even_when_the_role_permits(world: World) -> None:
    decision = world.pipeline.decide(world.request("grace"))
    assert decision.reason_codes == (ReasonCode.CONTRACT_CLAUSE_MISSING,)
    assert "QuickCall" in decision.reasons[0].message


def test_consent_reason_names_the_customers_without_consent(world: World) -> None:
    world.directory.put(Principal("dave", "Dave", frozenset({"marketing"})))
    request = DecisionRequest("dave", Action.READ, "crm", "contact", "marketing",
                              ("C-1", "C-2", "C-3", "C-2"), world.token("dave"))
    decision = world.pipeline.decide(request)
    assert decision.reason_codes == (ReasonCode.CONSENT_MISSING,)
    assert decision.reasons[0].customer_ids == ("C-2", "C-3")


def test_a_batch_is_decided_in_order_and_journalled_as_one_chain(world: World) -> None:
    requests = [world.request("alice"), world.request("mallory"), world.request("oscar")]
    decisions = world.pipeline.decide_many(requests)
    assert [d.outcome for d in decisions] == [Outcome.PERMIT, Outcome.DENY, Outcome.DENY]
    assert [d.audit.seq for d in decisions if d.audit] == [1, 2, 3]
    items = [(f"event {i}", None, orjson.dumps(e), e)
             for i, e in enumerate(world.journal.events, 1)]
    assert verify_trail(items, verifier=None).ok


def test_decision_ids_are_unique(world: World) -> None:
    ids = [world.pipeline.decide(world.request()).decision_id for _ in range(50)]
    assert len(set(ids)) == 50
    assert all(len(i) == 26 for i in ids)

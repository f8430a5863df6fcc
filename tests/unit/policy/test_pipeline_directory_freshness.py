"""The pipeline's directory freshness check: a snapshot older than allowed denies first."""

from __future__ import annotations

import math

from guardian.adapters.files.policy import load_policy
from guardian.adapters.memory.ports import (
    MemoryConsents,
    MemoryDirectory,
    MemoryGrants,
    MemoryJournal,
)
from guardian.clock import ManualClock
from guardian.identity.principal import Principal
from guardian.identity.tokens import TokenSigner
from guardian.identity.vocabulary import AuthMethod
from guardian.policy.model import DecisionRequest
from guardian.policy.pipeline import CompiledPolicy, DecisionPipeline
from guardian.policy.vocabulary import Action, Outcome, ReasonCode
from support import ROOT

POLICY = CompiledPolicy.of(load_policy(ROOT / "policies"))
R = ReasonCode


class FakeFreshness:
    def __init__(self, age: float | None) -> None:
        self.age = age

    def age_s(self, now: float) -> float | None:
        return self.age


def pipeline_with(age: float | None, *, max_age_s: float = 3600) -> tuple[
        DecisionPipeline, TokenSigner, ManualClock, MemoryJournal]:
    clock = ManualClock()
    signer = TokenSigner(b"k" * 32)
    journal = MemoryJournal()
    directory = MemoryDirectory([Principal("alice", "Alice", frozenset({"customer-care"}))])
    pipeline = DecisionPipeline(POLICY, directory, MemoryGrants(), MemoryConsents(), signer,
                                journal, clock, freshness=FakeFreshness(age),
                                max_directory_age_s=max_age_s)
    return pipeline, signer, clock, journal


def request(uid: str, signer: TokenSigner, clock: ManualClock) -> DecisionRequest:
    now = clock.now()
    token, _ = signer.issue(uid, (AuthMethod.PASSWORD, AuthMethod.OTP), auth_time=now, now=now,
                            ttl_s=3600)
    return DecisionRequest(uid, Action.READ, "crm", "contact", "customer-care", ("C-1",), token)


def test_a_fresh_snapshot_lets_the_pipeline_permit() -> None:
    pipeline, signer, clock, _ = pipeline_with(3599.0)
    assert pipeline.decide(request("alice", signer, clock)).outcome is Outcome.PERMIT


def test_a_stale_snapshot_turns_a_permit_into_directory_stale_without_obligations() -> None:
    pipeline, signer, clock, journal = pipeline_with(3601.0)
    decision = pipeline.decide(request("alice", signer, clock))
    assert decision.outcome is Outcome.DENY
    assert decision.reason_codes == (R.DIRECTORY_STALE,)
    assert "3601 s old" in decision.reasons[0].message
    assert decision.obligations == ()
    assert journal.events[0]["guardian"]["reasons"] == ["directory_stale"]


def test_directory_stale_is_listed_before_the_other_failing_steps() -> None:
    pipeline, signer, clock, _ = pipeline_with(7200.0)
    unknown = pipeline.decide(request("nobody", signer, clock))
    assert unknown.reason_codes == (R.DIRECTORY_STALE, R.UNKNOWN_SUBJECT)
    no_session = DecisionRequest("alice", Action.READ, "crm", "contact", "customer-care")
    assert pipeline.decide(no_session).reason_codes == (
        R.DIRECTORY_STALE, R.AUTHENTICATION_REQUIRED)


def test_a_directory_never_synced_denies_and_says_so() -> None:
    pipeline, signer, clock, _ = pipeline_with(math.inf)
    decision = pipeline.decide(request("alice", signer, clock))
    assert decision.reason_codes == (R.DIRECTORY_STALE,)
    assert "never" in decision.reasons[0].message


def test_a_static_directory_with_no_age_is_never_stale() -> None:
    pipeline, signer, clock, _ = pipeline_with(None, max_age_s=0)
    assert pipeline.decide(request("alice", signer, clock)).outcome is Outcome.PERMIT


def test_a_freshness_port_that_fails_denies_as_an_internal_error() -> None:
    class Exploding:
        def age_s(self, now: float) -> float | None:
            raise RuntimeError("boom")

    pipeline, signer, clock, _ = pipeline_with(0.0)
    pipeline._freshness = Exploding()
    assert pipeline.decide(request("alice", signer, clock)).reason_codes == (R.INTERNAL_ERROR,)

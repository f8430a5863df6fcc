"""Policy tests, like ``opa test``: given a request and a session, expect a decision and reasons.

A case names the request, describes the session the subject holds (fresh multi-factor by
default; an age, a password-only session, someone else's session, or none) and what must come
out. :func:`run_case` builds the session token, asks the pipeline and compares.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from guardian.identity.tokens import TokenSigner
from guardian.identity.vocabulary import AuthMethod
from guardian.policy.definition import Source
from guardian.policy.model import Decision, DecisionRequest
from guardian.policy.pipeline import DecisionPipeline
from guardian.policy.vocabulary import Outcome


@dataclass(frozen=True, slots=True)
class SessionSpec:
    present: bool = True
    mfa: bool = True
    mfa_age_s: float = 0.0
    user: str | None = None
    """Whose session it is; default the subject's own."""


@dataclass(frozen=True, slots=True)
class PolicyCase:
    name: str
    request: DecisionRequest
    expect: Outcome
    session: SessionSpec = SessionSpec()
    reasons: tuple[str, ...] | None = None
    """Exact reason codes, in order; ``None``: not checked."""
    obligations: tuple[str, ...] | None = None
    """Exact obligation types; ``None``: not checked."""
    source: Source = field(default=Source("<memory>", 0))


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: PolicyCase
    decision: Decision
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def run_case(
    case: PolicyCase, pipeline: DecisionPipeline, signer: TokenSigner, now: float
) -> CaseResult:
    request = case.request
    spec = case.session
    if spec.present:
        amr = (AuthMethod.PASSWORD, AuthMethod.OTP) if spec.mfa else (AuthMethod.PASSWORD,)
        token, _ = signer.issue(spec.user or request.subject_id, amr,
                                auth_time=now - spec.mfa_age_s, now=now - spec.mfa_age_s,
                                ttl_s=spec.mfa_age_s + 3600)
        request = replace(request, session_token=token)
    decision = pipeline.evaluate(request, now)
    failures: list[str] = []
    if decision.outcome is not case.expect:
        failures.append(f"expected {case.expect.value}, got {decision.outcome.value}")
    codes = tuple(r.code.value for r in decision.reasons)
    if case.reasons is not None and codes != case.reasons:
        failures.append(f"expected reasons {list(case.reasons)}, got {list(codes)}")
    types = tuple(o.type for o in decision.obligations)
    if case.obligations is not None and types != case.obligations:
        failures.append(f"expected obligations {list(case.obligations)}, got {list(types)}")
    return CaseResult(case, decision, tuple(failures))


"""The decision pipeline: ``decide(request) -> Decision``, every step of DESIGN.md in order.

Steps: subject known → account active → a role (standing or temporary grant) permits the data,
action and purpose → contractor clause → multi-factor session fresh enough for the category →
justification → consent for every customer named → the decision is durably journalled. The
first failing step decides and every failing step found is listed in ``reasons``. Before them
all, a directory served from a snapshot older than allowed denies (``directory_stale``, listed
first): people may have been disabled or removed since.

Fail closed: an exception anywhere while deciding is a deny whose reason names the dependency
that failed (``directory_unavailable``, ``store_unavailable``, ``audit_unavailable``, else
``internal_error``), and a decision that cannot be journalled is a deny (``audit_unavailable``)
— never a permit. Each such deny is logged for operators, once per distinct failure
(:mod:`guardian.policy.failures`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from guardian.audit.events import decision_event
from guardian.errors import GuardianError, InvalidToken
from guardian.identity.principal import Principal
from guardian.identity.tokens import TokenSigner
from guardian.ids import new_ulid
from guardian.policy.definition import PolicyDefinition, Sensitivity
from guardian.policy.failures import FailureLog, reason_for
from guardian.policy.index import DecisionIndex
from guardian.policy.model import AuditReceipt, Decision, DecisionRequest, Obligation, Reason
from guardian.policy.vocabulary import Outcome, ReasonCode
from guardian.ports import (
    AuditJournal,
    Clock,
    ConsentRegistry,
    Directory,
    DirectoryFreshness,
    GrantStore,
)

R = ReasonCode


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A policy and its index, swapped together when the policy changes."""

    definition: PolicyDefinition
    index: DecisionIndex

    @classmethod
    def of(cls, definition: PolicyDefinition) -> CompiledPolicy:
        return cls(definition, DecisionIndex.compile(definition))


class DecisionPipeline:
    def __init__(
        self,
        policy: CompiledPolicy,
        directory: Directory,
        grants: GrantStore,
        consent: ConsentRegistry,
        signer: TokenSigner,
        journal: AuditJournal,
        clock: Clock,
        freshness: DirectoryFreshness | None = None,
        max_directory_age_s: float = 3600.0,
    ) -> None:
        """``freshness``: how old the directory data is (a synced LDAP snapshot); past
        ``max_directory_age_s`` every decision denies with ``directory_stale`` first."""
        self.policy = policy
        self._freshness = freshness
        self._max_directory_age_s = max_directory_age_s
        self._directory = directory
        self._grants = grants
        self._consent = consent
        self._signer = signer
        self._journal = journal
        self._clock = clock
        self.failures = FailureLog()

    def decide(self, request: DecisionRequest) -> Decision:
        return self.decide_many((request,))[0]

    def decide_many(self, requests: Sequence[DecisionRequest]) -> list[Decision]:
        """Decide each request, then journal them all with one durable append."""
        decisions, events = self._decide_unaudited(requests)
        try:
            receipts = self._journal.append_many(events)
        except Exception as exc:  # noqa: BLE001 - any journal failure must deny, whatever it is
            self.failures.failed(R.AUDIT_UNAVAILABLE, exc, "journal")
            return _all_unaudited(decisions, exc)
        return _with_receipts(decisions, receipts)

    async def decide_many_async(self, requests: Sequence[DecisionRequest]) -> list[Decision]:
        """:meth:`decide_many` for an event loop: deciding is CPU only, durability is awaited."""
        decisions, events = self._decide_unaudited(requests)
        try:
            receipts = await self._journal.append_many_async(events)
        except Exception as exc:  # noqa: BLE001 - any journal failure must deny, whatever it is
            self.failures.failed(R.AUDIT_UNAVAILABLE, exc, "journal")
            return _all_unaudited(decisions, exc)
        return _with_receipts(decisions, receipts)

    def _decide_unaudited(
        self, requests: Sequence[DecisionRequest]
    ) -> tuple[list[Decision], list[dict[str, Any]]]:
        now = self._clock.now()
        decisions = [self.evaluate(request, now) for request in requests]
        events = [decision_event(r, d, now) for r, d in zip(requests, decisions, strict=True)]
        return decisions, events

    def evaluate(self, request: DecisionRequest, now: float) -> Decision:
        """Steps 1–8: the decision before it is journalled. Never raises."""
        policy = self.policy
        try:
            stale = self._stale_directory(now) if self._freshness is not None else None
            decision = self._evaluate(request, now, policy)
            return decision if stale is None else _stale(decision, stale)
        except Exception as exc:  # noqa: BLE001 - fail closed on anything unexpected
            code = reason_for(exc)
            self.failures.failed(code, exc, "evaluate")
            return Decision(
                decision_id=new_ulid(now), outcome=Outcome.DENY,
                reasons=(Reason(code, _FAILED[code]),),
                policy_version=policy.definition.version,
            )

    def _evaluate(self, request: DecisionRequest, now: float, policy: CompiledPolicy) -> Decision:
        definition = policy.definition
        principal = self._directory.get(request.subject_id)
        if principal is None:
            return _deny(now, definition.version, [Reason(
                R.UNKNOWN_SUBJECT, f"subject {request.subject_id!r} is not in the directory")])
        denials: list[Reason] = []
        if not principal.active:
            denials.append(Reason(R.ACCOUNT_DISABLED, f"account {principal.uid!r} is disabled"))
        roles = principal.roles | self._grants.active_roles(principal.uid, now)
        sensitivity = definition.sensitivity_of(request.database, request.category)
        role, obligations, role_reason = self._authorise(request, roles, policy, sensitivity)
        if role_reason is not None:
            denials.append(role_reason)
        if principal.is_contractor and not principal.contract_clause:
            denials.append(_clause_missing(principal))
        mfa_age, session_reason = self._check_session(request, principal, now, sensitivity)
        if session_reason is not None:
            denials.append(session_reason)
        purpose = definition.purposes.get(request.purpose)
        if purpose is not None and purpose.justification is not None:
            problem = purpose.justification.problem(request.justification)
            if problem is not None:
                denials.append(Reason(R.JUSTIFICATION_REQUIRED, f"purpose {request.purpose}: "
                                      f"{problem} ({purpose.justification.describe()})"))
        if purpose is not None and purpose.needs_consent:
            consent_reason = self._check_consent(request)
            if consent_reason is not None:
                denials.append(consent_reason)
        sorted_roles = tuple(sorted(roles))
        if denials:
            return Decision(
                decision_id=new_ulid(now), outcome=Outcome.DENY, reasons=tuple(denials),
                policy_version=definition.version, roles=sorted_roles, mfa_age_s=mfa_age,
            )
        message = (f"role {role} may {request.action.value} {request.database}/"
                   f"{request.category} for {request.purpose}")
        return Decision(
            decision_id=new_ulid(now), outcome=Outcome.PERMIT,
            reasons=(Reason(R.PERMITTED, message),), policy_version=definition.version,
            obligations=obligations, roles=sorted_roles, mfa_age_s=mfa_age,
        )

    def _stale_directory(self, now: float) -> Reason | None:
        assert self._freshness is not None
        age = self._freshness.age_s(now)
        if age is None or age <= self._max_directory_age_s:
            return None
        if math.isinf(age):
            return Reason(R.DIRECTORY_STALE, "the directory has never been read from its source")
        return Reason(R.DIRECTORY_STALE, f"the directory data is {int(age)} s old (at most "
                      f"{int(self._max_directory_age_s)} s allowed): its source is unreachable")

    def _authorise(
        self, request: DecisionRequest, roles: frozenset[str], policy: CompiledPolicy,
        sensitivity: Sensitivity | None,
    ) -> tuple[str | None, tuple[Obligation, ...], Reason | None]:
        if sensitivity is None:
            return None, (), Reason(
                R.NOT_AUTHORISED, f"{request.database}/{request.category} is not a known category")
        match = policy.index.evaluate(
            roles, request.database, request.category, request.action.value, request.purpose)
        if match.permitted:
            return match.role, match.obligations, None
        target = f"{request.action.value} {request.database}/{request.category}"
        if match.other_purposes:
            return None, (), Reason(
                R.PURPOSE_NOT_ALLOWED, f"no role allows {target} for purpose {request.purpose}")
        return None, (), Reason(R.NOT_AUTHORISED, f"no role of the subject may {target}")

    def _check_session(
        self, request: DecisionRequest, principal: Principal, now: float,
        sensitivity: Sensitivity | None,
    ) -> tuple[int | None, Reason | None]:
        if not request.session_token:
            return None, Reason(R.AUTHENTICATION_REQUIRED, "no session token was presented")
        try:
            claims = self._signer.verify(request.session_token, now)
        except InvalidToken as exc:
            return None, Reason(R.AUTHENTICATION_REQUIRED, exc.message)
        if claims.sub != principal.uid:
            return None, Reason(R.AUTHENTICATION_REQUIRED, "the session belongs to someone else")
        if not claims.multi_factor:
            return None, Reason(R.MFA_REQUIRED, "the session was not opened with a second factor")
        age = max(0, int(now - claims.auth_time))
        limit = sensitivity.mfa_max_age_s if sensitivity is not None else 0
        if limit is not None and age > limit:
            return age, Reason(
                R.MFA_STALE, f"{request.category} needs a second factor at most {limit} s old "
                f"(it is {age} s old): step up")
        return age, None

    def _check_consent(self, request: DecisionRequest) -> Reason | None:
        if not request.customer_ids:
            return Reason(R.CONSENT_MISSING,
                          f"purpose {request.purpose} needs consent: name the customers")
        missing = self._consent.without_consent(request.customer_ids, request.purpose)
        if missing:
            return Reason(R.CONSENT_MISSING,
                          f"{len(missing)} customer(s) did not consent to {request.purpose}",
                          customer_ids=missing)
        return None


_FAILED = {
    R.DIRECTORY_UNAVAILABLE: "the request could not be evaluated: the directory failed",
    R.STORE_UNAVAILABLE: "the request could not be evaluated: the store failed",
    R.AUDIT_UNAVAILABLE: "the request could not be evaluated: the audit trail failed",
    R.INTERNAL_ERROR: "the request could not be evaluated",
}


def _clause_missing(principal: Principal) -> Reason:
    supplier = principal.supplier or "unknown supplier"
    return Reason(R.CONTRACT_CLAUSE_MISSING,
                  f"contractor of {supplier} without a data-protection clause")


def _deny(now: float, version: str, reasons: list[Reason], **extra: Any) -> Decision:
    return Decision(decision_id=new_ulid(now), outcome=Outcome.DENY, reasons=tuple(reasons),
                    policy_version=version, **extra)


def _stale(decision: Decision, reason: Reason) -> Decision:
    kept = tuple(r for r in decision.reasons if r.code is not R.PERMITTED)
    return dataclasses.replace(decision, outcome=Outcome.DENY, reasons=(reason, *kept),
                               obligations=())


def _with_receipts(decisions: list[Decision], receipts: list[AuditReceipt]) -> list[Decision]:
    # Spelled out rather than dataclasses.replace, which costs more than the decision itself.
    return [
        Decision(d.decision_id, d.outcome, d.reasons, d.policy_version, d.obligations, rc,
                 d.roles, d.mfa_age_s)
        for d, rc in zip(decisions, receipts, strict=True)
    ]


def _all_unaudited(decisions: list[Decision], exc: Exception) -> list[Decision]:
    message = str(exc) if isinstance(exc, GuardianError) else "audit journal failed"
    return [_unaudited(d, message) for d in decisions]


def _unaudited(decision: Decision, message: str) -> Decision:
    kept = tuple(r for r in decision.reasons if r.code is not R.PERMITTED)
    reason = Reason(R.AUDIT_UNAVAILABLE, f"the decision could not be recorded: {message}")
    return dataclasses.replace(decision, outcome=Outcome.DENY, reasons=(*kept, reason),
                               obligations=(), audit=None)

"""Impact before change: replay recorded decisions against a candidate policy, report flips.

Each recorded decision (an ``access.decision`` event: who, their roles, the data, action and
purpose, the second factor's age, the justification, the reasons it got) is decided twice, by
the policy in force and by the candidate, on the same inputs; a *flip* is a decision the two
answer differently (permit → deny or deny → permit), so a flip is caused by the policy change
alone, never by what else changed since the decision was recorded.

What the policy decides is replayed: the role step (rules, inheritance, categories), the
category's second-factor age limit and the purpose's justification rule. What the policy does
not decide is taken as recorded: an unknown or disabled subject, a missing contract clause, a
missing session or second factor, a missing consent, a stale directory or a failed dependency
still deny. The subject's roles are the current directory snapshot's when ``roles_of`` knows
them (the recorded roles otherwise). Pure: the caller reads the trail and the directory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from guardian.policy.definition import WILDCARD
from guardian.policy.pipeline import CompiledPolicy
from guardian.policy.vocabulary import ReasonCode

R = ReasonCode
REPLAYED_REASONS = frozenset({R.PERMITTED, R.NOT_AUTHORISED, R.PURPOSE_NOT_ALLOWED,
                              R.MFA_STALE, R.JUSTIFICATION_REQUIRED})
"""Reasons the policy decides (recomputed); every other recorded reason stands."""
_replayable = REPLAYED_REASONS.issuperset
DIMENSIONS = ("role", "person", "category", "purpose")
PERMIT_TO_DENY = "permit→deny"
DENY_TO_PERMIT = "deny→permit"


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """The fields of an ``access.decision`` event that a replay needs."""

    decision_id: str
    at: str
    subject: str
    roles: tuple[str, ...]
    database: str
    category: str
    action: str
    purpose: str
    reasons: tuple[str, ...]
    mfa_age_s: int | None = None
    justification: str | None = None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> RecordedDecision | None:
        """The decision in ``event``, or ``None`` if it is not a decision event in full."""
        try:
            g = event["guardian"]
            user = event["user"]
            age = g.get("mfa_age_s")
            return cls(str(g["decision_id"]), str(event["@timestamp"]), str(user["id"]),
                       tuple(str(r) for r in user.get("roles") or ()), str(g["database"]),
                       str(g["category"]), str(g["action"]), str(g["purpose"]),
                       tuple(str(r) for r in g.get("reasons") or ()),
                       age if isinstance(age, int) else None, g.get("justification"))
        except (KeyError, TypeError, AttributeError):
            return None


@dataclass(frozen=True, slots=True)
class Flip:
    decision: RecordedDecision
    direction: str
    role: str
    """The role that permits on the permitting side."""
    reason: str
    """Why the denying side denies (its first reason)."""

    def value(self, dimension: str) -> str:
        d = self.decision
        return {"role": self.role, "person": d.subject, "category": f"{d.database}/{d.category}",
                "purpose": d.purpose}[dimension]


@dataclass
class Group:
    count: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass
class ImpactReport:
    replayed: int = 0
    skipped: int = 0
    """Events that were not whole decisions (never counted as a flip)."""
    flips: dict[str, int] = field(default_factory=lambda: {PERMIT_TO_DENY: 0, DENY_TO_PERMIT: 0})
    groups: dict[tuple[str, str, str], Group] = field(default_factory=dict)
    """(direction, dimension, value) → how many and a few example decisions."""

    @property
    def flipped(self) -> int:
        return sum(self.flips.values())

    def rows(self) -> list[dict[str, Any]]:
        """One row per direction, dimension and value, most flips first."""
        ordered = sorted(self.groups.items(),
                         key=lambda kv: (kv[0][0], DIMENSIONS.index(kv[0][1]), -kv[1].count,
                                         kv[0][2]))
        return [{"direction": d, "by": dim, "value": v, "flips": g.count,
                 "examples": list(g.examples)} for (d, dim, v), g in ordered]

    def summary(self) -> dict[str, Any]:
        return {"replayed": self.replayed, "skipped": self.skipped, **self.flips}


_Verdict = tuple[str | None, str]
"""(the permitting role or ``None``, the first deny reason or ``permitted``)."""


class Replay:
    """Feed it recorded decisions (:meth:`add`); :attr:`report` says what flipped."""

    def __init__(
        self, baseline: CompiledPolicy, candidate: CompiledPolicy, *,
        roles_of: Callable[[str], frozenset[str] | None] | None = None, examples: int = 3,
    ) -> None:
        self._policies = (baseline, candidate)
        self._roles_of = roles_of
        self._examples = examples
        self._role_step: dict[tuple[Any, ...], tuple[_Verdict, _Verdict]] = {}
        self._changed = _changed_keys(baseline, candidate)
        self.report = ImpactReport()

    def add_all(self, decisions: Iterable[RecordedDecision | None]) -> ImpactReport:
        for decision in decisions:
            self.add(decision)
        return self.report

    def add(self, decision: RecordedDecision | None) -> Flip | None:
        if decision is None:
            self.report.skipped += 1
            return None
        self.report.replayed += 1
        if not _replayable(decision.reasons):
            return None  # denied by something no policy changes: the same either way
        known = self._roles_of(decision.subject) if self._roles_of is not None else None
        roles = decision.roles if known is None else known
        changed = self._changed
        if changed is not None:
            db, cat, act = decision.database, decision.category, decision.action
            for role in roles:  # a plain loop: this is the replay's hot path
                if (role, db, cat, act) in changed or (role, db, WILDCARD, act) in changed:
                    break
            else:
                return None  # no rule this request could match differs: decided alike
        before, after = self._decide(decision, roles)
        if (before[0] is None) == (after[0] is None):
            return None
        if before[0] is not None:
            flip = Flip(decision, PERMIT_TO_DENY, before[0], after[1])
        else:
            flip = Flip(decision, DENY_TO_PERMIT, str(after[0]), before[1])
        self._count(flip)
        return flip

    def _decide(self, d: RecordedDecision, roles: Iterable[str]
                ) -> tuple[_Verdict, _Verdict]:
        key = (roles, d.database, d.category, d.action, d.purpose)
        steps = self._role_step.get(key)
        if steps is None:
            steps = (_role_step(self._policies[0], *key), _role_step(self._policies[1], *key))
            self._role_step[key] = steps
        return (_later_steps(self._policies[0], d, steps[0]),
                _later_steps(self._policies[1], d, steps[1]))

    def _count(self, flip: Flip) -> None:
        report = self.report
        report.flips[flip.direction] += 1
        for dimension in DIMENSIONS:
            key = (flip.direction, dimension, flip.value(dimension))
            group = report.groups.get(key)
            if group is None:
                group = report.groups[key] = Group()
            group.count += 1
            if len(group.examples) < self._examples:
                group.examples.append(flip.decision.decision_id)


def _changed_keys(baseline: CompiledPolicy, candidate: CompiledPolicy
                  ) -> frozenset[tuple[str, str, str, str]] | None:
    """The index keys the candidate changes, when only rules changed (``None``: categories,
    sensitivities or purposes changed too, and every decision is replayed in full)."""
    old, new = baseline.definition, candidate.definition
    if (old.databases, old.sensitivities, old.purposes) != \
            (new.databases, new.sensitivities, new.purposes):
        return None
    return baseline.index.differing_keys(candidate.index)


def _role_step(policy: CompiledPolicy, roles: Iterable[str], database: str, category: str,
               action: str, purpose: str) -> _Verdict:
    if policy.definition.sensitivity_of(database, category) is None:
        return None, R.NOT_AUTHORISED
    match = policy.index.evaluate(roles, database, category, action, purpose)
    if match.permitted:
        return match.role, R.PERMITTED
    return None, R.PURPOSE_NOT_ALLOWED if match.other_purposes else R.NOT_AUTHORISED


def _later_steps(policy: CompiledPolicy, d: RecordedDecision, verdict: _Verdict) -> _Verdict:
    """Second-factor age and justification, for a request the role step permits."""
    if verdict[0] is None:
        return verdict
    definition = policy.definition
    sensitivity = definition.sensitivity_of(d.database, d.category)
    limit = sensitivity.mfa_max_age_s if sensitivity is not None else 0
    if limit is not None and d.mfa_age_s is not None and d.mfa_age_s > limit:
        return None, R.MFA_STALE
    purpose = definition.purposes.get(d.purpose)
    if purpose is not None and purpose.justification is not None \
            and purpose.justification.problem(d.justification) is not None:
        return None, R.JUSTIFICATION_REQUIRED
    return verdict

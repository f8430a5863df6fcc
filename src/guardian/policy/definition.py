"""The policy as data: categories and their sensitivity, purposes, roles, rules, obligations.

A :class:`PolicyDefinition` is what ``policies/`` says once parsed (see
:mod:`guardian.adapters.files.policy`). :func:`lint` checks it is self-consistent and reports
every problem with the file and line it comes from; the decision index is compiled only from a
definition that lints clean.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from guardian.errors import LintFinding, PolicyLintError
from guardian.policy.model import Obligation
from guardian.policy.vocabulary import Action

WILDCARD = "*"
MAX_ROLE_DEPTH = 8
"""Deepest role inheritance accepted; casbin's role manager stops at 10 levels including users."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where a piece of policy was written, for error messages."""

    path: str
    line: int


@dataclass(frozen=True, slots=True)
class Sensitivity:
    name: str
    mfa_max_age_s: int | None
    """How old the second factor may be; ``None`` means as old as the session."""


@dataclass(frozen=True, slots=True)
class JustificationRule:
    """What a justification must look like for a purpose: at least ``min_length`` characters
    once trimmed, at least one letter or digit, and (if set) a reference matching ``pattern``
    somewhere in it (e.g. ``REQ-\\d+``), so that ``" "`` or ``"-"`` never justify anything."""

    min_length: int = 8
    pattern: re.Pattern[str] | None = None

    def problem(self, text: str | None) -> str | None:
        """Why ``text`` does not meet the rule, or ``None`` when it does."""
        trimmed = (text or "").strip()
        if not trimmed:
            return "a justification is needed"
        if len(trimmed) < self.min_length or not any(c.isalnum() for c in trimmed):
            return f"the justification must be at least {self.min_length} characters of text"
        if self.pattern is not None and self.pattern.search(trimmed) is None:
            return f"the justification must cite a reference matching {self.pattern.pattern}"
        return None

    def describe(self) -> str:
        parts = [f"at least {self.min_length} characters"]
        if self.pattern is not None:
            parts.append(f"a reference matching {self.pattern.pattern}")
        return " and ".join(parts)


@dataclass(frozen=True, slots=True)
class Purpose:
    name: str
    needs_consent: bool = False
    justification: JustificationRule | None = None
    """The rule a justification must meet; ``None``: the purpose needs none."""
    description: str = ""
    bulk: bool = False
    """A request may name no customer (it then says what it covers in ``resource.scope``)."""

    @property
    def needs_justification(self) -> bool:
        return self.justification is not None


@dataclass(frozen=True, slots=True)
class Rule:
    """``role`` may ``action`` on ``database/category`` for ``purpose`` (a casbin ``p`` line)."""

    role: str
    database: str
    category: str
    action: str
    purpose: str
    source: Source = Source("<memory>", 0)


@dataclass(frozen=True, slots=True)
class Inheritance:
    """``role`` has every permission of ``parent`` (a casbin ``g`` line between roles)."""

    role: str
    parent: str
    source: Source = Source("<memory>", 0)


@dataclass(frozen=True, slots=True)
class ObligationRule:
    role: str | None
    database: str
    category: str
    action: str
    obligation: Obligation
    source: Source = Source("<memory>", 0)


@dataclass(frozen=True, slots=True)
class PolicyDefinition:
    databases: Mapping[str, Mapping[str, str]]
    """database → category → sensitivity name."""
    sensitivities: Mapping[str, Sensitivity]
    purposes: Mapping[str, Purpose]
    roles: frozenset[str]
    rules: tuple[Rule, ...]
    inheritance: tuple[Inheritance, ...] = ()
    obligations: tuple[ObligationRule, ...] = ()
    version: str = "sha256:unversioned"
    role_sources: Mapping[str, Source] = field(default_factory=dict)
    role_owners: Mapping[str, str] = field(default_factory=dict)
    """role → uid of its owner (``{description, owner}`` in guardian.yaml), who reviews the
    role's rules in permission reviews."""

    def sensitivity_of(self, database: str, category: str) -> Sensitivity | None:
        name = self.databases.get(database, {}).get(category)
        return None if name is None else self.sensitivities.get(name)

    def categories(self, database: str) -> Iterable[str]:
        return self.databases.get(database, {}).keys()


def lint_findings(policy: PolicyDefinition) -> Iterator[LintFinding]:
    """Yield every inconsistency: unknown roles, databases, categories, purposes, actions."""
    actions = {a.value for a in Action}
    for db, cats in policy.databases.items():
        for cat, sens in cats.items():
            if sens not in policy.sensitivities:
                src = policy.role_sources.get(f"db:{db}", Source("guardian.yaml", 0))
                yield _finding(src, f"category {db}/{cat}: unknown sensitivity {sens!r}")
    for rule in policy.rules:
        yield from _check_target(policy, rule.source, rule.role, rule.database, rule.category,
                                 rule.action, actions)
        if rule.purpose not in policy.purposes:
            yield _finding(rule.source, f"unknown purpose {rule.purpose!r}")
    for inh in policy.inheritance:
        for name in (inh.role, inh.parent):
            if name not in policy.roles:
                yield _finding(inh.source, f"unknown role {name!r}")
    for ob in policy.obligations:
        yield from _check_target(policy, ob.source, ob.role, ob.database, ob.category, ob.action,
                                 actions)
    yield from _check_hierarchy(policy)


def lint(policy: PolicyDefinition) -> None:
    """Raise :class:`PolicyLintError` listing every finding, if there is any."""
    findings = list(lint_findings(policy))
    if findings:
        raise PolicyLintError(findings)


def _finding(source: Source, message: str) -> LintFinding:
    return LintFinding(source.path, source.line, message)


def _check_target(
    policy: PolicyDefinition,
    source: Source,
    role: str | None,
    database: str,
    category: str,
    action: str,
    actions: set[str],
) -> Iterator[LintFinding]:
    if role is not None and role not in policy.roles:
        yield _finding(source, f"unknown role {role!r}")
    if database not in policy.databases:
        yield _finding(source, f"unknown database {database!r}")
    elif category != WILDCARD and category not in policy.databases[database]:
        yield _finding(source, f"unknown category {database}/{category}")
    if action not in actions:
        yield _finding(source, f"unknown action {action!r} (expected one of {sorted(actions)})")


def _check_hierarchy(policy: PolicyDefinition) -> Iterator[LintFinding]:
    parents: dict[str, list[Inheritance]] = {}
    for inh in policy.inheritance:
        parents.setdefault(inh.role, []).append(inh)

    def depth(role: str, seen: tuple[str, ...]) -> int:
        best = 0
        for inh in parents.get(role, ()):
            if inh.parent in seen:
                raise _Cycle(inh)
            best = max(best, 1 + depth(inh.parent, (*seen, inh.parent)))
        return best

    for role in sorted(parents):
        try:
            d = depth(role, (role,))
        except _Cycle as cycle:
            yield _finding(cycle.at.source, f"role inheritance cycle through {cycle.at.role!r}")
            return
        if d > MAX_ROLE_DEPTH:
            src = parents[role][0].source
            yield _finding(src, f"role {role!r} inherits {d} levels deep (max {MAX_ROLE_DEPTH})")


class _Cycle(Exception):
    def __init__(self, at: Inheritance) -> None:
        super().__init__(at.role)
        self.at = at

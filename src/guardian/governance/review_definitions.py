"""Access review definitions (``policies/reviews/<name>.yaml``) as frozen data, and their lint.

A definition says what a campaign reviews (kind and scope), how often, who reviews at each
stage (reviewer rule and fallback), what happens to an item nobody answered (per sensitivity),
when a decision needs a justification, the usage window and the brake. The YAML is read by an
adapter (:mod:`guardian.adapters.files.review_definitions`) into plain mappings whose every
mapping carries the line it came from under ``line_key``; :func:`parse_definition` turns one into a
:class:`ReviewDefinition` and reports every problem of shape with file and line, and
:func:`check_definition` checks it against the policy and the people of the directory (unknown
roles, databases, categories, sensitivities, reviewers), so ``guardian policy lint`` reports
everything at once.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from guardian.errors import LintFinding
from guardian.policy.definition import PolicyDefinition, Source

DEFAULT_WINDOW_DAYS = 90
_NOWHERE = Source("<memory>", 0)
_E = TypeVar("_E", bound=StrEnum)


class ReviewKind(StrEnum):
    MEMBERSHIP = "membership"
    """An item is one person holding one role, temporary grant or API key."""
    PERMISSION = "permission"
    """An item is one rule of a role (``p, role, database, category, action, purpose``)."""


class ReviewerRule(StrEnum):
    MANAGER = "manager"
    ROLE_OWNER = "role-owner"
    DPO = "dpo"
    NAMED = "named"
    """A list of uids in the definition: the first eligible one reviews."""


class NoAnswer(StrEnum):
    """What happens to an item still undecided when its last stage closes."""

    REVOKE = "revoke"
    KEEP_FLAGGED = "keep-flagged"
    FOLLOW_RECOMMENDATION = "follow-recommendation"


class Unit(StrEnum):
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    YEARS = "years"


@dataclass(frozen=True, slots=True)
class Recurrence:
    """``every: N days|weeks|months|years``."""

    count: int
    unit: Unit

    def next_after(self, at: float) -> float:
        """The instant one period after ``at`` (months end-of-month clamped, in UTC)."""
        if self.unit is Unit.DAYS:
            return at + self.count * 86400.0
        if self.unit is Unit.WEEKS:
            return at + self.count * 7 * 86400.0
        months = self.count * (12 if self.unit is Unit.YEARS else 1)
        start = datetime.fromtimestamp(at, UTC)
        total = start.month - 1 + months
        year, month = start.year + total // 12, total % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day).timestamp()

    def __str__(self) -> str:
        return f"{self.count} {self.unit.value}"


@dataclass(frozen=True, slots=True)
class Scope:
    roles: tuple[str, ...]
    grants: bool = False
    keys: bool = False
    databases: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    min_sensitivity: str | None = None
    contractors_only: bool = False


@dataclass(frozen=True, slots=True)
class Stage:
    reviewer: ReviewerRule
    days: int
    named: tuple[str, ...] = ()
    """The reviewers of a :attr:`ReviewerRule.NAMED` stage, in order."""
    fallback: tuple[str, ...] = ()
    reminders: tuple[int, ...] = ()
    escalate_to: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JustificationNeeds:
    keep_unused: bool = True
    keep_high: bool = True
    revoke: bool = False


@dataclass(frozen=True, slots=True)
class ReviewDefinition:
    name: str
    title: str
    kind: ReviewKind
    scope: Scope
    every: Recurrence
    stages: tuple[Stage, ...]
    no_answer: Mapping[str, NoAnswer]
    """sensitivity name → rule; a sensitivity not named follows the recommendation."""
    justification: JustificationNeeds = JustificationNeeds()
    usage_window_days: int = DEFAULT_WINDOW_DAYS
    brake: float = 1.0
    """Hold for an officer if more than this share of items would be revoked by default."""
    version: str = "sha256:unversioned"
    """SHA-256 of the file's bytes: which text of the definition a campaign followed."""
    source: Source = _NOWHERE
    lines: Mapping[str, int] = field(default_factory=dict)
    """Line of each checked entry (``scope``, ``stage1`` …), for findings."""

    def no_answer_for(self, sensitivity: str | None) -> NoAnswer:
        if sensitivity is None:
            return NoAnswer.FOLLOW_RECOMMENDATION
        return self.no_answer.get(sensitivity, NoAnswer.FOLLOW_RECOMMENDATION)

    def as_dict(self) -> dict[str, Any]:
        """As ``guardian review definitions --output json`` and the evidence report show it."""
        return {
            "name": self.name, "title": self.title, "kind": self.kind.value,
            "every": str(self.every), "version": self.version,
            "scope": {"roles": list(self.scope.roles), "grants": self.scope.grants,
                      "keys": self.scope.keys, "databases": list(self.scope.databases),
                      "categories": list(self.scope.categories),
                      "min_sensitivity": self.scope.min_sensitivity,
                      "contractors_only": self.scope.contractors_only},
            "stages": [{"reviewer": s.reviewer.value if s.reviewer is not ReviewerRule.NAMED
                        else list(s.named), "fallback": list(s.fallback), "days": s.days,
                        "reminders": list(s.reminders), "escalate_to": list(s.escalate_to)}
                       for s in self.stages],
            "no_answer": {k: v.value for k, v in self.no_answer.items()},
            "justification": {"keep_unused": self.justification.keep_unused,
                              "keep_high": self.justification.keep_high,
                              "revoke": self.justification.revoke},
            "usage_window_days": self.usage_window_days, "brake": self.brake,
        }


_TOP_KEYS = {"title", "kind", "scope", "every", "stages", "no_answer", "justification",
             "usage_window_days", "brake"}
_SCOPE_KEYS = {"roles", "grants", "keys", "databases", "categories", "min_sensitivity",
               "contractors_only"}
_STAGE_KEYS = {"reviewer", "fallback", "days", "reminders", "escalate_to"}
_JUSTIFICATION_KEYS = {"keep_unused", "keep_high", "revoke"}
MAX_STAGE_DAYS = 366


class _Reader:
    """Collects findings while reading one file."""

    def __init__(self, path: str, line_key: str) -> None:
        self.path = path
        self.key = line_key
        self.findings: list[LintFinding] = []

    def find(self, line: int, message: str) -> None:
        self.findings.append(LintFinding(self.path, line, message))

    def line(self, node: Any, fallback: int) -> int:
        return int(node[self.key]) if isinstance(node, dict) and self.key in node else fallback

    def keys(self, node: dict[str, Any], allowed: set[str], where: str, line: int) -> None:
        for key in sorted(set(node) - allowed - {self.key}):
            self.find(line, f"{where}: unknown key {key!r} (expected "
                            f"{', '.join(sorted(allowed))})")

    def names(self, value: Any, where: str, line: int) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.find(line, f"{where}: expected a list of names")
            return ()
        return tuple(value)

    def flag(self, node: dict[str, Any], key: str, default: bool, where: str, line: int) -> bool:
        value = node.get(key, default)
        if not isinstance(value, bool):
            self.find(line, f"{where}: {key} must be true or false")
            return default
        return value

    def integer(self, value: Any, where: str, line: int, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.find(line, f"{where} must be a whole number from {low} to {high}")
            return None
        return value


def parse_definition(
    name: str, raw: Any, path: str, *, line_key: str, version: str = "sha256:unversioned"
) -> tuple[ReviewDefinition | None, list[LintFinding]]:
    """One definition from the mapping its file holds; ``None`` when it cannot be built."""
    r = _Reader(path, line_key)
    if not isinstance(raw, dict):
        r.find(1, "expected a mapping at the top level")
        return None, r.findings
    top = r.line(raw, 1)
    r.keys(raw, _TOP_KEYS, "definition", top)
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        r.find(top, "title: a non-empty text is required")
    kind = _choice(r, raw.get("kind"), ReviewKind, "kind", top)
    scope_node = raw.get("scope")
    scope_line = r.line(scope_node, top)
    scope = _scope(r, scope_node, scope_line)
    every = _recurrence(r, raw.get("every"), top)
    stages = _stages(r, raw.get("stages"), top)
    no_answer = _no_answer(r, raw.get("no_answer"), top)
    needs = _justification(r, raw.get("justification"), top)
    window = r.integer(raw.get("usage_window_days", DEFAULT_WINDOW_DAYS), "usage_window_days",
                       top, 1, 3660)
    brake = raw.get("brake", 1.0)
    if isinstance(brake, bool) or not isinstance(brake, (int, float)) or not 0 < brake <= 1:
        r.find(top, "brake must be a share above 0 and at most 1 (0.5 = 50 %)")
        brake = 1.0
    if r.findings or kind is None or scope is None or every is None or window is None:
        return None, r.findings
    lines = {"scope": scope_line, "stages": r.line(raw.get("stages"), top)}
    for n, node in enumerate(raw.get("stages") or [], start=1):
        lines[f"stage{n}"] = r.line(node, top)
    return ReviewDefinition(
        name=name, title=str(title), kind=kind, scope=scope, every=every, stages=stages,
        no_answer=no_answer, justification=needs, usage_window_days=window,
        brake=float(brake), version=version, source=Source(path, top), lines=lines,
    ), r.findings


def _choice(r: _Reader, value: Any, enum: type[_E], where: str, line: int) -> _E | None:
    try:
        return enum(value)
    except ValueError:
        r.find(line, f"{where}: {value!r} is not one of {', '.join(e.value for e in enum)}")
        return None


def _scope(r: _Reader, node: Any, line: int) -> Scope | None:
    if not isinstance(node, dict):
        r.find(line, "scope: a mapping with at least `roles` is required")
        return None
    r.keys(node, _SCOPE_KEYS, "scope", line)
    roles = r.names(node.get("roles"), "scope.roles", line)
    if not roles:
        r.find(line, "scope.roles: name at least one role")
    minimum = node.get("min_sensitivity")
    if minimum is not None and not isinstance(minimum, str):
        r.find(line, "scope.min_sensitivity: expected a sensitivity name")
        minimum = None
    return Scope(
        roles=roles, grants=r.flag(node, "grants", False, "scope", line),
        keys=r.flag(node, "keys", False, "scope", line),
        databases=r.names(node.get("databases"), "scope.databases", line),
        categories=r.names(node.get("categories"), "scope.categories", line),
        min_sensitivity=minimum,
        contractors_only=r.flag(node, "contractors_only", False, "scope", line),
    )


def _recurrence(r: _Reader, value: Any, line: int) -> Recurrence | None:
    parts = str(value).split() if isinstance(value, str) else []
    if len(parts) == 2 and parts[0].isdigit() and int(parts[0]) > 0:
        unit = parts[1] if parts[1].endswith("s") else parts[1] + "s"
        if unit in {u.value for u in Unit}:
            return Recurrence(int(parts[0]), Unit(unit))
    r.find(line, f"every: {value!r} is not `N days|weeks|months|years` (e.g. `3 months`)")
    return None


def _stages(r: _Reader, node: Any, line: int) -> tuple[Stage, ...]:
    if not isinstance(node, list) or not node:
        r.find(line, "stages: a list of at least one stage is required")
        return ()
    out = []
    for n, spec in enumerate(node, start=1):
        where = f"stage {n}"
        at = r.line(spec, line)
        if not isinstance(spec, dict):
            r.find(at, f"{where}: expected a mapping with reviewer and days")
            continue
        r.keys(spec, _STAGE_KEYS, where, at)
        reviewer = spec.get("reviewer")
        named: tuple[str, ...] = ()
        if isinstance(reviewer, list):
            named = r.names(reviewer, f"{where}.reviewer", at)
            rule: ReviewerRule | None = ReviewerRule.NAMED
        elif reviewer == ReviewerRule.NAMED.value:
            r.find(at, f"{where}.reviewer: name the reviewers as a list of uids")
            rule = None
        else:
            rule = _choice(r, reviewer, ReviewerRule, f"{where}.reviewer (or a list of uids)", at)
        days = r.integer(spec.get("days"), f"{where}.days", at, 1, MAX_STAGE_DAYS)
        reminders = spec.get("reminders") or []
        if not isinstance(reminders, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in reminders):
            r.find(at, f"{where}.reminders: expected a list of days before the deadline")
            reminders = []
        elif days is not None and any(d >= days for d in reminders):
            r.find(at, f"{where}.reminders: a reminder must come before the stage ends "
                       f"(fewer than {days} days before its deadline)")
        if rule is None or days is None:
            continue
        out.append(Stage(rule, days, named, r.names(spec.get("fallback"), f"{where}.fallback",
                                                   at),
                         tuple(sorted(set(reminders), reverse=True)),
                         r.names(spec.get("escalate_to"), f"{where}.escalate_to", at)))
    return tuple(out)


def _no_answer(r: _Reader, node: Any, line: int) -> dict[str, NoAnswer]:
    if node is None:
        return {}
    if not isinstance(node, dict):
        r.find(line, "no_answer: expected sensitivity: revoke|keep-flagged|follow-recommendation")
        return {}
    at = r.line(node, line)
    out = {}
    for key, value in node.items():
        if key == r.key:
            continue
        rule = _choice(r, value, NoAnswer, f"no_answer.{key}", at)
        if rule is not None:
            out[str(key)] = rule
    return out


def _justification(r: _Reader, node: Any, line: int) -> JustificationNeeds:
    if node is None:
        return JustificationNeeds()
    if not isinstance(node, dict):
        r.find(line, "justification: expected keep_unused, keep_high, revoke: true|false")
        return JustificationNeeds()
    at = r.line(node, line)
    r.keys(node, _JUSTIFICATION_KEYS, "justification", at)
    return JustificationNeeds(*(r.flag(node, k, d, "justification", at) for k, d in
                                (("keep_unused", True), ("keep_high", True), ("revoke", False))))


def check_definition(
    definition: ReviewDefinition, policy: PolicyDefinition,
    people: Collection[str] | None = None,
) -> Iterator[LintFinding]:
    """Every reference of ``definition`` the policy (and, when given, the directory's
    ``people``) does not know: roles, databases, categories, sensitivities, reviewers."""
    path = definition.source.path
    scope_line = definition.lines.get("scope", definition.source.line)
    scope = definition.scope
    for role in scope.roles:
        if role not in policy.roles:
            yield LintFinding(path, scope_line, f"scope.roles: unknown role {role!r}")
    for db in scope.databases:
        if db not in policy.databases:
            yield LintFinding(path, scope_line, f"scope.databases: unknown database {db!r}")
    known_categories = {c for cats in policy.databases.values() for c in cats}
    for cat in scope.categories:
        if cat not in known_categories:
            yield LintFinding(path, scope_line, f"scope.categories: unknown category {cat!r}")
    if scope.min_sensitivity is not None and scope.min_sensitivity not in policy.sensitivities:
        yield LintFinding(path, scope_line,
                          f"scope.min_sensitivity: unknown sensitivity {scope.min_sensitivity!r}")
    for level in definition.no_answer:
        if level not in policy.sensitivities:
            yield LintFinding(path, definition.source.line,
                              f"no_answer: unknown sensitivity {level!r}")
    for n, stage in enumerate(definition.stages, start=1):
        yield from _check_stage(definition, policy, people, n, stage)


def _check_stage(definition: ReviewDefinition, policy: PolicyDefinition,
                 people: Collection[str] | None, n: int, stage: Stage) -> Iterator[LintFinding]:
    path = definition.source.path
    line = definition.lines.get(f"stage{n}", definition.source.line)
    if people is not None:
        for what, uids in (("reviewer", stage.named), ("fallback", stage.fallback),
                           ("escalate_to", stage.escalate_to)):
            for uid in uids:
                if uid not in people:
                    yield LintFinding(path, line, f"stage {n}.{what}: {uid!r} is not in the "
                                                  "directory")
    if stage.reviewer is ReviewerRule.ROLE_OWNER and not stage.fallback:
        for role in definition.scope.roles:
            if role in policy.roles and role not in policy.role_owners:
                yield LintFinding(path, line, f"stage {n}: role {role!r} has no owner in "
                                              "guardian.yaml and the stage has no fallback")
    if stage.reviewer is ReviewerRule.NAMED and not stage.named:
        yield LintFinding(path, line, f"stage {n}.reviewer: name at least one reviewer")

"""Building a campaign's items: the population frozen, its hash, evidence, recommendation and
reviewer of each item.

The population is who holds what when the campaign opens: every person's standing roles in
scope (the directory), temporary grants in force (the store) and active API keys, or, for a
permission review, every rule of the roles in scope. Its SHA-256 over a canonical listing is
the snapshot hash the campaign journals; the evidence report recomputes it from the items.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import orjson

from guardian.governance.model import ApiKeyRecord, TemporaryGrant
from guardian.governance.review_definitions import ReviewDefinition, ReviewKind
from guardian.governance.review_eligibility import assign
from guardian.governance.review_model import (
    Access,
    AccessKind,
    ReviewItem,
    Subject,
    Usage,
)
from guardian.governance.review_recommendations import recommend
from guardian.governance.review_usage import Tally, UsageEvidence, Window
from guardian.identity.principal import Principal
from guardian.ids import new_ulid
from guardian.policy.definition import PolicyDefinition, Rule
from guardian.ports import Directory

DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Holding:
    """One entitlement of the population, before evidence and reviewer."""

    subject: Subject
    principal: Principal | None
    access: Access


def snapshot_hash(items: Sequence[ReviewItem]) -> str:
    """SHA-256 of the canonical listing of who holds what (uid, kind, role, ref), sorted."""
    rows = sorted([i.subject.uid, *i.access.key()] for i in items)
    return "sha256:" + hashlib.sha256(orjson.dumps(rows)).hexdigest()


class RoleFacts:
    """What the policy says of each role: the rules it has (own and inherited), the categories
    they permit and the role's sensitivity (the highest of them)."""

    def __init__(self, policy: PolicyDefinition) -> None:
        self.policy = policy
        self.ranks = {name: n for n, name in enumerate(policy.sensitivities)}
        parents: dict[str, set[str]] = {}
        for inh in policy.inheritance:
            parents.setdefault(inh.role, set()).add(inh.parent)
        self._rules: dict[str, list[Rule]] = {}
        for role in policy.roles:
            lineage, todo = {role}, [role]
            while todo:
                for parent in parents.get(todo.pop(), ()):
                    if parent not in lineage:
                        lineage.add(parent)
                        todo.append(parent)
            self._rules[role] = [r for r in policy.rules if r.role in lineage]
        # Asked once per holding (300 000 at a campaign's scale), answered once per role.
        self._categories: dict[str, tuple[str, ...]] = {}
        self._sensitivity: dict[str, str | None] = {}

    def rules(self, role: str) -> list[Rule]:
        return self._rules.get(role, [])

    def categories(self, role: str) -> tuple[str, ...]:
        if role not in self._categories:
            self._categories[role] = self._categories_of(role)
        return self._categories[role]

    def _categories_of(self, role: str) -> tuple[str, ...]:
        out: set[str] = set()
        for r in self.rules(role):
            out |= set(self.policy.categories(r.database)) if r.category == "*" else {r.category}
        return tuple(sorted(out))

    def sensitivity_of_rule(self, rule: Rule) -> str | None:
        cats = self.policy.categories(rule.database) if rule.category == "*" else [rule.category]
        levels = [s for c in cats if (s := self.policy.databases.get(rule.database, {}).get(c))]
        return max(levels, key=lambda s: self.ranks.get(s, -1), default=None)

    def sensitivity(self, role: str) -> str | None:
        if role not in self._sensitivity:
            self._sensitivity[role] = self._sensitivity_of(role)
        return self._sensitivity[role]

    def _sensitivity_of(self, role: str) -> str | None:
        levels = [s for r in self.rules(role) if (s := self.sensitivity_of_rule(r))]
        return max(levels, key=lambda s: self.ranks.get(s, -1), default=None)

    @property
    def highest(self) -> frozenset[str]:
        return frozenset(list(self.policy.sensitivities)[-1:])

    def in_scope(self, definition: ReviewDefinition, role: str) -> bool:
        scope = definition.scope
        if role not in scope.roles:
            return False
        rules = self.rules(role)
        if scope.databases and not any(r.database in scope.databases for r in rules):
            return False
        if scope.categories and not set(self.categories(role)) & set(scope.categories):
            return False
        if scope.min_sensitivity is not None:
            level = self.sensitivity(role)
            floor = self.ranks.get(scope.min_sensitivity, 0)
            return level is not None and self.ranks.get(level, -1) >= floor
        return True


def subject_of(p: Principal) -> Subject:
    return Subject(p.uid, p.name, p.employee_type.value, p.manager, p.active, p.supplier,
                   p.contract_clause)


def holdings(definition: ReviewDefinition, facts: RoleFacts, directory: Directory,
             grants: Sequence[TemporaryGrant], keys: Sequence[ApiKeyRecord],
             revoked: Mapping[str, Mapping[str, str]], now: float) -> Iterator[Holding]:
    """The population of a membership review."""
    scope = definition.scope
    people = {p.uid: p for p in directory.principals()}
    for p in sorted(people.values(), key=lambda p: p.uid):
        if scope.contractors_only and not p.is_contractor:
            continue
        for role in sorted(p.roles):
            if facts.in_scope(definition, role) and role not in revoked.get(p.uid, {}):
                yield Holding(subject_of(p), p, Access(
                    AccessKind.ROLE, role, "directory", sensitivity=facts.sensitivity(role)))
    if scope.grants:
        for g in grants:
            held = people.get(g.uid)
            if held is None or not g.gives_role_at(now) or not facts.in_scope(definition, g.role):
                continue
            if scope.contractors_only and not held.is_contractor:
                continue
            yield Holding(subject_of(held), held, Access(
                AccessKind.GRANT, g.role, "grant", g.id, g.granted_by, g.starts_at,
                facts.sensitivity(g.role)))
    if scope.keys and not scope.contractors_only:
        for k in keys:
            if k.active:
                yield Holding(Subject(k.name, k.name, "application", None, True), None, Access(
                    AccessKind.KEY, None, k.source.value, k.id, k.created_by, k.created_at))


def rule_holdings(definition: ReviewDefinition, facts: RoleFacts) -> Iterator[Holding]:
    """The population of a permission review: every own rule of the roles in scope."""
    owners = facts.policy.role_owners
    for role in sorted(definition.scope.roles):
        if not facts.in_scope(definition, role):
            continue
        for r in facts.policy.rules:
            if r.role != role:
                continue
            ref = f"{r.database}/{r.category}/{r.action}/{r.purpose}"
            yield Holding(Subject(role, f"role {role}", "role", owners.get(role), True), None,
                          Access(AccessKind.RULE, role, "policy", ref,
                                 sensitivity=facts.sensitivity_of_rule(r)))


def _usage(window_days: int, tally: Tally | None, permitted: tuple[str, ...]) -> Usage:
    if tally is None:
        return Usage(window_days, categories_permitted=permitted)
    return Usage(window_days, tally.permits,
                 None if tally.last_ms is None or not tally.permits else tally.last_ms / 1000,
                 tally.ever, tuple(sorted(tally.categories)), permitted,
                 tuple(sorted(tally.purposes)), tally.customers, tally.denies)


@dataclass(frozen=True, slots=True)
class OpeningContext:
    definition: ReviewDefinition
    facts: RoleFacts
    directory: Directory
    evidence: UsageEvidence
    dpos: tuple[str, ...]
    campaign_id: str
    now: float


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the trail shows for a campaign: per person and role, per rule, per application."""

    by_person: Mapping[tuple[str, str], Tally]
    by_rule: Mapping[tuple[str, str, str, str], Tally]
    by_app: Mapping[str, Tally]


def _window_start(ctx: OpeningContext) -> float:
    return ctx.now - ctx.definition.usage_window_days * DAY_S


def gather_evidence(ctx: OpeningContext) -> Evidence:
    """The usage aggregations a campaign needs (most of an opening's wall time on a large trail:
    :func:`build_items` does what needs no evidence while they run)."""
    window = Window(int(_window_start(ctx) * 1000), int(ctx.now * 1000) + 1)
    permission = ctx.definition.kind is ReviewKind.PERMISSION
    by_person = {} if permission else ctx.evidence.by_person_and_role(
        window, ctx.definition.scope.roles)
    by_rule = ctx.evidence.by_rule(window) if permission else {}
    by_app = ctx.evidence.by_application(window) if ctx.definition.scope.keys else {}
    return Evidence(by_person, by_rule, by_app)


def build_items(ctx: OpeningContext, population: Sequence[Holding],
                evidence: Callable[[], Evidence] | None = None) -> list[ReviewItem]:
    """Every holding with its evidence, recommendation and first-stage reviewer. ``evidence``:
    waits for the evidence gathered elsewhere (a thread started before the population was
    built); reviewers and ids are worked out before it is asked for."""
    window_start = _window_start(ctx)
    stage = ctx.definition.stages[0]
    owners = ctx.facts.policy.role_owners
    assigned = [(new_ulid(ctx.now), assign(stage, 1, h.principal, h.access, ctx.directory,
                                           owners, ctx.dpos, ctx.now)) for h in population]
    found = evidence() if evidence is not None else gather_evidence(ctx)
    by_person, by_rule, by_app = found.by_person, found.by_rule, found.by_app
    days = ctx.definition.usage_window_days
    items = []
    for h, (item_id, assignment) in zip(population, assigned, strict=True):
        a = h.access
        if a.kind is AccessKind.RULE:
            _db, cat, act, purpose = (a.ref or "///").split("/")
            tally = by_rule.get((a.role or "", cat, act, purpose))
            usage = _usage(days, tally, (cat,))
        elif a.kind is AccessKind.KEY:
            usage = _usage(days, by_app.get(h.subject.uid), ())
        else:
            usage = _usage(days, by_person.get((h.subject.uid, a.role or "")),
                           ctx.facts.categories(a.role or ""))
        subject = h.subject if h.principal is not None else None
        items.append(ReviewItem(
            id=item_id, campaign_id=ctx.campaign_id, stage=1, subject=h.subject,
            access=a, usage=usage, recommendation=recommend(subject, a, usage, window_start),
            assignment=assignment, assignments=(assignment,)))
    return items

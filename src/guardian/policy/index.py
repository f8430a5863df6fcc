"""The decision index: the policy compiled into hash tables, so a decision costs a few look-ups.

Semantics are those of the casbin model in ``policies/model.conf``::

    m = g(r.sub, p.sub) && r.db == p.db && (p.cat == "*" || r.cat == p.cat)
        && r.act == p.act && r.purpose == p.purpose

Role inheritance (``g, role, parent``) is closed over at compile time, so each role carries
every permission it holds directly or through its parents. A query then costs two look-ups per
role of the subject (exact category, then the ``*`` wildcard), whatever the number of rules or
users. ``tests/unit/policy/test_index_vs_casbin.py`` shows the index and ``casbin.Enforcer``
agree on random policies and requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from guardian.policy.definition import WILDCARD, PolicyDefinition, Rule
from guardian.policy.model import Obligation

_Key = tuple[str, str, str, str]
"""(role, database, category, action)."""


@dataclass(frozen=True, slots=True)
class IndexMatch:
    """What the index says about one request."""

    role: str | None
    """The role that permits the request, or ``None``."""
    other_purposes: bool
    """Some role permits this data and action, but only for other purposes."""
    obligations: tuple[Obligation, ...] = ()

    @property
    def permitted(self) -> bool:
        return self.role is not None


_NO_MATCH = IndexMatch(role=None, other_purposes=False)
_OTHER_PURPOSE = IndexMatch(role=None, other_purposes=True)


class DecisionIndex:
    """Compiled, immutable view of a policy; safe to share between threads."""

    __slots__ = ("_closure", "_obligations", "_permits", "version")

    def __init__(
        self,
        permits: dict[_Key, frozenset[str]],
        obligations: dict[_Key, tuple[Obligation, ...]],
        closure: dict[str, frozenset[str]],
        version: str,
    ) -> None:
        self._permits = permits
        self._obligations = obligations
        self._closure = closure
        self.version = version

    @classmethod
    def compile(cls, policy: PolicyDefinition) -> DecisionIndex:
        closure = role_closure(policy.roles, ((i.role, i.parent) for i in policy.inheritance))
        return cls.from_rules(policy.rules, closure, policy, policy.version)

    @classmethod
    def from_rules(
        cls,
        rules: Iterable[Rule],
        closure: Mapping[str, frozenset[str]],
        policy: PolicyDefinition | None = None,
        version: str = "sha256:unversioned",
    ) -> DecisionIndex:
        # Who inherits from whom, inverted: a rule on `parent` also belongs to every heir.
        heirs: dict[str, set[str]] = {}
        for role, ancestors in closure.items():
            for ancestor in ancestors:
                heirs.setdefault(ancestor, set()).add(role)
        grouped: dict[_Key, set[str]] = {}
        for rule in rules:
            for role in heirs.get(rule.role, (rule.role,)):
                key = (role, rule.database, rule.category, rule.action)
                grouped.setdefault(key, set()).add(rule.purpose)
        # Few distinct sets of purposes exist: each key points at one shared frozenset.
        distinct: dict[frozenset[str], frozenset[str]] = {}
        permits: dict[_Key, frozenset[str]] = {}
        for key, purposes in grouped.items():
            frozen = frozenset(purposes)
            permits[key] = distinct.setdefault(frozen, frozen)
        del grouped
        obligations: dict[_Key, tuple[Obligation, ...]] = {}
        if policy is not None:
            for ob in policy.obligations:
                targets = heirs.get(ob.role, {ob.role}) if ob.role is not None else closure.keys()
                for role in targets:
                    key = (role, ob.database, ob.category, ob.action)
                    obligations[key] = (*obligations.get(key, ()), ob.obligation)
        return cls(permits, obligations, dict(closure), version)

    def evaluate(
        self, roles: Iterable[str], database: str, category: str, action: str, purpose: str
    ) -> IndexMatch:
        """Which of ``roles`` permits the request; the one with fewest obligations wins."""
        permits = self._permits
        best: IndexMatch | None = None
        other = False
        for role in roles:
            purposes = permits.get((role, database, category, action))
            if purposes is None or purpose not in purposes:
                wild = permits.get((role, database, WILDCARD, action))
                if wild is not None and purpose in wild:
                    purposes = wild
                elif purposes is None and wild is None:
                    continue
                else:
                    other = True
                    continue
            obligations = self._obligations_for(role, database, category, action)
            if not obligations:
                return IndexMatch(role=role, other_purposes=False)
            if best is None or len(obligations) < len(best.obligations):
                best = IndexMatch(role=role, other_purposes=False, obligations=obligations)
        if best is not None:
            return best
        return _OTHER_PURPOSE if other else _NO_MATCH

    def permits(
        self, roles: Iterable[str], database: str, category: str, action: str, purpose: str
    ) -> bool:
        return self.evaluate(roles, database, category, action, purpose).permitted

    def _obligations_for(
        self, role: str, database: str, category: str, action: str
    ) -> tuple[Obligation, ...]:
        table = self._obligations
        if not table:
            return ()
        exact = table.get((role, database, category, action), ())
        wild = table.get((role, database, WILDCARD, action), ())
        return exact + wild if wild else exact

    def differing_keys(self, other: DecisionIndex) -> frozenset[_Key]:
        """The (role, database, category, action) whose purposes differ between the two: a
        request touching none of them is decided alike by both (``guardian policy impact``)."""
        mine, theirs = self._permits, other._permits
        return frozenset(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))

    def roles_inherited_by(self, role: str) -> frozenset[str]:
        return self._closure.get(role, frozenset((role,)))

    @property
    def size(self) -> int:
        return len(self._permits)


def role_closure(
    roles: Iterable[str], edges: Iterable[tuple[str, str]]
) -> dict[str, frozenset[str]]:
    """Map each role to itself plus every role it inherits from, transitively."""
    parents: dict[str, set[str]] = {}
    for role, parent in edges:
        parents.setdefault(role, set()).add(parent)
    every = set(roles) | set(parents) | {p for ps in parents.values() for p in ps}
    closure: dict[str, frozenset[str]] = {}
    for role in every:
        # A plain search per role, no shared partial results: correct even through a cycle
        # (lint refuses cycles, but the index must not depend on that).
        seen = {role}
        stack = [role]
        while stack:
            for parent in parents.get(stack.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        closure[role] = frozenset(seen)
    return closure

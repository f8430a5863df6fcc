"""The decision index decides exactly as ``casbin.Enforcer`` does on the model of ``policies/``.

Random policies (roles with a random inheritance DAG, rules over small vocabularies including
the ``*`` category, users holding a few roles) and random requests (including names the policy
never mentions) are put to both; they must agree on every request, and ``other_purposes``
(``purpose_not_allowed``) must mean exactly "casbin denies this purpose but permits the same
data and action for another purpose". Example-based tests do the same on the real ``policies/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guardian.adapters.casbin.reference import (
    ReferenceEnforcer,
    build_enforcer,
    casbin_permits,
    enforcer_for_policy,
)
from guardian.adapters.files.policy import load_policy
from guardian.policy.definition import MAX_ROLE_DEPTH, WILDCARD, Rule
from guardian.policy.index import DecisionIndex, role_closure
from guardian.policy.model import Obligation

POLICIES = Path(__file__).resolve().parents[3] / "policies"
MODEL = POLICIES / "model.conf"

DATABASES = ("crm", "billing-db", "hr")
CATEGORIES = ("contact", "iban", "location")
ACTIONS = ("read", "export", "update")
PURPOSES = ("customer-care", "billing", "fraud-prevention")
MAX_DEPTH = 5

# Requests may also name what the policy never mentions, and the literal "*" category.
REQUEST_DATABASES = (*DATABASES, "ghost-db")
REQUEST_CATEGORIES = (*CATEGORIES, WILDCARD, "ghost-category")
REQUEST_ACTIONS = (*ACTIONS, "delete")
REQUEST_PURPOSES = (*PURPOSES, "ghost-purpose")

Request = tuple[str, str, str, str, str]
"""(user, database, category, action, purpose)."""


@dataclass(frozen=True)
class RandomPolicy:
    roles: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    """(role, parent): ``g, role, parent``."""
    rules: tuple[Rule, ...]
    assignments: Mapping[str, frozenset[str]]
    """user → roles: ``g, user, role``."""


@st.composite
def random_policies(draw: st.DrawFn) -> RandomPolicy:
    roles = tuple(f"role-{i}" for i in range(draw(st.integers(1, 12))))
    # Each role sits on a level and may only inherit from roles on lower levels: a DAG whose
    # longest inheritance chain is at most MAX_DEPTH edges.
    levels = draw(st.lists(st.integers(0, MAX_DEPTH), min_size=len(roles), max_size=len(roles)))
    candidates = [(r, p) for r, lr in zip(roles, levels, strict=True)
                  for p, lp in zip(roles, levels, strict=True) if lp < lr]
    edges = tuple(draw(st.lists(st.sampled_from(candidates), max_size=15, unique=True))
                  if candidates else [])
    rule = st.builds(
        Rule,
        role=st.sampled_from(roles),
        database=st.sampled_from(DATABASES),
        category=st.sampled_from((*CATEGORIES, WILDCARD)),
        action=st.sampled_from(ACTIONS),
        purpose=st.sampled_from(PURPOSES),
    )
    rules = tuple(draw(st.lists(rule, max_size=60)))
    users = [f"user-{i}" for i in range(draw(st.integers(1, 6)))]
    assignments = {
        user: frozenset(draw(st.lists(st.sampled_from(roles), max_size=3))) for user in users
    }
    return RandomPolicy(roles, edges, rules, assignments)


def requests_for(policy: RandomPolicy) -> st.SearchStrategy[list[Request]]:
    anything = st.tuples(
        st.sampled_from([*policy.assignments, "ghost-user"]),
        st.sampled_from(REQUEST_DATABASES),
        st.sampled_from(REQUEST_CATEGORIES),
        st.sampled_from(REQUEST_ACTIONS),
        st.sampled_from(REQUEST_PURPOSES),
    )
    held = _held_rules(policy)
    if not held:
        return st.lists(anything, min_size=1, max_size=25)
    # Requests close to a rule the user holds, so permits and "other purpose" denies are common:
    # the rule itself, or with its category made concrete, or with another purpose.
    near = st.tuples(
        st.sampled_from(held),
        st.none() | st.sampled_from(REQUEST_CATEGORIES),
        st.none() | st.sampled_from(REQUEST_PURPOSES),
    ).map(lambda t: (t[0][0], t[0][1], t[1] or t[0][2], t[0][3], t[2] or t[0][4]))
    return st.lists(st.one_of(anything, near), min_size=1, max_size=25)


def _held_rules(policy: RandomPolicy) -> list[Request]:
    """(user, rule fields) for every rule a user holds directly or through inheritance."""
    parents: dict[str, set[str]] = {}
    for role, parent in policy.edges:
        parents.setdefault(role, set()).add(parent)
    held: list[Request] = []
    for user, roles in sorted(policy.assignments.items()):
        inherited, todo = set(roles), list(roles)
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in inherited:
                    inherited.add(parent)
                    todo.append(parent)
        held.extend((user, r.database, r.category, r.action, r.purpose)
                    for r in policy.rules if r.role in inherited)
    return held


def compile_both(policy: RandomPolicy) -> tuple[DecisionIndex, ReferenceEnforcer]:
    index = DecisionIndex.from_rules(policy.rules, role_closure(policy.roles, policy.edges))
    enforcer = build_enforcer(MODEL, policy.rules, policy.edges, policy.assignments)
    return index, enforcer


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_index_and_casbin_agree_on_random_policies_and_requests(data: st.DataObject) -> None:
    policy = data.draw(random_policies(), label="policy")
    requests = data.draw(requests_for(policy), label="requests")
    index, enforcer = compile_both(policy)
    for user, db, cat, act, purpose in requests:
        roles = policy.assignments.get(user, frozenset())
        match = index.evaluate(roles, db, cat, act, purpose)
        expected = casbin_permits(enforcer, user, db, cat, act, purpose)
        assert match.permitted == expected, (user, sorted(roles), db, cat, act, purpose)
        if match.permitted:
            assert match.role in roles
            # The role named in the decision permits the request on its own.
            assert casbin_permits(enforcer, match.role, db, cat, act, purpose)
            assert not match.other_purposes


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_other_purposes_means_casbin_permits_the_same_access_for_another_purpose(
    data: st.DataObject,
) -> None:
    policy = data.draw(random_policies(), label="policy")
    requests = data.draw(requests_for(policy), label="requests")
    index, enforcer = compile_both(policy)
    for user, db, cat, act, purpose in requests:
        match = index.evaluate(policy.assignments.get(user, frozenset()), db, cat, act, purpose)
        if match.permitted:
            continue
        permitted_elsewhere = [
            other for other in PURPOSES
            if other != purpose and casbin_permits(enforcer, user, db, cat, act, other)
        ]
        assert not casbin_permits(enforcer, user, db, cat, act, purpose)
        # Both ways: purpose_not_allowed exactly when another purpose would have been permitted.
        assert match.other_purposes == bool(permitted_elsewhere), (
            user, db, cat, act, purpose, permitted_elsewhere)


def test_index_and_casbin_agree_at_the_deepest_inheritance_lint_accepts() -> None:
    # casbin's role manager stops 10 levels from the user; lint's MAX_ROLE_DEPTH keeps within.
    roles = tuple(f"level-{i}" for i in range(MAX_ROLE_DEPTH + 1))
    edges = tuple(pairwise(roles))
    top_rule = Rule(roles[-1], "crm", "contact", "read", "billing")
    policy = RandomPolicy(roles, edges, (top_rule,), {"deep-user": frozenset({roles[0]})})
    index, enforcer = compile_both(policy)
    assert index.permits({roles[0]}, "crm", "contact", "read", "billing")
    assert casbin_permits(enforcer, "deep-user", "crm", "contact", "read", "billing")


# --- the real policies/ -------------------------------------------------------------------

STAFF = {
    "lea": frozenset({"legal-officer"}),
    "bill": frozenset({"billing"}),
    "cara": frozenset({"customer-care"}),
    "mia": frozenset({"marketing", "customer-care"}),
    "fred": frozenset({"fraud-analyst"}),
    "sam": frozenset({"security-officer"}),
    "nobody": frozenset(),
}


@pytest.fixture(scope="module")
def real() -> tuple[DecisionIndex, ReferenceEnforcer]:
    definition = load_policy(POLICIES)
    return DecisionIndex.compile(definition), enforcer_for_policy(MODEL, definition, STAFF)


@pytest.mark.parametrize(
    ("user", "db", "cat", "act", "purpose", "permitted"),
    [
        ("lea", "crm", "personal-life", "read", "legal-requisition", True),
        ("lea", "crm", "location", "export", "legal-requisition", True),
        ("lea", "crm", "location", "update", "legal-requisition", False),
        ("lea", "crm", "location", "read", "customer-care", False),
        ("bill", "crm", "economic-financial", "read", "billing", True),
        ("bill", "crm", "economic-financial", "export", "billing", True),
        ("bill", "crm", "location", "read", "billing", False),
        ("cara", "crm", "contact", "update", "customer-care", True),
        ("cara", "crm", "contact", "update", "marketing", False),
        ("mia", "crm", "profiles-scores", "read", "marketing", True),
        ("mia", "crm", "contact", "read", "customer-care", True),
        ("fred", "crm", "location", "read", "fraud-prevention", True),
        ("sam", "crm", "contact", "read", "customer-care", False),
        ("nobody", "crm", "contact", "read", "customer-care", False),
        ("stranger", "crm", "contact", "read", "customer-care", False),
    ],
)
def test_index_and_casbin_agree_on_the_real_policy(
    real: tuple[DecisionIndex, ReferenceEnforcer],
    user: str, db: str, cat: str, act: str, purpose: str, permitted: bool,
) -> None:
    index, enforcer = real
    assert index.permits(STAFF.get(user, frozenset()), db, cat, act, purpose) is permitted
    assert casbin_permits(enforcer, user, db, cat, act, purpose) is permitted


def test_legal_officer_wildcard_covers_every_category_of_crm(
    real: tuple[DecisionIndex, ReferenceEnforcer],
) -> None:
    index, enforcer = real
    categories = load_policy(POLICIES).categories("crm")
    for cat in categories:
        for act in ("read", "export"):
            match = index.evaluate(STAFF["lea"], "crm", cat, act, "legal-requisition")
            assert match.role == "legal-officer"
            assert casbin_permits(enforcer, "lea", "crm", cat, act, "legal-requisition")


def test_billing_reads_iban_masked_but_exports_it_unmasked(
    real: tuple[DecisionIndex, ReferenceEnforcer],
) -> None:
    index, enforcer = real
    read = index.evaluate(STAFF["bill"], "crm", "economic-financial", "read", "billing")
    export = index.evaluate(STAFF["bill"], "crm", "economic-financial", "export", "billing")
    assert read.obligations == (Obligation("mask", ("iban",)),)
    assert export.permitted
    assert export.obligations == ()
    assert casbin_permits(enforcer, "bill", "crm", "economic-financial", "read", "billing")
    assert casbin_permits(enforcer, "bill", "crm", "economic-financial", "export", "billing")


def test_purpose_not_allowed_on_the_real_policy_matches_casbin(
    real: tuple[DecisionIndex, ReferenceEnforcer],
) -> None:
    index, enforcer = real
    match = index.evaluate(STAFF["cara"], "crm", "contact", "read", "marketing")
    assert not match.permitted
    assert match.other_purposes
    assert not casbin_permits(enforcer, "cara", "crm", "contact", "read", "marketing")
    assert casbin_permits(enforcer, "cara", "crm", "contact", "read", "customer-care")


def test_every_request_on_the_real_vocabulary_agrees(
    real: tuple[DecisionIndex, ReferenceEnforcer],
) -> None:
    index, enforcer = real
    definition = load_policy(POLICIES)
    disagreements = [
        (user, cat, act, purpose)
        for user, roles in STAFF.items()
        for cat in (*definition.categories("crm"), WILDCARD)
        for act in ("read", "export", "update", "delete")
        for purpose in definition.purposes
        if index.permits(roles, "crm", cat, act, purpose)
        != casbin_permits(enforcer, user, "crm", cat, act, purpose)
    ]
    assert disagreements == []


def test_role_closure_is_complete_through_a_cycle() -> None:
    from guardian.policy.index import role_closure

    closure = role_closure(["a", "b"], [("a", "b"), ("b", "a")])
    assert closure["a"] == closure["b"] == frozenset({"a", "b"})

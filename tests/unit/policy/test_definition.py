"""The policy as data: justification rules, sensitivity look-ups, and the lint that reports
every unknown role, database, category, purpose, action and sensitivity, inheritance cycles
and hierarchies too deep, each with the file and line it comes from."""

from __future__ import annotations

import itertools
import re

import pytest

from guardian.errors import LintFinding, PolicyLintError
from guardian.policy.definition import (
    MAX_ROLE_DEPTH,
    WILDCARD,
    Inheritance,
    JustificationRule,
    ObligationRule,
    PolicyDefinition,
    Purpose,
    Rule,
    Sensitivity,
    Source,
    lint,
    lint_findings,
)
from guardian.policy.model import Obligation

AT = Source("policy.csv", 3)


def _policy(**changes: object) -> PolicyDefinition:
    base: dict[str, object] = {
        "databases": {"crm": {"contact": "internal", "payment": "restricted"}},
        "sensitivities": {"internal": Sensitivity("internal", None),
                          "restricted": Sensitivity("restricted", 900)},
        "purposes": {"support": Purpose("support"), "marketing": Purpose("marketing", True)},
        "roles": frozenset({"agent", "billing", "lead"}),
        "rules": (Rule("agent", "crm", "contact", "read", "support", AT),),
    }
    return PolicyDefinition(**{**base, **changes})  # type: ignore[arg-type]


def _messages(policy: PolicyDefinition) -> list[str]:
    return [f.message for f in lint_findings(policy)]


@pytest.mark.parametrize("text, problem", [
    (None, "a justification is needed"),
    ("   ", "a justification is needed"),
    ("short", "at least 8 characters"),
    ("--------", "at least 8 characters"),
    ("customer called us", "reference matching REQ-\\d+"),
    ("  REQ-1  ", "at least 8 characters"),
    ("customer called, REQ-42", None),
])
def test_a_justification_rule_says_why_a_text_falls_short(text: str | None,
                                                           problem: str | None) -> None:
    rule = JustificationRule(8, re.compile(r"REQ-\d+"))
    found = rule.problem(text)
    assert found is None if problem is None else problem in (found or "")
    assert rule.describe() == "at least 8 characters and a reference matching REQ-\\d+"
    assert JustificationRule(4).describe() == "at least 4 characters"


def test_a_purpose_needs_a_justification_only_with_a_rule() -> None:
    assert not Purpose("support").needs_justification
    assert Purpose("fraud", justification=JustificationRule()).needs_justification


def test_sensitivity_and_categories_are_looked_up_by_database() -> None:
    policy = _policy()
    assert policy.sensitivity_of("crm", "payment") == Sensitivity("restricted", 900)
    assert policy.sensitivity_of("crm", "nope") is None
    assert policy.sensitivity_of("hr", "contact") is None
    assert list(policy.categories("crm")) == ["contact", "payment"]
    assert list(policy.categories("hr")) == []


def test_a_consistent_policy_lints_clean() -> None:
    policy = _policy(rules=(Rule("agent", "crm", WILDCARD, "read", "support", AT),),
                     inheritance=(Inheritance("lead", "agent"),))
    assert _messages(policy) == []
    lint(policy)


def test_every_unknown_name_is_a_finding_with_its_source() -> None:
    policy = _policy(
        databases={"crm": {"contact": "secret"}},
        rules=(Rule("ghost", "hr", "x", "read", "support", AT),
               Rule("agent", "crm", "payment", "print", "fun", Source("policy.csv", 4))),
        inheritance=(Inheritance("lead", "nobody", Source("policy.csv", 9)),),
        obligations=(ObligationRule(None, "crm", "contact", "read", Obligation("mask"),
                                    Source("obligations.yaml", 2)),
                     ObligationRule("ghost", "crm", "contact", "read", Obligation("mask")),))
    findings = list(lint_findings(policy))
    assert LintFinding("policy.csv", 3, "unknown role 'ghost'") in findings
    assert LintFinding("policy.csv", 3, "unknown database 'hr'") in findings
    assert LintFinding("policy.csv", 4, "unknown category crm/payment") in findings
    assert LintFinding("policy.csv", 4, "unknown purpose 'fun'") in findings
    assert any(f.line == 4 and f.message.startswith("unknown action 'print'") for f in findings)
    assert LintFinding("policy.csv", 9, "unknown role 'nobody'") in findings
    assert LintFinding("guardian.yaml", 0,
                       "category crm/contact: unknown sensitivity 'secret'") in findings
    assert LintFinding("<memory>", 0, "unknown role 'ghost'") in findings
    assert not any(f.path == "obligations.yaml" for f in findings)  # no role: any role
    with pytest.raises(PolicyLintError) as caught:
        lint(policy)
    assert caught.value.findings == tuple(findings)
    assert caught.value.code == "policy_lint_error"
    assert "policy.csv:3: unknown role 'ghost'" in caught.value.message


def test_an_inheritance_cycle_is_reported_once_where_it_closes() -> None:
    policy = _policy(inheritance=(Inheritance("agent", "billing", Source("policy.csv", 7)),
                                  Inheritance("billing", "agent", Source("policy.csv", 8))))
    assert list(lint_findings(policy)) == [
        LintFinding("policy.csv", 8, "role inheritance cycle through 'billing'")]


def test_a_hierarchy_deeper_than_the_limit_is_refused() -> None:
    names = [f"r{i}" for i in range(MAX_ROLE_DEPTH + 2)]
    chain = tuple(Inheritance(a, b) for a, b in itertools.pairwise(names))
    deep = _policy(roles=frozenset(names), rules=(), inheritance=chain)
    assert _messages(deep) == [f"role 'r0' inherits {MAX_ROLE_DEPTH + 1} levels deep "
                               f"(max {MAX_ROLE_DEPTH})"]
    ok = _policy(roles=frozenset(names), rules=(), inheritance=chain[1:])
    assert _messages(ok) == []

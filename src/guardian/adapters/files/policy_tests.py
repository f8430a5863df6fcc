"""Reads policy test files (``policies/tests/*.yaml``) into :class:`PolicyCase` values.

Format::

    tests:
      - name: alice reads a contact for customer care
        request: {subject: alice, action: read, database: crm, category: contact,
                  purpose: customer-care, customers: [C-1001], justification: INC-1}
        session: {mfa_age: 10m}          # or: none | {mfa: false} | {user: bob}
        expect: {decision: permit, reasons: [permitted], obligations: [mask]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from guardian.adapters.files.policy import parse_duration
from guardian.adapters.files.yaml_lines import LINE_KEY, load_with_lines
from guardian.errors import LintFinding
from guardian.policy.definition import Source
from guardian.policy.model import DecisionRequest
from guardian.policy.testing import PolicyCase, SessionSpec
from guardian.policy.vocabulary import Action, Outcome


def load_cases(paths: list[Path]) -> tuple[list[PolicyCase], list[LintFinding]]:
    cases: list[PolicyCase] = []
    findings: list[LintFinding] = []
    for path in paths:
        try:
            raw = load_with_lines(path)
        except (OSError, yaml.YAMLError) as exc:
            findings.append(LintFinding(str(path), 0, f"cannot read: {exc}"))
            continue
        items = raw.get("tests") if isinstance(raw, dict) else None
        if not isinstance(items, list):
            findings.append(LintFinding(str(path), 1, "expected a `tests:` list"))
            continue
        for item in items:
            line = int(item.get(LINE_KEY, 0)) if isinstance(item, dict) else 0
            try:
                cases.append(_case(item, Source(str(path), line)))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                findings.append(LintFinding(str(path), line, f"bad test case: {exc!r}"))
    return cases, findings


def policy_test_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted([*root.glob("*.yaml"), *root.glob("*.yml")])


def _case(item: dict[str, Any], source: Source) -> PolicyCase:
    req = item["request"]
    database, _, category = str(req.get("resource", "")).partition("/")
    request = DecisionRequest(
        subject_id=str(req["subject"]),
        action=Action(req["action"]),
        database=str(req.get("database", database)),
        category=str(req.get("category", category)),
        purpose=str(req["purpose"]),
        customer_ids=tuple(str(c) for c in req.get("customers", ())),
        justification=req.get("justification"),
    )
    expect = item["expect"]
    return PolicyCase(
        name=str(item["name"]),
        request=request,
        expect=Outcome(expect["decision"]),
        session=_session(item.get("session", {})),
        reasons=_tuple(expect.get("reasons")),
        obligations=_tuple(expect.get("obligations")),
        source=source,
    )


def _session(raw: Any) -> SessionSpec:
    if raw is None or raw == "none":
        return SessionSpec(present=False)
    if not isinstance(raw, dict):
        raise ValueError(f"session must be `none` or a mapping, not {raw!r}")
    age = parse_duration(raw.get("mfa_age", 0)) or 0
    return SessionSpec(present=True, mfa=bool(raw.get("mfa", True)), mfa_age_s=float(age),
                       user=raw.get("user"))


def _tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)

"""Review definitions: the shared format parses; every problem is found with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from guardian.adapters.files.policy import read_policy
from guardian.adapters.files.review_definitions import (
    load_review_definitions,
    read_review_definitions,
)
from guardian.governance.review_definitions import (
    NoAnswer,
    Recurrence,
    ReviewerRule,
    ReviewKind,
    Unit,
)

POLICIES = Path(__file__).resolve().parents[3] / "policies"
PEOPLE = frozenset({"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
                    "judy", "mallory", "nina", "oscar", "peggy"})

CRM_QUARTERLY = """\
# CRM access, recertified every quarter by each person's manager.
title: "CRM access, quarterly"
kind: membership
scope:
  roles: [customer-care, billing, fraud-analyst, marketing, legal-officer]
  grants: true
  keys: false
every: 3 months
stages:
  - reviewer: manager
    fallback: [ivan, peggy]
    days: 14
    reminders: [7, 3, 1]
    escalate_to: [ivan]
no_answer:
  high: revoke
  medium: follow-recommendation
  low: follow-recommendation
justification:
  keep_unused: true
  keep_high: true
  revoke: false
usage_window_days: 90
brake: 0.5
"""

ROLES_YEARLY = """\
title: "CRM role permissions, yearly"
kind: permission
scope:
  roles: [customer-care, billing, fraud-analyst, marketing, legal-officer]
every: 12 months
stages:
  - reviewer: role-owner
    fallback: [ivan, peggy]
    days: 30
    reminders: [14, 7, 1]
no_answer: {high: keep-flagged, medium: keep-flagged, low: keep-flagged}
usage_window_days: 365
brake: 0.5
"""

OWNERS = {"customer-care": "nina", "billing": "nina", "marketing": "nina",
          "fraud-analyst": "oscar", "legal-officer": "oscar"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    copy = tmp_path / "policies"
    shutil.copytree(POLICIES, copy)
    (copy / "reviews").mkdir(exist_ok=True)
    (copy / "reviews" / "crm-quarterly.yaml").write_text(CRM_QUARTERLY, "utf-8")
    (copy / "reviews" / "roles-yearly.yaml").write_text(ROLES_YEARLY, "utf-8")
    return copy


def _read(root: Path) -> tuple[dict, list]:  # type: ignore[type-arg]
    policy, findings = read_policy(root)
    assert findings == [] and policy is not None
    return read_review_definitions(root, policy, PEOPLE)


def test_the_shipped_definitions_lint_clean() -> None:
    policy, findings = read_policy(POLICIES)
    assert findings == [] and policy is not None
    definitions, problems = read_review_definitions(POLICIES, policy, PEOPLE)
    assert problems == []
    assert set(definitions) == {"crm-quarterly", "roles-yearly"}


def test_the_shared_format_parses_into_frozen_definitions(root: Path) -> None:
    definitions, findings = _read(root)

    assert findings == []
    crm = definitions["crm-quarterly"]
    assert crm.kind is ReviewKind.MEMBERSHIP
    assert crm.scope.roles[0] == "customer-care" and crm.scope.grants and not crm.scope.keys
    assert crm.every == Recurrence(3, Unit.MONTHS)
    (stage,) = crm.stages
    assert stage.reviewer is ReviewerRule.MANAGER
    assert (stage.fallback, stage.days, stage.reminders, stage.escalate_to) == (
        ("ivan", "peggy"), 14, (7, 3, 1), ("ivan",))
    assert crm.no_answer_for("high") is NoAnswer.REVOKE
    assert crm.no_answer_for("low") is NoAnswer.FOLLOW_RECOMMENDATION
    assert crm.justification.keep_unused and not crm.justification.revoke
    assert (crm.usage_window_days, crm.brake) == (90, 0.5)
    assert crm.version.startswith("sha256:") and len(crm.version) == 71
    yearly = definitions["roles-yearly"]
    assert yearly.kind is ReviewKind.PERMISSION
    assert yearly.stages[0].reviewer is ReviewerRule.ROLE_OWNER
    assert yearly.no_answer_for("medium") is NoAnswer.KEEP_FLAGGED


def test_role_owners_are_read_from_guardian_yaml(root: Path) -> None:
    policy, findings = read_policy(root)

    assert findings == [] and policy is not None
    assert dict(policy.role_owners) == OWNERS
    assert "customer-care" in policy.roles and "auditor" in policy.roles
    assert "auditor" not in policy.role_owners


def test_an_owner_not_in_the_directory_is_found(root: Path) -> None:
    policy, _ = read_policy(root)
    assert policy is not None

    _, findings = read_review_definitions(root, policy, PEOPLE - {"oscar"})

    assert any("owner 'oscar' is not in the directory" in f.message for f in findings)
    assert all(f.path.endswith("guardian.yaml") and f.line > 0 for f in findings
               if "owner" in f.message)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  roles: [customer-care, billing, fraud-analyst, marketing, legal-officer]",
     "  roles: [customer-care, janitor]", "scope.roles: unknown role 'janitor'"),
    ("  - reviewer: manager", "  - reviewer: boss", "stage 1.reviewer"),
    ("    fallback: [ivan, peggy]", "    fallback: [ivan, zed]",
     "stage 1.fallback: 'zed' is not in the directory"),
    ("    escalate_to: [ivan]", "    escalate_to: [nobody]",
     "stage 1.escalate_to: 'nobody' is not in the directory"),
    ("  high: revoke", "  high: shred", "no_answer.high: 'shred' is not one of"),
    ("  high: revoke", "  extreme: revoke", "no_answer: unknown sensitivity 'extreme'"),
    ("every: 3 months", "every: quarterly", "every: 'quarterly'"),
    ("kind: membership", "kind: vibes", "kind: 'vibes'"),
    ("brake: 0.5", "brake: 2", "brake must be a share"),
    ("    days: 14", "    days: 0", "stage 1.days must be a whole number"),
    ("    reminders: [7, 3, 1]", "    reminders: [20, 3]", "a reminder must come before"),
    ("  grants: true", "  grants: true\n  owners: [x]", "scope: unknown key 'owners'"),
    ("  keep_high: true", "  keep_high: maybe", "justification: keep_high must be true"),
])
def test_each_problem_is_found_with_file_and_line(
    root: Path, old: str, new: str, message: str
) -> None:
    path = root / "reviews" / "crm-quarterly.yaml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")

    definitions, findings = _read(root)

    matching = [f for f in findings if message in f.message]
    assert matching, findings
    assert all(f.path == str(path) and f.line > 0 for f in matching)
    assert "roles-yearly" in definitions  # one bad file does not hide the others


def test_the_line_of_a_finding_is_the_line_of_its_mapping(root: Path) -> None:
    path = root / "reviews" / "crm-quarterly.yaml"
    path.write_text(CRM_QUARTERLY.replace("fallback: [ivan, peggy]", "fallback: [ivan, zed]"))

    _, findings = _read(root)

    (finding,) = findings
    lines = CRM_QUARTERLY.splitlines()
    assert lines[finding.line - 1].strip().startswith("- reviewer: manager")


def test_a_role_owner_stage_without_fallback_needs_every_owner(root: Path) -> None:
    path = root / "reviews" / "roles-yearly.yaml"
    text = ROLES_YEARLY.replace("    fallback: [ivan, peggy]\n", "").replace(
        "marketing, legal-officer]", "marketing, legal-officer, auditor]")
    path.write_text(text, "utf-8")

    _, findings = _read(root)

    assert [f.message for f in findings] == [
        "stage 1: role 'auditor' has no owner in guardian.yaml and the stage has no fallback"]


def test_named_reviewers_and_bad_yaml(root: Path) -> None:
    (root / "reviews" / "named.yaml").write_text(ROLES_YEARLY.replace(
        "reviewer: role-owner", "reviewer: [judy, ghost]"), "utf-8")
    (root / "reviews" / "broken.yaml").write_text("title: [unclosed\n", "utf-8")

    definitions, findings = _read(root)

    assert definitions["named"].stages[0].named == ("judy", "ghost")
    assert any("'ghost' is not in the directory" in f.message for f in findings)
    assert any(f.path.endswith("broken.yaml") and "invalid YAML" in f.message
               for f in findings)
    policy, _ = read_policy(root)
    assert policy is not None
    clean = load_review_definitions(root, policy, PEOPLE)
    assert set(clean) == {"crm-quarterly", "roles-yearly"}


@pytest.mark.parametrize(("every", "start", "expected"), [
    (Recurrence(3, Unit.MONTHS), "2026-11-30T10:00:00", "2027-02-28T10:00:00"),
    (Recurrence(12, Unit.MONTHS), "2026-01-31T00:00:00", "2027-01-31T00:00:00"),
    (Recurrence(1, Unit.YEARS), "2028-02-29T00:00:00", "2029-02-28T00:00:00"),
    (Recurrence(2, Unit.WEEKS), "2026-12-01T00:00:00", "2026-12-15T00:00:00"),
    (Recurrence(10, Unit.DAYS), "2026-12-01T00:00:00", "2026-12-11T00:00:00"),
])
def test_recurrence_moves_by_calendar_months(every: Recurrence, start: str, expected: str
                                             ) -> None:
    from datetime import UTC, datetime

    at = datetime.fromisoformat(start).replace(tzinfo=UTC).timestamp()
    got = datetime.fromtimestamp(every.next_after(at), UTC).isoformat()
    assert got.startswith(expected)

"""Reading ``policies/``: the shipped policy is clean; each problem is found with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from guardian.adapters.files.policy import load_policy, parse_duration, read_policy
from guardian.errors import LintFinding, PolicyLintError

POLICIES = Path(__file__).resolve().parents[4] / "policies"
BAD_LINE_AT = 7
"""Where a bad rule is inserted into policy.csv (1-based), between genuine rules."""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    copy = tmp_path / "policies"
    shutil.copytree(POLICIES, copy)
    return copy


def _insert_rule(root: Path, line: str) -> Path:
    path = root / "policy.csv"
    lines = path.read_text("utf-8").splitlines()
    lines.insert(BAD_LINE_AT - 1, line)
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _replace(path: Path, old: str, new: str) -> int:
    """Replace the one line ``old`` in ``path`` by ``new``; return its line number."""
    lines = path.read_text("utf-8").splitlines()
    number = lines.index(old) + 1
    lines[number - 1] = new
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return number


def _only(findings: list[LintFinding]) -> LintFinding:
    assert len(findings) == 1, findings
    return findings[0]


def test_the_shipped_policy_reads_clean() -> None:
    policy, findings = read_policy(POLICIES)

    assert findings == []
    assert policy is not None
    assert {"customer-care", "billing", "legal-officer", "auditor"} <= policy.roles
    assert len(policy.rules) == 21
    assert policy.version.startswith("sha256:")
    assert policy.purposes["marketing"].needs_consent
    assert policy.purposes["legal-requisition"].needs_justification
    high = policy.sensitivity_of("crm", "economic-financial")
    low = policy.sensitivity_of("crm", "products-services")
    assert high is not None and high.mfa_max_age_s == 900
    assert low is not None and low.mfa_max_age_s is None
    (obligation,) = policy.obligations
    assert (obligation.role, obligation.category, obligation.obligation.fields) == (
        "billing", "economic-financial", ("iban",))


def test_each_rule_remembers_the_line_it_was_written_on() -> None:
    policy = load_policy(POLICIES)
    lines = (POLICIES / "policy.csv").read_text("utf-8").splitlines()

    for rule in policy.rules:
        written = [f.strip() for f in lines[rule.source.line - 1].split(",")]
        assert written[1:] == [rule.role, rule.database, rule.category, rule.action,
                               rule.purpose]


def test_the_version_changes_when_a_policy_file_changes(root: Path) -> None:
    before = read_policy(root)[0]
    _insert_rule(root, "p, billing, crm, location, read, billing")

    after = read_policy(root)[0]

    assert before is not None and after is not None
    assert before.version == load_policy(POLICIES).version
    assert after.version != before.version


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("p, ghost-role, crm, contact, read, customer-care", "unknown role 'ghost-role'"),
        ("p, billing, crm, dna, read, billing", "unknown category crm/dna"),
        ("p, billing, erp, contact, read, billing", "unknown database 'erp'"),
        ("p, billing, crm, contact, read, gossip", "unknown purpose 'gossip'"),
        ("p, billing, crm, contact, sell, billing", "unknown action 'sell'"),
        ("p, billing, crm, contact, read", "expected `p, role, database"),
        ("p, billing, crm, contact, read, billing, extra", "expected `p, role, database"),
        ("x, billing, crm", "expected `p, role, database"),
        ("g, billing, ghost-parent", "unknown role 'ghost-parent'"),
    ],
)
def test_a_bad_rule_is_found_at_its_file_and_line(root: Path, line: str, message: str) -> None:
    path = _insert_rule(root, line)

    _, findings = read_policy(root)

    finding = _only(findings)
    assert (finding.path, finding.line) == (str(path), BAD_LINE_AT)
    assert message in finding.message


def test_every_bad_line_is_reported_at_once(root: Path) -> None:
    path = root / "policy.csv"
    with path.open("a", encoding="utf-8") as handle:
        handle.write("p, ghost, crm, contact, read, billing\np, billing, crm, contact\n")
    last = len(path.read_text("utf-8").splitlines())

    _, findings = read_policy(root)

    assert sorted((f.path, f.line) for f in findings) == [(str(path), last - 1),
                                                          (str(path), last)]
    with pytest.raises(PolicyLintError) as caught:
        load_policy(root)
    assert len(caught.value.findings) == 2


def test_an_obligation_for_an_unknown_role_is_found_at_its_line(root: Path) -> None:
    path = root / "guardian.yaml"
    number = _replace(path, "  - role: billing", "  - role: ghost-role")

    _, findings = read_policy(root)

    finding = _only(findings)
    assert (finding.path, finding.line) == (str(path), number)
    assert "unknown role 'ghost-role'" in finding.message


def test_an_obligation_missing_a_field_is_found_at_its_line(root: Path) -> None:
    path = root / "guardian.yaml"
    number = path.read_text("utf-8").splitlines().index("  - role: billing") + 1
    _replace(path, "    category: economic-financial", "    kategory: economic-financial")

    _, findings = read_policy(root)

    finding = _only(findings)
    assert (finding.path, finding.line) == (str(path), number)
    assert "category" in finding.message


def test_a_bad_duration_is_found_at_its_line(root: Path) -> None:
    path = root / "guardian.yaml"
    number = _replace(path, "  high: {mfa_max_age: 15m}", "  high: {mfa_max_age: 15 minutes}")

    _, findings = read_policy(root)

    assert (str(path), number) in {(f.path, f.line) for f in findings}
    assert any("bad duration" in f.message for f in findings)


def test_invalid_yaml_is_a_finding_not_an_exception(root: Path) -> None:
    path = root / "guardian.yaml"
    number = _replace(path, "  high: {mfa_max_age: 15m}", "  high: {mfa_max_age: [15m}")

    policy, findings = read_policy(root)

    assert policy is None
    finding = _only(findings)
    assert finding.path == str(path)
    assert finding.line >= number
    assert "invalid YAML" in finding.message


def test_a_missing_policy_file_is_a_finding(root: Path) -> None:
    (root / "model.conf").unlink()

    policy, findings = read_policy(root)

    assert policy is None
    assert [(f.path, f.line) for f in findings] == [(str(root / "model.conf"), 0)]


def test_a_model_of_another_shape_is_a_finding(root: Path) -> None:
    model = root / "model.conf"
    model.write_text(model.read_text("utf-8").replace("act, purpose", "act"), "utf-8")

    _, findings = read_policy(root)

    assert findings
    assert all(f.path == str(model) for f in findings)


@pytest.mark.parametrize(("value", "seconds"), [
    (None, None), (90, 90), (0, 0), ("30s", 30), ("15m", 900), ("8h", 28800), ("1d", 86400),
    (" 2 h ", 7200),
])
def test_durations_are_read_in_seconds(value: object, seconds: int | None) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["15", "15 minutes", "1w", "-5m", -1, True, 1.5, "m"])
def test_a_bad_duration_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(value)


def test_the_shipped_justification_rules_and_bulk_purposes_are_read() -> None:
    policy = load_policy(POLICIES)
    rule = policy.purposes["legal-requisition"].justification
    assert rule is not None and rule.pattern is not None
    assert rule.problem("REQ-2026-118") is None
    for blank in (None, "", " ", "-", "--------", "the police asked"):
        assert rule.problem(blank) is not None, blank
    assert policy.purposes["fraud-prevention"].bulk
    assert not policy.purposes["customer-care"].bulk


@pytest.mark.parametrize(("spec", "message"), [
    ("{min_length: 8, pattern: 'REQ-(\\d+'}", "not a valid regular expression"),
    ("{min_length: 0}", "min_length must be 1 to 1024"),
    ("{min_len: 8}", "unknown key 'min_len'"),
    ("yes please", "justification must be true, false or"),
])
def test_a_bad_justification_rule_is_found_at_its_line(
    root: Path, spec: str, message: str
) -> None:
    path = root / "guardian.yaml"
    old = "    justification: {min_length: 8, pattern: 'REQ-\\d+'}"
    number = _replace(path, old, f"    justification: {spec}")
    _, findings = read_policy(root)
    finding = _only(findings)
    assert finding.path == str(path) and number - 2 <= finding.line <= number, finding
    assert message in finding.message


def test_an_unknown_purpose_key_is_found(root: Path) -> None:
    path = root / "guardian.yaml"
    old = '  fraud-prevention: {description: "detecting and investigating fraud", bulk: true}'
    number = _replace(path, old, old.replace("bulk: true", "bluk: true"))
    finding = _only(read_policy(root)[1])
    assert finding.line == number and "unknown key 'bluk'" in finding.message

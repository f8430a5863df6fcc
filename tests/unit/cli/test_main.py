"""The `guardian` command: policy lint and test, check, users, audit verify, with exit codes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from guardian.cli.main import app
from support import ROOT

runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GUARDIAN_DATA_DIR", str(tmp_path / "var"))


def test_policy_lint_passes_on_the_shipped_policy() -> None:
    result = runner.invoke(app, ["policy", "lint"])
    assert result.exit_code == 0, result.output
    assert "21 rules" in result.output


def test_policy_lint_names_file_and_line_of_each_problem(tmp_path: Path) -> None:
    broken = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", broken)
    csv = broken / "policy.csv"
    csv.write_text(csv.read_text() + "p, janitor, crm, contact, read, customer-care\n"
                   "p, billing, crm, dreams, read, billing\n"
                   "p, billing, crm, contact, fly, billing\n"
                   "p, billing, crm, contact, read, gossip\n")
    lines = len(csv.read_text().splitlines())
    result = runner.invoke(app, ["policy", "lint", str(broken)], terminal_width=200)
    assert result.exit_code == 1
    out = result.output
    assert f"policy.csv:{lines - 3}: unknown role 'janitor'" in out
    assert f"policy.csv:{lines - 2}: unknown category crm/dreams" in out
    assert f"policy.csv:{lines - 1}: unknown action 'fly'" in out
    assert f"policy.csv:{lines}: unknown purpose 'gossip'" in out


def test_policy_test_runs_the_shipped_cases() -> None:
    result = runner.invoke(app, ["policy", "test"])
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.output


def test_policy_test_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    case = tmp_path / "wrong.yaml"
    case.write_text("tests:\n  - name: mallory is wrongly expected to read\n"
                    "    request: {subject: mallory, action: read, resource: crm/contact, "
                    "purpose: customer-care}\n    expect: {decision: permit}\n")
    result = runner.invoke(app, ["policy", "test", str(case)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert re.search(r"^fail +mallory is wrongly expected to read ", result.stdout, re.M)
    assert "not_authorised" in result.stdout
    assert "0 passed, 1 failed" in result.stderr


@pytest.mark.parametrize(("args", "code", "text"), [
    (["alice", "read", "crm/contact", "-p", "customer-care"], 0, "PERMIT"),
    (["dave", "read", "crm/contact", "-p", "marketing", "-c", "C-1001", "-c", "C-1008"], 1,
     "consent_missing"),
    (["carol", "read", "crm/location", "-p", "fraud-prevention", "--mfa-age", "1h"], 1,
     "mfa_stale"),
    (["alice", "read", "crm/contact", "-p", "customer-care", "--no-session"], 1,
     "authentication_required"),
    (["alice", "fly", "crm/contact", "-p", "customer-care"], 2, "fly"),
])
def test_check_prints_the_decision_and_exits_accordingly(
    args: list[str], code: int, text: str
) -> None:
    result = runner.invoke(app, ["check", *args], terminal_width=200)
    assert result.exit_code == code, result.output
    assert text in result.output


def test_users_lists_the_demo_directory() -> None:
    result = runner.invoke(app, ["users"], terminal_width=200)
    assert result.exit_code == 0
    for uid in ("alice", "frank", "grace", "heidi", "mallory"):
        assert uid in result.output
    assert "disabled" in result.output
    as_json = {u["uid"]: u for u in orjson.loads(
        runner.invoke(app, ["users", "--output", "json"]).stdout)}
    assert (as_json["grace"]["supplier"], as_json["grace"]["contract_clause"]) == (
        "QuickCall", False)


def _journal(tmp_path: Path, events: int) -> Path:
    from guardian.journal.writer import FileJournal

    path = tmp_path / "journal.jsonl"
    journal = FileJournal(path, fsync=False)
    for i in range(events):
        journal.append({"event": {"action": "test"}, "guardian": {"n": i}})
    journal.close()
    return path


def test_audit_verify_accepts_an_intact_journal(tmp_path: Path) -> None:
    path = _journal(tmp_path, 20)
    result = runner.invoke(app, ["audit", "verify", "--journal", str(path), "--trust-demo-key"])
    assert result.exit_code == 0, result.output
    assert "chain intact" in result.output and "20 events" in result.output


def test_audit_verify_without_pinned_keys_does_not_call_the_trail_authentic(
    tmp_path: Path,
) -> None:
    path = _journal(tmp_path, 20)
    result = runner.invoke(app, ["audit", "verify", "--journal", str(path)], terminal_width=200)
    assert result.exit_code == 3, result.output
    assert "NOT authenticated" in result.output and "chain intact" not in result.output


def test_audit_verify_names_the_first_modified_event(tmp_path: Path) -> None:
    path = _journal(tmp_path, 20)
    lines = path.read_bytes().splitlines(keepends=True)
    event = orjson.loads(lines[6])
    event["guardian"]["n"] = 999
    lines[6] = orjson.dumps(event, option=orjson.OPT_SORT_KEYS) + b"\n"
    path.write_bytes(b"".join(lines))
    result = runner.invoke(app, ["audit", "verify", "--journal", str(path)], terminal_width=200)
    assert result.exit_code == 1
    assert "chain broken at 7: modified" in result.output


def test_policy_lint_also_lints_review_definitions(tmp_path: Path) -> None:
    broken = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", broken)
    (broken / "reviews").mkdir(exist_ok=True)
    (broken / "reviews" / "odd.yaml").write_text(
        "title: odd\nkind: membership\nscope:\n  roles: [janitor]\nevery: 1 years\n"
        "stages:\n  - reviewer: [ghost]\n    days: 10\n")
    result = runner.invoke(app, ["policy", "lint", str(broken)], terminal_width=200)
    assert result.exit_code == 1
    assert "odd.yaml:4: scope.roles: unknown role 'janitor'" in result.output
    assert "odd.yaml:7: stage 1.reviewer: 'ghost' is not in the directory" in result.output

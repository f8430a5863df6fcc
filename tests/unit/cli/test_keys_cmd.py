"""``guardian db``, ``guardian keys`` and ``guardian mfa``: migrations, API keys printed once,
TOTP enrolment with its QR code and recovery codes, and refusals when the journal is busy."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from guardian.adapters.files.applications import FileApplications
from guardian.adapters.sql.alembic_runner import head
from guardian.adapters.sql.api_keys import SqlApiKeys
from guardian.adapters.sql.store import make_engine
from guardian.cli.main import app
from guardian.clock import SystemClock
from guardian.governance.views import KeyView
from guardian.identity import enrolment
from guardian.identity.totp import code_at
from guardian.journal.writer import FileJournal
from mfa_support import directory_with_newcomer
from support import ROOT

runner = CliRunner()
SEED = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GUARDIAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GUARDIAN_JOURNAL_FSYNC", "false")
    return tmp_path / "var"


def _events(data_dir: Path) -> list[str]:
    """The actions journalled, leaving out the journal's own (checkpoints)."""
    lines = (data_dir / "audit" / "journal.jsonl").read_text().splitlines()
    actions = [orjson.loads(line)["event"]["action"] for line in lines
               if not line.startswith('{"seal":')]
    return [a for a in actions if not a.startswith("audit.")]


def test_db_current_says_empty_until_db_upgrade_brings_it_to_head(_in_repo: Path) -> None:
    _in_repo.mkdir(parents=True)
    before = runner.invoke(app, ["db", "current"])
    upgraded = runner.invoke(app, ["db", "upgrade"])
    after = runner.invoke(app, ["db", "current"])

    assert before.exit_code == 1 and "empty" in before.output
    assert upgraded.exit_code == 0, upgraded.output
    assert f"database at {head()}" in upgraded.output
    assert after.exit_code == 0 and f"{head()} (head)" in after.output


def test_keys_create_prints_the_key_once_and_list_and_revoke_follow(_in_repo: Path) -> None:
    created = runner.invoke(app, ["keys", "create", "crm-web", "--actor", "ivan"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    key_id = re.search(r"created key (\w+)", created.output)
    assert key.startswith("gk_") and key_id is not None

    listed = runner.invoke(app, ["keys", "list"], terminal_width=200)
    revoked = runner.invoke(app, ["keys", "revoke", key_id.group(1)])
    again = runner.invoke(app, ["keys", "revoke", key_id.group(1)])

    assert "crm-web" in listed.output and "active" in listed.output and key not in listed.output
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert again.exit_code == 2 and "not_found" in again.output
    engine = make_engine(f"sqlite:///{_in_repo / 'guardian.db'}")
    assert KeyView(SqlApiKeys(engine).active_keys()).application_for(key) is None
    engine.dispose()
    assert _events(_in_repo) == ["governance.api_key_created", "governance.api_key_revoked"]


def test_a_key_made_on_the_command_line_opens_the_decision_api(_in_repo: Path) -> None:
    key = runner.invoke(app, ["keys", "create", "billing-batch"]).output.strip().splitlines()[-1]

    engine = make_engine(f"sqlite:///{_in_repo / 'guardian.db'}")
    keys = KeyView(SqlApiKeys(engine, FileApplications(ROOT / "policies/demo/applications.yaml")).active_keys())
    assert keys.application_for(key) == "billing-batch"
    assert keys.application_for("demo-app-key") == "demo-app"
    engine.dispose()


def test_nothing_changes_while_another_process_holds_the_journal(_in_repo: Path) -> None:
    server = FileJournal(_in_repo / "audit" / "journal.jsonl", fsync=False)
    try:
        result = runner.invoke(app, ["keys", "create", "crm-web"])
    finally:
        server.close()

    assert result.exit_code == 2 and "audit_unavailable" in result.output
    assert "gk_" not in result.output
    listed = runner.invoke(app, ["keys", "list"], terminal_width=200)
    assert "crm-web" not in listed.output


def test_mfa_enroll_shows_uri_qr_and_recovery_codes_then_activates_with_the_first_code(
    monkeypatch: pytest.MonkeyPatch, _in_repo: Path
) -> None:
    monkeypatch.setattr(enrolment, "new_totp_secret", lambda: SEED)
    code = code_at(SEED, SystemClock().now())

    result = runner.invoke(app, ["mfa", "enroll", "mallory"], input=f"{code}\n",
                           terminal_width=200)

    assert result.exit_code == 0, result.output
    assert f"otpauth://totp/Guardian:mallory?secret={SEED}" in result.output
    assert "▀" in result.output or "█" in result.output  # the QR code, in block characters
    assert len(re.findall(r"^  ([a-z2-9]{4}-){3}[a-z2-9]{4}$", result.output, re.M)) == 10
    assert "replaces the current authenticator" in result.output  # mallory's demo seed
    assert "active" in result.output
    assert _events(_in_repo) == ["mfa.enrolment_started", "mfa.factor_activated"]
    assert SEED not in (_in_repo / "audit" / "journal.jsonl").read_text()


def test_mfa_enroll_with_a_wrong_code_leaves_it_pending_for_mfa_activate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(enrolment, "new_totp_secret", lambda: SEED)
    now = SystemClock().now()
    valid = {code_at(SEED, now + d) for d in (-30, 0, 30)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)

    refused = runner.invoke(app, ["mfa", "enroll", "carol", "--code", wrong])
    activated = runner.invoke(app, ["mfa", "activate", "carol", "--code",
                                    code_at(SEED, SystemClock().now())])

    assert refused.exit_code == 1 and "still pending" in refused.output
    assert activated.exit_code == 0, activated.output


def test_mfa_invite_prints_a_single_use_code_once_and_journals_it_without_the_code(
    monkeypatch: pytest.MonkeyPatch, _in_repo: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv("GUARDIAN_DIRECTORY_FILE", str(directory_with_newcomer(tmp_path)))

    result = runner.invoke(app, ["mfa", "invite", "otto"], terminal_width=200)
    enrolled = runner.invoke(app, ["mfa", "invite", "alice"], terminal_width=200)

    assert result.exit_code == 0, result.output
    codes = re.findall(r"^  ((?:[a-z2-9]{4}-){4}[a-z2-9]{4})$", result.output, re.M)
    assert len(codes) == 1
    assert enrolled.exit_code == 2 and "already_enrolled" in enrolled.output
    assert _events(_in_repo) == ["mfa.invitation_created"]
    assert codes[0] not in (_in_repo / "audit" / "journal.jsonl").read_text()


def test_mfa_enroll_refuses_someone_not_in_the_directory() -> None:
    result = runner.invoke(app, ["mfa", "enroll", "zoe", "--no-activate"])

    assert result.exit_code == 2 and "not in the directory" in result.output


def test_mfa_enroll_starts_nothing_while_another_process_holds_the_journal(
    _in_repo: Path,
) -> None:
    server = FileJournal(_in_repo / "audit" / "journal.jsonl", fsync=False)
    try:
        result = runner.invoke(app, ["mfa", "enroll", "alice", "--no-activate"])
    finally:
        server.close()

    assert result.exit_code == 2 and "audit_unavailable" in result.output
    assert "otpauth://" not in result.output
    activated = runner.invoke(app, ["mfa", "activate", "alice", "--code", "123456"])
    assert activated.exit_code == 2 and "not_found" in activated.output

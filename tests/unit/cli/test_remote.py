"""While a server runs, administrative commands go through it as the person signed in: no
session, an expired one or one for another server is a clear ``not_signed_in`` before anything
is sent; a server that does not answer is ``server_unreachable``; nothing is done locally."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from guardian.adapters.files.cli_state import FileCliSessions
from guardian.cli.main import app
from guardian.ports import CliSession
from support import ROOT

runner = CliRunner()
URL = "http://127.0.0.1:9"  # discard: nothing answers there


@pytest.fixture(autouse=True)
def client_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GUARDIAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GUARDIAN_URL", URL)
    monkeypatch.setenv("GUARDIAN_CLI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("GUARDIAN_CLI_TIMEOUT_S", "2")
    return tmp_path / "config" / "session.json"


def _keep(path: Path, url: str, expires_at: float) -> None:
    FileCliSessions(path).save(CliSession(url, "ivan", "t0ken", expires_at))


def test_nobody_signed_in_is_refused_with_the_way_out(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "create", "crm-batch"])

    assert result.exit_code == 2
    assert "not_signed_in" in result.output and "guardian login" in result.output
    assert not (tmp_path / "var" / "audit" / "journal.jsonl").exists()  # nothing done locally


def test_an_expired_session_or_one_for_another_server_is_not_used(client_env: Path) -> None:
    _keep(client_env, URL, 1.0)
    expired = runner.invoke(app, ["grants", "revoke", "01J", "--reason", "done"])
    _keep(client_env, "http://127.0.0.1:8000", 4_000_000_000.0)
    elsewhere = runner.invoke(app, ["keys", "revoke", "01J"])

    assert expired.exit_code == 2 and "expired" in expired.output
    assert elsewhere.exit_code == 2 and "not_signed_in" in elsewhere.output


def test_a_server_that_does_not_answer_is_named(client_env: Path) -> None:
    _keep(client_env, URL, 4_000_000_000.0)

    result = runner.invoke(app, ["keys", "list"])

    assert result.exit_code == 2
    assert "server_unreachable" in result.output and URL in result.output


def test_login_without_any_server_says_how_to_find_one(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUARDIAN_URL")

    result = runner.invoke(app, ["login", "--user", "ivan", "--password", "x", "--code", "1"])

    assert result.exit_code == 2 and "GUARDIAN_URL" in result.output

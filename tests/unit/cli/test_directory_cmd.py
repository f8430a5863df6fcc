"""`guardian directory sync` without LDAP: it explains what to configure and exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from guardian.cli.main import app
from support import ROOT, TEST_SECRET_KEY

runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GUARDIAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("GUARDIAN_DIRECTORY", raising=False)


def test_sync_with_the_file_directory_says_there_is_nothing_to_sync() -> None:
    result = runner.invoke(app, ["directory", "sync", "--dry-run"], terminal_width=200)
    assert result.exit_code == 2
    assert "GUARDIAN_DIRECTORY=ldap" in result.output


def test_sync_with_incomplete_ldap_settings_is_a_configuration_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUARDIAN_DEMO", "false")
    monkeypatch.setenv("GUARDIAN_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("GUARDIAN_DIRECTORY", "ldap")
    result = runner.invoke(app, ["directory", "sync"], terminal_width=200)
    assert result.exit_code == 2
    assert "GUARDIAN_LDAP_URL" in result.output


def test_sync_against_an_unreachable_directory_fails_with_the_reason_and_writes_nothing(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in {"DEMO": "false", "SECRET_KEY": TEST_SECRET_KEY,
                       "DIRECTORY": "ldap", "LDAP_URL": "ldap://127.0.0.1:1",
                       "LDAP_BASE_DN": "dc=x", "LDAP_BIND_DN": "cn=svc,dc=x",
                       "LDAP_BIND_PASSWORD": "pw", "LDAP_TIMEOUT_S": "1"}.items():
        monkeypatch.setenv(f"GUARDIAN_{key}", value)
    result = runner.invoke(app, ["directory", "sync"], terminal_width=200)
    assert result.exit_code == 2
    assert "LDAP unavailable" in result.output and "pw" not in result.output.split()
    assert not (tmp_path / "var" / "directory" / "snapshot.json").exists()

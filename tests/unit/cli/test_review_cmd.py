"""``guardian review``: an officer opens and closes a campaign, a reviewer reads their inbox and
decides, with --output json|csv; refusals print their code and exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner, Result

from guardian.cli.main import app
from support import ROOT

runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GUARDIAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GUARDIAN_JOURNAL_FSYNC", "false")
    monkeypatch.setenv("GUARDIAN_DEMO_HISTORY", "0")


def _run(*args: str) -> Result:
    return runner.invoke(app, ["review", *args], terminal_width=200)


def _json(*args: str) -> Any:
    result = _run(*args, "--output", "json")
    assert result.exit_code == 0, result.output
    return orjson.loads(result.output)


def test_open_inbox_decide_close_confirm_from_the_command_line() -> None:
    assert {d["name"] for d in _json("definitions")} == {"crm-quarterly", "roles-yearly"}
    [campaign] = _json("open", "crm-quarterly", "--actor", "ivan")
    assert campaign["state"] == "open" and campaign["items"] == 8

    inbox = _json("inbox", "--actor", "nina")
    assert {i["uid"] for i in inbox} == {"alice", "bob", "dave", "frank", "grace", "heidi"}
    dave = next(i for i in inbox if i["uid"] == "dave")
    [decided] = _json("decide", dave["id"], "--revoke", "--actor", "nina")
    assert decided["decision"] == "revoke"
    refused = _run("decide", dave["id"], "--keep", "--actor", "oscar")
    assert refused.exit_code == 2 and "not_your_item" in refused.output

    assert "closing" in _run("close", campaign["id"], "--actor", "ivan").output
    assert "remediating" in _run("confirm", campaign["id"], "--actor", "ivan").output
    [listed] = _json("list")
    assert (listed["state"], listed["revoke"], listed["pending"]) == ("remediating", 8, 0)
    csv = _run("show", campaign["id"], "--output", "csv")
    assert csv.exit_code == 0 and csv.output.splitlines()[0].startswith("id,uid,access")
    assert "nothing due" in _run("run-due").output

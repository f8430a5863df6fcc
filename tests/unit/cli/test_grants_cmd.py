"""``guardian grants create|list|revoke`` and ``guardian keys list|revoke`` on the applications
file's keys: the same use cases and refusals as the HTTP API, journalled the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner, Result

from guardian.adapters.files.applications import FileApplications
from guardian.adapters.sql.api_keys import SqlApiKeys
from guardian.adapters.sql.store import SqlStore, make_engine
from guardian.cli.main import app
from guardian.governance.views import KeyView
from support import ROOT

runner = CliRunner()
DEMO_KEY_ID = "file-5181bf7b72b66a9c"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GUARDIAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GUARDIAN_JOURNAL_FSYNC", "false")
    return tmp_path / "var"


def _events(data_dir: Path) -> list[dict[str, Any]]:
    lines = (data_dir / "audit" / "journal.jsonl").read_text().splitlines()
    events = [orjson.loads(line) for line in lines if not line.startswith('{"seal":')]
    return [e for e in events if not e["event"]["action"].startswith("audit.")]


def _create(*extra: str) -> Result:
    return runner.invoke(app, ["grants", "create", "bob", "fraud-analyst", "--expires-in", "2h",
                               "-j", "INC-4711", "--actor", "ivan", *extra])


def test_grants_create_list_and_revoke_with_a_reason(
    _in_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = runner.invoke(app, ["grants", "create", "bob", "fraud-analyst",
                                  "--expires-in", "2h", "-j", "INC-4711", "--actor", "ivan",
                                  "--output", "json"])
    assert created.exit_code == 0, created.output
    grant_id = orjson.loads(created.output)["id"]

    table = runner.invoke(app, ["grants", "list"], env={"COLUMNS": "250"})
    revoked = runner.invoke(app, ["grants", "revoke", grant_id, "--reason", "wave over",
                                  "--actor", "ivan"])
    listed = runner.invoke(app, ["grants", "list", "--user", "bob", "--output", "json"])
    nobody = runner.invoke(app, ["grants", "list", "--user", "carol", "--output", "json"])

    assert grant_id in table.output and "active" in table.output
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    [grant] = orjson.loads(listed.stdout)
    assert (grant["id"], grant["revoked_by"], grant["revoke_reason"]) == (
        grant_id, "ivan", "wave over")
    assert orjson.loads(nobody.stdout) == []
    assert [e["event"]["action"] for e in _events(_in_repo)] == [
        "governance.grant_created", "governance.grant_revoked"]
    engine = make_engine(f"sqlite:///{_in_repo / 'guardian.db'}")
    assert SqlStore(engine).list_grants("bob")[0].revoked
    engine.dispose()


def test_grants_revoke_refuses_an_unknown_or_already_revoked_grant() -> None:
    created = _create("--output", "json")
    grant_id = orjson.loads(created.output)["id"]
    runner.invoke(app, ["grants", "revoke", grant_id, "--reason", "done"])

    again = runner.invoke(app, ["grants", "revoke", grant_id, "--reason", "done"])
    unknown = runner.invoke(app, ["grants", "revoke", "01NOPE", "--reason", "done"])

    assert again.exit_code == 2 and "grant_already_revoked" in again.output
    assert unknown.exit_code == 2 and "grant_not_found" in unknown.output


@pytest.mark.parametrize(("args", "code"), [
    (["bob", "security-officer", "--expires-in", "1h"], "role_not_grantable"),
    (["bob", "billing", "--expires-in", "1h", "--starts-at", "1970-01-01T00:00:00Z"],
     "starts_at_in_past"),
    (["ivan", "billing", "--expires-in", "1h"], "self_grant_forbidden"),
])
def test_grants_create_refuses_like_the_api(args: list[str], code: str) -> None:
    result = runner.invoke(app, ["grants", "create", *args, "-j", "INC-1", "--actor", "ivan"])

    assert result.exit_code == 2 and code in result.output


def test_keys_list_shows_the_applications_file_and_revoke_stops_its_key(_in_repo: Path
                                                                       ) -> None:
    applications = (ROOT / "policies/demo/applications.yaml").read_bytes()
    listed = runner.invoke(app, ["keys", "list"], terminal_width=200)
    revoked = runner.invoke(app, ["keys", "revoke", DEMO_KEY_ID, "--actor", "ivan"])
    as_json = runner.invoke(app, ["keys", "list", "--output", "json"])

    assert DEMO_KEY_ID in listed.output and "demo-app" in listed.output
    assert "file" in listed.output
    assert revoked.exit_code == 0, revoked.output
    [key] = orjson.loads(as_json.stdout)
    assert (key["id"], key["source"], key["active"]) == (DEMO_KEY_ID, "file", False)
    engine = make_engine(f"sqlite:///{_in_repo / 'guardian.db'}")
    keys = KeyView(SqlApiKeys(engine, FileApplications(ROOT / "policies/demo/applications.yaml")).active_keys())
    assert keys.application_for("demo-app-key") is None
    engine.dispose()
    assert (ROOT / "policies/demo/applications.yaml").read_bytes() == applications

"""``--output table|json|csv`` on every listing: json and csv parse back to the data they came
from, the table takes the terminal's width (60 and 160 columns) without cutting an id or a
timestamp, and ``guardian --version`` and shell completion are there."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner, Result

from guardian.bootstrap import build, build_what_if
from guardian.cli.main import app
from guardian.cli.output import csv_cell
from guardian.clock import ManualClock
from guardian.config import Settings
from guardian.identity.directory_sync import SyncedDirectory
from guardian.identity.principal import Principal
from guardian.identity.vocabulary import EmployeeType
from guardian.policy.model import DecisionRequest
from guardian.policy.vocabulary import Action
from support import ROOT

runner = CliRunner()
WIDTHS = (60, 160)
ISO_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
TRICKY = 'INC-1, "urgent"\nsecond line; a, b'
"""A value with a comma, quotes and a newline: csv must quote it and read it back whole."""


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GUARDIAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GUARDIAN_JOURNAL_FSYNC", "false")
    return tmp_path


def _run(args: Sequence[str], columns: int = 160) -> Result:
    result = runner.invoke(app, list(args), env={"COLUMNS": str(columns)})
    assert result.exit_code in (0, 1), result.output
    return result


def _json(args: Sequence[str]) -> Any:
    return orjson.loads(_run([*args, "--output", "json"]).stdout)


def _csv(args: Sequence[str]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_run([*args, "--output", "csv"]).stdout)))


def _as_csv(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{k: csv_cell(v) for k, v in row.items()} for row in rows]


def _tables_show_whole(args: Sequence[str], values: Sequence[str]) -> None:
    """At 60 and 160 columns no line passes the width and every value is on one line."""
    for width in WIDTHS:
        out = _run(args, width).stdout
        assert max(len(line) for line in out.splitlines()) <= width, out
        for value in values:
            assert value in out, f"{value!r} not whole at {width} columns:\n{out}"


def test_users_in_each_format_is_the_directory() -> None:
    people = sorted(build_what_if(Settings()).directory.principals(), key=lambda p: p.uid)
    rows = _json(["users"])
    assert [r["uid"] for r in rows] == [p.uid for p in people]
    frank = next(r for r in rows if r["uid"] == "frank")
    assert (frank["type"], frank["contract_clause"]) == ("contractor", True)
    assert rows[0]["roles"] == sorted(people[0].roles)
    assert _csv(["users"]) == _as_csv(rows)
    _tables_show_whole(["users"], [p.uid for p in people])


def test_keys_list_in_each_format_is_the_store_and_the_applications_file() -> None:
    created = _run(["keys", "create", "crm-web", "--actor", "ivan"])
    assert created.exit_code == 0
    guardian = build(Settings(), prepare=True)
    try:
        expected = [k.as_dict() for k in guardian.api_keys.list()]
    finally:
        guardian.close()
    rows = _json(["keys", "list"])
    assert rows == expected and len(rows) == 2
    assert _csv(["keys", "list"]) == _as_csv(rows)
    assert all(ISO_SECONDS.fullmatch(r["created_at"]) for r in rows if r["created_at"])
    _tables_show_whole(["keys", "list"], [r["id"] for r in rows] + [
        r["created_at"] for r in rows if r["created_at"]])
    assert "─" in _run(["keys", "list"], 80).stdout  # a table, not records, at 80 columns
    assert _run(["keys", "revoke", rows[1]["id"]]).exit_code == 0
    revoked = _json(["keys", "list"])[1]["revoked_at"]
    assert ISO_SECONDS.fullmatch(revoked) and f"revoked {revoked}" in _run(["keys", "list"]).stdout


def test_grants_list_keeps_a_justification_with_commas_quotes_and_newlines() -> None:
    made = _run(["grants", "create", "bob", "fraud-analyst", "--expires-in", "2h", "-j", TRICKY,
                 "--actor", "ivan", "--output", "json"])
    grant = orjson.loads(made.stdout)
    rows = _json(["grants", "list"])
    assert rows == [grant | {"state": "active"}]
    [row] = _csv(["grants", "list"])
    assert row["justification"] == TRICKY and row["id"] == grant["id"]
    assert row == _as_csv(rows)[0]
    _tables_show_whole(["grants", "list"], [grant["id"], grant["starts_at"], grant["expires_at"]])


def _decide(count: int, customer: str) -> None:
    guardian = build(Settings(), prepare=True)
    try:
        guardian.pipeline.decide_many([
            DecisionRequest("alice", Action.READ, "crm", "contact", "customer-care",
                            (customer,), application="crm-web") for _ in range(count)])
        guardian.audit.shipper.drain(max_wait_s=10.0)
    finally:
        guardian.close()


def test_audit_search_in_each_format_is_the_events_with_the_next_cursor() -> None:
    _decide(3, "C-1003")
    args = ["audit", "search", "--customer", "C-1003", "--size", "2"]
    events = [orjson.loads(line) for line in _run([*args, "--json"]).stdout.splitlines()]
    page = _json(args)
    assert [r["seq"] for r in page["events"]] == [e["guardian"]["seq"] for e in events]
    assert [r["decision_id"] for r in page["events"]] == [
        e["guardian"]["decision_id"] for e in events]
    assert page["events"][0]["customers"] == ["C-1003"]
    assert (page["events"][0]["database"], page["events"][0]["category"]) == ("crm", "contact")
    assert page["next_cursor"]
    rest = _json([*args, "--cursor", page["next_cursor"]])
    assert len(rest["events"]) == 1 and rest["next_cursor"] is None
    assert _csv(args) == _as_csv(page["events"])
    table = _run(args, 60)
    assert f"--cursor {page['next_cursor']}" in table.stderr
    _tables_show_whole(args, [r["time"] for r in page["events"]])


def test_report_list_in_each_format_is_the_archive(_in_repo: Path) -> None:
    for month in ("10", "11"):
        made = _run(["report", "periodic", "--from", f"2026-{month}-01", "--to",
                     f"2026-{int(month) + 1}-01", "--out", str(_in_repo / f"r{month}.json")])
        assert made.exit_code == 0, made.output
    guardian = build(Settings(), prepare=True)
    try:
        archive = [r.summary() for r in guardian.reports.list(None, 10)]
    finally:
        guardian.close()
    page = _json(["report", "list", "--limit", "1"])
    assert [r["id"] for r in page["reports"]] == [archive[0]["id"]]
    assert page["next_cursor"] == archive[0]["id"]
    rows = _json(["report", "list"])["reports"]
    assert [(r["id"], r["sha256"], r["from"], r["created_at"]) for r in rows] == [
        (a["id"], a["sha256"], a["period"]["from"], a["created_at"]) for a in archive]
    assert _csv(["report", "list"]) == _as_csv(rows)
    _tables_show_whole(["report", "list"], [r["id"] for r in rows] + [rows[0]["created_at"]])
    assert rows[0]["sha256"] in _run(["report", "list"], 160).stdout
    narrow = _run(["report", "list"], 60).stdout  # 64 hex digits: folded, never cut
    assert rows[0]["sha256"] in re.sub(r"\n +", "", narrow)


def test_policy_test_in_each_format_lists_every_case() -> None:
    rows = _json(["policy", "test"])
    assert rows and {r["result"] for r in rows} == {"pass"}
    assert all(re.fullmatch(r".+\.yaml:\d+", r["where"]) for r in rows)
    assert _csv(["policy", "test"]) == _as_csv(rows)
    verbose = _run(["policy", "test", "-v"], 60).stdout
    assert rows[0]["where"].split(":")[0][-10:] in verbose.replace("\n", "")


LONG_UID = "svc-reporting-batch-0123456789abcdef0123"


class _Source:
    name = "ldap://127.0.0.1:1"
    warnings: Sequence[str] = ()

    def fetch(self) -> list[Principal]:
        return [Principal(LONG_UID, "Batch, \"Reporting\"", frozenset({"auditor"})),
                Principal("zoe", "Zoe", frozenset({"billing"}), EmployeeType.CONTRACTOR,
                          supplier="Acme")]

    def close(self) -> None:
        pass


def test_directory_sync_dry_run_in_each_format_lists_the_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import guardian.bootstrap

    monkeypatch.setattr(guardian.bootstrap, "build_synced_directory",
                        lambda settings: SyncedDirectory(_Source(), ManualClock()))
    args = ["directory", "sync", "--dry-run"]
    rows = _json(args)
    assert [(r["change"], r["uid"]) for r in rows] == [("added", LONG_UID), ("added", "zoe")]
    assert "auditor" in rows[0]["detail"]
    assert _csv(args) == rows
    assert "2 added" in _run(args).stderr
    _tables_show_whole(args, [LONG_UID])


def test_version_is_the_installed_package_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"guardian {version('guardian')}"


def test_shell_completion_is_offered() -> None:
    result = runner.invoke(app, ["--show-completion", "bash"])
    assert result.exit_code == 0, result.output
    assert "complete" in result.stdout and "guardian" in result.stdout

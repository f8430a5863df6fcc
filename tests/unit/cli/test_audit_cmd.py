"""`guardian audit init|ship|verify|search`, `guardian keys init|public` and
`guardian report customer` on the embedded SQLite index."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from guardian.bootstrap import build
from guardian.cli.main import app
from guardian.config import Settings
from guardian.policy.model import DecisionRequest
from guardian.policy.vocabulary import Action
from support import ROOT

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GUARDIAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GUARDIAN_JOURNAL_FSYNC", "false")
    monkeypatch.setenv("GUARDIAN_AUDIT_CHECKPOINT_EVERY_EVENTS", "10")
    return tmp_path / "var"


def _decide(count: int, customer: str = "C-1001") -> None:
    guardian = build(Settings(), prepare=True)
    try:
        guardian.pipeline.decide_many([
            DecisionRequest("alice", Action.READ, "crm", "contact", "customer-care",
                            (customer,), application="crm-web") for _ in range(count)])
    finally:
        guardian.close()


def test_audit_init_creates_the_index_then_says_nothing_changed() -> None:
    first = runner.invoke(app, ["audit", "init"])
    second = runner.invoke(app, ["audit", "init"])

    assert first.exit_code == 0 and "audit index ready (sqlite)" in first.output
    assert second.exit_code == 0, second.output
    assert "nothing changed" in second.output and "created" not in second.output


def test_audit_ship_then_verify_the_index_and_the_journal() -> None:
    _decide(25)

    shipped = runner.invoke(app, ["audit", "ship"])
    from_index = runner.invoke(app, ["audit", "verify", "--source", "index", "--trust-demo-key"])
    from_journal = runner.invoke(app, ["audit", "verify", "--trust-demo-key"])

    assert shipped.exit_code == 0, shipped.output
    assert "shipped 26 event(s)" in shipped.output  # 25 decisions, then a checkpoint
    for result in (from_index, from_journal):
        assert result.exit_code == 0, result.output
        assert "chain intact: 26 events" in result.output
        assert "1 checkpoint signature(s) verified with pinned keys" in result.output


def test_verify_names_a_tampered_index_and_fails(data_dir: Path) -> None:
    import sqlite3

    _decide(5)
    runner.invoke(app, ["audit", "ship"])
    with sqlite3.connect(data_dir / "audit" / "index.db") as conn:
        conn.execute("DELETE FROM events WHERE seq = 3")

    result = runner.invoke(app, ["audit", "verify", "--source", "index"], terminal_width=200)

    assert result.exit_code == 1
    assert "chain broken at 3: removed" in result.output


def test_verify_from_opensearch_needs_opensearch_configured() -> None:
    result = runner.invoke(app, ["audit", "verify", "--source", "opensearch"])
    assert result.exit_code == 2 and "not opensearch" in result.output


def test_audit_search_prints_matching_events_as_json_lines() -> None:
    _decide(3, customer="C-1002")
    _decide(2, customer="C-1003")
    runner.invoke(app, ["audit", "ship"])

    result = runner.invoke(app, ["audit", "search", "--customer", "C-1003", "--json"])

    assert result.exit_code == 0, result.output
    events = [orjson.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert len(events) == 2 and {e["guardian"]["customer_ids"][0] for e in events} == {"C-1003"}


def test_keys_init_writes_a_private_key_readable_by_its_owner_only(data_dir: Path) -> None:
    result = runner.invoke(app, ["keys", "init"])
    path = data_dir / "keys" / "audit-signing.pem"

    assert result.exit_code == 0, result.output
    assert f"GUARDIAN_AUDIT_SIGNING_KEY={path}" in result.output
    assert "BEGIN PUBLIC KEY" in result.output and "PRIVATE" not in result.output
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert runner.invoke(app, ["keys", "init"]).exit_code == 2  # never overwritten


def test_a_configured_key_signs_checkpoints_that_its_exported_public_key_verifies(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sealed = runner.invoke(app, ["keys", "init", "--sealed"])
    value = next(line.split("=", 1)[1] for line in sealed.output.splitlines()
                 if line.startswith("GUARDIAN_AUDIT_SIGNING_KEY="))
    monkeypatch.setenv("GUARDIAN_AUDIT_SIGNING_KEY", value)
    public = runner.invoke(app, ["keys", "public", "--out", str(tmp_path / "auditor.pem")])
    _decide(12)
    monkeypatch.delenv("GUARDIAN_AUDIT_SIGNING_KEY")  # the auditor has only the public key

    with_public = runner.invoke(app, ["audit", "verify", "--trust",
                                      str(tmp_path / "auditor.pem")])
    with_derived = runner.invoke(app, ["audit", "verify", "--trust-demo-key"])

    assert public.exit_code == 0 and "BEGIN PUBLIC KEY" in public.output
    assert value.startswith("v1:") and value not in public.output
    assert with_public.exit_code == 0, with_public.output
    assert "chain intact: 13 events" in with_public.output
    assert "1 checkpoint signature(s) verified" in with_public.output
    assert with_derived.exit_code == 1 and "not a trusted key" in with_derived.output


def test_report_customer_writes_the_json_and_html_reports(tmp_path: Path) -> None:
    _decide(2)
    runner.invoke(app, ["audit", "ship"])

    as_json = runner.invoke(app, ["report", "customer", "C-1001"])
    html = runner.invoke(app, ["report", "customer", "C-1001", "--format", "html",
                               "--out", str(tmp_path / "r.html")])

    assert as_json.exit_code == 0, as_json.output
    report = orjson.loads(as_json.output)
    assert report["customer_id"] == "C-1001" and report["summary"]["refused_attempts"] == 2
    assert html.exit_code == 0 and "written to" in html.output
    assert "<h1>Who accessed the data of customer C-1001</h1>" in (tmp_path / "r.html").read_text()


def test_audit_retention_deletes_nothing_recent_and_the_trail_still_verifies() -> None:
    _decide(15)
    runner.invoke(app, ["audit", "ship"])

    dry = runner.invoke(app, ["audit", "retention", "--dry-run"])
    real = runner.invoke(app, ["audit", "retention"])
    verified = runner.invoke(app, ["audit", "verify", "--source", "index", "--trust-demo-key"])

    assert dry.exit_code == 0 and "nothing past retention" in dry.output, dry.output
    assert real.exit_code == 0 and "nothing past retention" in real.output, real.output
    assert verified.exit_code == 0, verified.output


def test_searching_and_reporting_from_the_command_line_are_on_the_trail(data_dir: Path) -> None:
    _decide(1)
    runner.invoke(app, ["audit", "ship"])

    search = runner.invoke(app, ["audit", "search", "--customer", "C-1001", "--actor", "judy"])
    report = runner.invoke(app, ["report", "customer", "C-1001", "--actor", "peggy"])

    assert search.exit_code == 0 and report.exit_code == 0, search.output + report.output
    lines = (data_dir / "audit" / "journal.jsonl").read_bytes().splitlines()
    reads = [e for e in map(orjson.loads, lines)
             if e.get("event", {}).get("category") == ["iam"] and "query" in e["guardian"]]
    assert [(e["event"]["action"], e["user"]["id"], e["guardian"]["query"]) for e in reads] == [
        ("audit.trail_searched", "judy", "customer=C-1001"),
        ("audit.customer_report_produced", "peggy", "customer=C-1001")]

"""``guardian policy impact`` and ``guardian policy apply`` on the embedded default: impact
replays the shipped trail (json and csv too), apply shows the diff and the flips, refuses a
broken policy (exit 1, the policy in force unchanged), asks before applying unless --yes, and
journals ``policy.changed``; the next start is on the applied version."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from guardian.bootstrap import build
from guardian.cli.main import app
from guardian.config import Settings
from policy_support import ADDED, REMOVED, changed_policy, requests
from support import ROOT

runner = CliRunner()


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GUARDIAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GUARDIAN_JOURNAL_FSYNC", "false")
    settings = Settings()
    guardian = build(settings, prepare=True)
    try:  # a trail of demo decisions, shipped into the embedded index
        guardian.pipeline.decide_many(requests(settings, time.time()))
        guardian.audit.shipper.ship_once()
    finally:
        guardian.close()
    return settings


def _events(settings: Settings, action: str) -> list[dict[str, Any]]:
    lines = settings.journal_file.read_text().splitlines()
    events = [orjson.loads(line) for line in lines if not line.startswith('{"seal":')]
    return [e for e in events if e["event"]["action"] == action]


def test_impact_reports_the_flips_of_a_candidate(settings: Settings, tmp_path: Path) -> None:
    candidate = changed_policy(tmp_path / "p", remove=[REMOVED], add=[ADDED])
    shown = runner.invoke(app, ["policy", "impact", "--since", "1d", "--policy", str(candidate),
                                "--output", "json"])
    assert shown.exit_code == 0, shown.output
    rows = orjson.loads(shown.stdout)
    by = {(r["direction"], r["by"], r["value"]): r["flips"] for r in rows}
    assert by[("permit→deny", "category", "crm/contact")] > 0
    assert by[("deny→permit", "category", "crm/location")] > 0
    as_csv = runner.invoke(app, ["policy", "impact", "--policy", str(candidate), "-o", "csv"])
    assert as_csv.exit_code == 0
    assert len(list(csv.DictReader(io.StringIO(as_csv.stdout)))) == len(rows)
    same = runner.invoke(app, ["policy", "impact"])
    assert same.exit_code == 0 and "no decision would flip" in same.output


def test_apply_refuses_a_broken_policy_and_keeps_the_old_one(
    settings: Settings, tmp_path: Path
) -> None:
    failing = runner.invoke(app, ["policy", "apply", str(changed_policy(
        tmp_path / "a", remove=[REMOVED])), "--yes"])
    assert failing.exit_code == 1 and "policy_tests_failed" in failing.output
    lint = runner.invoke(app, ["policy", "apply", str(changed_policy(
        tmp_path / "b", add=["p, ghost, crm, contact, read, customer-care"])), "--yes"])
    assert lint.exit_code == 1 and "unknown role 'ghost'" in lint.output
    assert _events(settings, "policy.changed") == []


def test_apply_shows_the_change_asks_and_journals_it(settings: Settings, tmp_path: Path) -> None:
    candidate = changed_policy(tmp_path / "p", add=[ADDED])
    declined = runner.invoke(app, ["policy", "apply", str(candidate)], input="n\n")
    assert declined.exit_code == 1 and f"+ {ADDED}" in declined.output
    assert "deny→permit" in declined.output and _events(settings, "policy.changed") == []
    applied = runner.invoke(app, ["policy", "apply", str(candidate), "--actor", "ivan"],
                            input="y\n")
    assert applied.exit_code == 0, applied.output
    [event] = _events(settings, "policy.changed")
    assert event["guardian"]["policy_change"]["rules_added"] == [ADDED]
    guardian = build(settings, prepare=True)
    try:
        assert guardian.pipeline.policy.index.permits(
            ["customer-care"], "crm", "location", "read", "customer-care")
    finally:
        guardian.close()

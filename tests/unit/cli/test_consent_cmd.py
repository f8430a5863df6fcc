"""``guardian consent import`` and ``show``, and ``guardian keys create --scope``: each line of
the file is one journalled change, bad lines are reported with their number and skipped (exit
1), and the state and history are shown as the API shows them."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from guardian.audit.records import is_seal_line
from guardian.cli.main import app
from support import ROOT

runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GUARDIAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GUARDIAN_JOURNAL_FSYNC", "false")
    return tmp_path / "var"


def _consent_events(data_dir: Path) -> list[dict[str, object]]:
    lines = [line for line in (data_dir / "audit" / "journal.jsonl").read_bytes().splitlines()
             if not is_seal_line(line)]
    return [e for e in map(orjson.loads, lines) if e["event"]["action"].startswith("consent.")]


def test_import_records_good_lines_and_reports_bad_ones_by_number(
    _in_repo: Path, tmp_path: Path
) -> None:
    csv = tmp_path / "consents.csv"
    csv.write_text(
        "customer_id,purpose,granted,source,at\n"
        "C-1001,marketing,false,preference-centre\n"
        "C-1006,marketing,yes,web-form,2026-11-30T09:12:00Z\n"
        "C-1007,marketing,maybe,web-form\n"
        "C-10\u200b08,marketing,true,web-form\n"
        "C-1009,billing,true,web-form\n"
        "C-1010,marketing,true\n"
        "C-1002,marketing,true,web-form,not-a-date\n", encoding="utf-8")

    imported = runner.invoke(app, ["consent", "import", str(csv), "--actor", "peggy"],
                             terminal_width=200)
    shown = runner.invoke(app, ["consent", "show", "C-1006", "--output", "json"])
    table = runner.invoke(app, ["consent", "show", "C-1001"], terminal_width=200)

    assert imported.exit_code == 1, imported.output
    assert "imported 2 change(s)" in imported.output and "5 line(s) skipped" in imported.output
    for number, code in [(4, "invalid_line"), (5, "invalid_customer_id"),
                         (6, "consent_not_needed"), (7, "invalid_line"), (8, "invalid_line")]:
        assert re.search(rf"line {number}:\s+{code}", imported.output), imported.output
    events = _consent_events(_in_repo)
    assert [e["event"]["action"] for e in events] == [  # type: ignore[index]
        "consent.withdrawn", "consent.granted"]
    assert {e["user"]["id"] for e in events} == {"peggy"}  # type: ignore[index]
    state = orjson.loads(shown.output)
    assert state["consents"] == [{"purpose": "marketing", "granted": True,
                                  "at": "2026-11-30T09:12:00Z", "source": "web-form",
                                  "recorded_by": "peggy"}]
    assert table.exit_code == 0 and "preference-centre" in table.output
    assert "customers" in table.output  # the seeded grant (folded), then the withdrawal


def test_a_clean_file_imports_with_exit_0(tmp_path: Path) -> None:
    csv = tmp_path / "ok.csv"
    csv.write_text("C-1006,marketing,true,web-form\n", encoding="utf-8")

    imported = runner.invoke(app, ["consent", "import", str(csv)])

    assert imported.exit_code == 0, imported.output
    assert "imported 1 change(s)" in imported.output


def test_a_missing_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["consent", "import", str(tmp_path / "nope.csv")])

    assert result.exit_code == 2 and "cannot read" in result.output


def test_keys_create_with_scope_consent_makes_a_consent_only_key() -> None:
    created = runner.invoke(app, ["keys", "create", "consent-hub", "--scope", "consent"])
    listed = runner.invoke(app, ["keys", "list", "--output", "json"])
    bad = runner.invoke(app, ["keys", "create", "x", "--scope", "admin"])

    assert created.exit_code == 0, created.output
    scopes = {k["name"]: k["scopes"] for k in orjson.loads(listed.output)}
    assert scopes == {"demo-app": ["decide"], "consent-hub": ["consent"]}
    assert bad.exit_code == 2

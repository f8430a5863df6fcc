"""The shared renderer of listings (``guardian.cli.output``): csv quoting, json pages, the
table's fitting to the width and its record layout when nothing fits."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
import pytest

from guardian.cli.output import Column, Output, Page, fit, render

ID = "01M8SRQV6BJY3T0JM4GC1GPZS8-with-a-long-tail"
COLUMNS = (Column("id", whole=True), Column("note"), Column("tags"),
           Column("secret", in_table=False), Column("both", in_data=False))
ROWS: list[dict[str, Any]] = [{"id": ID, "note": 'a, "quoted"\nnote', "tags": ["x", "y"], "secret": None, "both": "t"},
        {"id": "short", "note": "plain", "tags": [], "secret": True, "both": "u"}]


def test_csv_quotes_commas_quotes_and_newlines_and_reads_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    render(ROWS, COLUMNS, Output.CSV)
    out = capsys.readouterr().out
    assert out.startswith("id,note,tags,secret\n")
    assert list(csv.DictReader(io.StringIO(out))) == [
        {"id": ID, "note": 'a, "quoted"\nnote', "tags": "x, y", "secret": ""},
        {"id": "short", "note": "plain", "tags": "", "secret": "true"}]


def test_json_is_the_rows_or_a_page_with_its_cursor(capsys: pytest.CaptureFixture[str]) -> None:
    render(ROWS, COLUMNS, Output.JSON)
    assert orjson.loads(capsys.readouterr().out) == [
        {k: v for k, v in r.items() if k != "both"} for r in ROWS]
    render(ROWS[:1], COLUMNS, Output.JSON, page=Page("items", "abc"))
    captured = capsys.readouterr()
    assert orjson.loads(captured.out)["next_cursor"] == "abc" and captured.err == ""
    render(ROWS[:1], COLUMNS, Output.CSV, page=Page("items", "abc"))
    assert "more: --cursor abc" in capsys.readouterr().err


@pytest.mark.parametrize("width", [60, 160])
def test_the_table_fits_the_width_and_keeps_the_id_whole(
    width: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    render(ROWS, COLUMNS, Output.TABLE)
    out = capsys.readouterr().out
    assert ID in out and "secret" not in out
    assert max(len(line) for line in out.splitlines()) <= width


def test_too_narrow_for_a_table_each_row_is_a_record(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    render(ROWS, COLUMNS, Output.TABLE)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", ID] and lines[1].split()[0] == "note"


def test_fit_shrinks_the_column_that_wraps_least_and_never_below_its_minimum() -> None:
    # column 0 has one long cell, column 1 is long on every row: column 0 gives way.
    assert fit([5, 5], [20, 20], 30, [[20, 3, 3], [20, 20, 20]]) == [10, 20]
    assert fit([5, 18], [20, 20], 22) is None
    assert fit([5, 5], [8, 8], 30) == [8, 8]

"""The periodic report's charts: SVG with text kept as text, the same input drawing the same
bytes, an empty period saying so, and data URIs that hold the SVG itself."""

from __future__ import annotations

import base64

from guardian.reports.charts import DENY, PERMIT, data_uri, decisions_over_time, horizontal_bars

DAYS = ["2026-11-01", "2026-11-02", "2026-11-03"]


def test_decisions_over_time_is_a_deterministic_svg_with_text_as_text() -> None:
    svg = decisions_over_time(DAYS, [5, 7, 0], [1, 0, 2])
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert svg == decisions_over_time(DAYS, [5, 7, 0], [1, 0, 2])
    assert "11-01" in svg and "decisions per day" in svg  # labels stay searchable text
    assert PERMIT in svg and DENY in svg
    assert "<dc:date>" not in svg  # no creation date: the same report, the same bytes
    assert svg != decisions_over_time(DAYS, [5, 7, 1], [1, 0, 2])


def test_an_empty_period_says_so() -> None:
    assert "no decision in this period" in decisions_over_time([], [], [])
    assert "none in this period" in horizontal_bars([], [], xlabel="denies")


def test_horizontal_bars_label_each_bar_with_its_value() -> None:
    svg = horizontal_bars(["no_rule", "consent_missing"], [1234, 5], xlabel="denies by reason")
    assert "no_rule" in svg and "consent_missing" in svg and "denies by reason" in svg
    assert " 1,234" in svg


def test_a_data_uri_holds_the_svg_itself() -> None:
    uri = data_uri("<svg>é</svg>")
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix)
    assert base64.b64decode(uri.removeprefix(prefix)).decode("utf-8") == "<svg>é</svg>"

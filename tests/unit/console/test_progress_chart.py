"""The campaign's progress chart: one bar per reviewer of the current stage, split into kept,
revoked and pending in proportion to the busiest reviewer, overdue reviewers marked."""

from __future__ import annotations

from guardian.console.progress_chart import BAR_W, LABEL_W, chart


def test_bars_are_split_in_proportion_and_overdue_marked() -> None:
    drawn = chart({"nina": (2, 1, 3), "oscar": (0, 0, 3)}, overdue=["oscar"])
    nina, oscar = drawn.bars
    assert [s.kind for s in nina.segments] == ["keep", "revoke", "pending"]
    assert nina.segments[0].x == LABEL_W
    assert abs(sum(s.width for s in nina.segments) - BAR_W) < 0.5  # the busiest: full width
    assert abs(oscar.segments[0].width - BAR_W / 2) < 0.5
    assert oscar.overdue and not nina.overdue and oscar.y > nina.y
    assert (nina.decided, nina.total) == (3, 6)


def test_an_empty_stage_draws_no_bar() -> None:
    assert chart({}).bars == ()

"""What a walk reports: a report is ok exactly when no break is named, and key uses of slices
of one trail add up per key in order of first use."""

from __future__ import annotations

from guardian.audit.verdict import Break, ChainReport, KeyUse, merge_key_uses


def test_a_report_is_ok_only_without_a_problem() -> None:
    assert ChainReport(3, 1, 3, "h").ok
    assert not ChainReport(2, 1, 2, "h", broken_at=3, problem=Break.MODIFIED).ok


def test_key_uses_of_consecutive_slices_are_summed_per_key_in_order_of_first_use() -> None:
    first = [KeyUse("old", 2, 10, 20), KeyUse("new", 1, 30, 30)]
    second = [KeyUse("new", 3, 40, 70)]
    third = [KeyUse("old", 1, 5, 5)]

    merged = merge_key_uses([first, second, third])

    assert merged == (KeyUse("old", 3, 5, 20), KeyUse("new", 4, 30, 70))
    assert merge_key_uses([]) == ()

"""The periodic report's figures on the hand-built month of ``report_trail`` (known answers),
computed through the embedded index's aggregations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audit_index_contract import records
from audit_support import sqlite_index
from guardian.reports.periodic import Period, PeriodicReport, build_periodic
from guardian.reports.periodic_sections import NONE
from report_trail import CONTEXT, FROM, TO, trail


@pytest.fixture
def report(tmp_path: Path) -> Iterator[PeriodicReport]:
    index = sqlite_index(tmp_path / "index.db")
    index.setup()
    index.index_events(records(trail()))
    yield build_periodic("R1", index, Period.of(FROM, TO), CONTEXT, actor="judy", now=0.0)
    index.close()


def _section(report: PeriodicReport, key: str) -> dict[str, Any]:
    [section] = [s.as_dict() for s in report.sections if s.key == key]
    return section


def _rows(report: PeriodicReport, key: str, table: int = 0) -> list[list[Any]]:
    rows: list[list[Any]] = _section(report, key)["tables"][table]["rows"]
    return rows


def test_the_headline_figures_are_the_month_s_decisions(report: PeriodicReport) -> None:
    doc = report.as_dict()
    assert doc["decisions"] == {"total": 9, "permits": 6, "denies": 3, "by_reason": {
        "consent_missing": 1, "contract_clause_missing": 1, "mfa_required": 1,
        "not_authorised": 1, "permitted": 6}}
    assert doc["period"] == {"from": FROM, "to": TO}
    assert doc["policy_versions"] == ["sha256:test"]
    assert _rows(report, "decisions")[0] == ["2026-11-02", 2, 0, 2]


def test_every_section_says_why_it_matters(report: PeriodicReport) -> None:
    keys = [s.key for s in report.sections]
    assert len(keys) == 22 and len(set(keys)) == 22
    assert all(s.why.endswith(".") and len(s.why) > 40 for s in report.sections)


def test_breakdowns_by_application_category_and_high_sensitivity(report: PeriodicReport
                                                                 ) -> None:
    assert _rows(report, "by_application") == [["billing-app", 1, 0, 1],
                                                ["crm-web", 4, 3, 7], ["legal-app", 1, 0, 1]]
    assert _rows(report, "high_sensitivity") == [["economic-financial", 1, 1, 2],
                                                 ["location", 1, 0, 1]]


def test_justified_uses_list_the_justification(report: PeriodicReport) -> None:
    assert _rows(report, "justified_uses") == [["legal-requisition", 1, 0, 1],
                                               ["data-subject-request", 0, 0, 0],
                                               ["break-glass", 0, 0, 0]]
    [use] = _rows(report, "justified_uses", 1)
    assert use[1] == "erin" and use[5] == "REQ-2026-001"


def test_exports_contractors_and_marketing(report: PeriodicReport) -> None:
    assert _rows(report, "exports") == [["bob", 1, 0, 1]]
    assert _rows(report, "contractors") == [["Acme", "yes", 1, 1, 0],
                                            ["QuickCall", "no", 1, 0, 1]]
    assert _rows(report, "marketing") == [["marketing", 1, 1, 1]]


def test_sign_ins_failures_lockouts_and_factors(report: PeriodicReport) -> None:
    assert _section(report, "sign_ins")["figures"] == {
        "sign_ins": 1, "failures": 2, "lockouts": 1, "step_ups": 1}
    assert _rows(report, "sign_ins", 2) == [["otp", 1], ["pwd", 1]]


def test_readers_and_dormant_access(report: PeriodicReport) -> None:
    assert _rows(report, "readers")[0] == ["alice", "customer-care", 2]
    assert _rows(report, "readers", 2) == []  # nobody reads 3x their role's median here
    # carol (fraud-analyst), grace (denied only) and heidi (disabled) never used their role
    assert _rows(report, "dormant") == [["carol", "fraud-analyst", "yes"],
                                        ["grace", "customer-care", "yes"],
                                        ["heidi", "customer-care", "no"]]


def test_grants_keys_and_trail_reads(report: PeriodicReport) -> None:
    assert _rows(report, "grants") == [["carol", "legal-officer", 1, "no"]]
    assert _section(report, "keys")["figures"] == {"created": 1, "revoked": 0}
    assert _rows(report, "customer_reports") == [["peggy", "audit.customer_report_produced",
                                                  1]]


def test_what_the_trail_does_not_record_says_so(report: PeriodicReport) -> None:
    for key in ("campaigns", "consent_changes", "retention"):
        assert _section(report, key)["summary"] == NONE + "."


def test_integrity_gives_the_span_and_the_verification(report: PeriodicReport) -> None:
    figures = report.as_dict()["integrity"]
    assert figures["verified"] is True
    assert (figures["events"], figures["first_seq"], figures["last_seq"], figures["gaps"]) == \
        (16, 1, 16, 0)


def test_a_reader_far_above_the_role_median_is_an_outlier() -> None:
    from guardian.reports.periodic_sections import readers

    by_user = {"alice": [40, 0], "frank": [2, 0], "grace": [3, 0]}
    section = readers(CONTEXT, by_user).as_dict()
    assert section["tables"][2]["rows"] == [["alice", "customer-care", 40, 2.5]]


@pytest.mark.parametrize(("start", "end"), [("2026-12-01", "2026-11-01"),
                                            ("2020-01-01", "2026-01-01"), ("nope", "2026")])
def test_a_bad_period_is_refused(start: str, end: str) -> None:
    from guardian.errors import InvalidRequest

    with pytest.raises(InvalidRequest):
        Period.of(start, end)

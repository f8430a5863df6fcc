"""The periodic report on real OpenSearch: the same trail indexed in OpenSearch and in the
embedded SQLite index gives the same report, figure for figure (every section, every table)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit_index_contract import records
from audit_support import sqlite_index
from guardian.audit.events import timestamp
from guardian.audit.queries import iso_to_millis
from guardian.reports.periodic import Period, ReportContext, build_periodic
from opensearch_support import OpenSearchTamper, opensearch_index
from report_trail import CONTEXT, generated, generated_people

START = iso_to_millis("2026-11-01T00:00:00Z") / 1000
CONTEXT_BIG = ReportContext(
    people=generated_people(), data_roles=CONTEXT.data_roles,
    high_categories=CONTEXT.high_categories, justified_purposes=CONTEXT.justified_purposes,
    consent_purposes=CONTEXT.consent_purposes, policy_version="sha256:v2")


def _report(index: Any, period: Period) -> dict[str, Any]:
    report = build_periodic("R1", index, period, CONTEXT_BIG, actor="judy", now=0.0)
    return report.as_dict()


def test_opensearch_and_sqlite_give_the_same_report_on_the_same_trail(
    opensearch_url: str, tmp_path: Path
) -> None:
    # 40 days of events; the report covers the 30 days of November, so both ends cut
    batch = records(list(generated(6000, start=START - 5 * 86400, span_s=40 * 86400)))
    period = Period.of("2026-11-01", "2026-12-01")
    sqlite = sqlite_index(tmp_path / "index.db")
    sqlite.setup()
    sqlite.index_events(batch)
    with opensearch_index(opensearch_url, "report") as index:
        index.setup()
        for start in range(0, len(batch), 1000):
            index.index_events(batch[start:start + 1000])
        OpenSearchTamper(index).refresh()

        on_opensearch = _report(index, period)
    on_sqlite = _report(sqlite, period)
    sqlite.close()

    assert on_sqlite["decisions"]["total"] > 4000
    assert on_sqlite["decisions"]["denies"] > 500
    for mine, theirs in zip(on_sqlite["sections"], on_opensearch["sections"], strict=True):
        assert mine == theirs, mine["key"]
    assert on_sqlite == on_opensearch
    assert timestamp(START)[:10] == on_sqlite["sections"][0]["tables"][0]["rows"][0][0]

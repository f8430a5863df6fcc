"""The per-customer access report: accesses and refused attempts apart, per-person summaries,
and an HTML page that shows every value as text."""

from __future__ import annotations

from typing import Any

from audit_support import decision
from guardian.reports.customer_access import build_report
from guardian.reports.render import customer_report_html


def _events() -> list[dict[str, Any]]:
    denied = decision(3, user="mallory", at="2026-11-20T12:00:00.000Z")
    denied["guardian"].update(decision="deny", reasons=["not_authorised"], seq=3)
    hostile = decision(4, user='<img src=x onerror="alert(1)">', at="2026-11-21T08:00:00.000Z")
    hostile["guardian"].update(category="location", purpose="legal-requisition",
                               justification="</td><script>steal()</script>", seq=4)
    first = decision(1, at="2026-11-20T10:00:00.000Z")
    first["guardian"]["seq"] = 1
    second = decision(2, at="2026-11-20T11:00:00.000Z")
    second["guardian"].update(category="identification", seq=2)
    return [first, second, denied, hostile]


def test_accesses_refusals_and_people_are_reported_apart() -> None:
    report = build_report("C-1001", _events(), period_from="2026-11-01", period_to=None,
                          now=1_790_000_000.0)
    body = report.as_dict()

    assert body["summary"] == {"accesses": 3, "people": 2, "refused_attempts": 1}
    assert body["period"] == {"from": "2026-11-01", "to": None}
    alice = next(p for p in body["people"] if p["user"] == "alice")
    assert alice == {"user": "alice", "accesses": 2, "categories": ["contact", "identification"],
                     "purposes": ["customer-care"], "first_at": "2026-11-20T10:00:00.000Z",
                     "last_at": "2026-11-20T11:00:00.000Z"}
    assert body["refused_attempts"][0]["user"] == "mallory"
    assert body["refused_attempts"][0]["reasons"] == ["not_authorised"]
    assert [a["seq"] for a in body["accesses"]] == [1, 2, 4]


def test_the_html_page_escapes_every_value_from_the_trail() -> None:
    report = build_report("C-1001<b>", _events(), period_from=None, period_to=None,
                          now=1_790_000_000.0)

    page = customer_report_html(report)

    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;/td&gt;&lt;script&gt;steal()&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "Refused attempts (1)" in page and "C-1001&lt;b&gt;" in page

"""What the archive lists about a report and a delivery: never the body, instants in UTC, and a
delivery's outcome read from its error."""

from __future__ import annotations

from guardian.reports.archive import ArchivedReport, DeliveryRecord


def test_a_report_summary_lists_it_without_its_body() -> None:
    report = ArchivedReport("r1", "periodic", "2026-11-01", "2026-11-30", 0.0, "judy", "ab",
                            "sig", b'{"secret": "figures"}')

    assert report.summary() == {"id": "r1", "kind": "periodic",
                                "period": {"from": "2026-11-01", "to": "2026-11-30"},
                                "created_at": "1970-01-01T00:00:00Z", "created_by": "judy",
                                "sha256": "ab"}


def test_a_delivery_failed_exactly_when_it_carries_an_error() -> None:
    ok = DeliveryRecord("r1", "email", 2, 1, 60.0)
    failed = DeliveryRecord("r1", "webhook", 1, 5, 60.0, "delivery_failed: 503")

    assert ok.summary() == {"channel": "email", "recipients": 2, "attempts": 1,
                            "at": "1970-01-01T00:01:00Z", "outcome": "success", "error": None}
    assert (failed.summary()["outcome"], failed.summary()["error"]) == (
        "failure", "delivery_failed: 503")

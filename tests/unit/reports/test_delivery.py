"""Scheduled reports delivered for real: to an SMTP server and a webhook receiver on loopback.
The mail carries the PDF (opened with pypdf) and the signed JSON; the webhook's HMAC checks;
every delivery, failed or not, is a ``report.delivered`` event and is kept with the report;
a failing channel is retried, and when it keeps failing the failure is recorded, not lost."""

from __future__ import annotations

import hashlib
import hmac
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pypdf
import pytest

from delivery_support import (  # noqa: F401 - fixtures
    Inbox,
    Receiver,
    smtp_inbox,
    webhook_receiver,
)
from guardian.adapters.threads.report_schedule import ReportSchedule
from guardian.audit.records import is_seal_line
from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from guardian.reports.signing import verify_report
from support import demo_settings

SECRET = "report-webhook-secret-0123456789"


@pytest.fixture
def delivering(tmp_path: Path, clock: ManualClock, smtp_inbox: Inbox,  # noqa: F811
               webhook_receiver: Receiver) -> Iterator[Guardian]:  # noqa: F811
    g = build(demo_settings(
        tmp_path, reports_schedule="monthly", smtp_host="127.0.0.1", smtp_port=smtp_inbox.port,
        smtp_from="guardian@bank.test", report_recipients="judy@bank.test, dpo@bank.test",
        report_webhook_url=webhook_receiver.url, report_webhook_secret=SECRET,
        report_delivery_attempts=3, report_delivery_backoff_s=0), clock=clock, prepare=True)
    yield g
    g.close()


def _schedule(guardian: Guardian) -> ReportSchedule:
    return next(t for t in guardian.background if isinstance(t, ReportSchedule))


def _deliveries_journalled(guardian: Guardian) -> list[dict[str, Any]]:
    events = [orjson.loads(line) for line in guardian.settings.journal_file.read_bytes()
              .splitlines() if not is_seal_line(line)]
    return [e for e in events if e["event"]["action"] == "report.delivered"]


def test_the_scheduled_report_is_mailed_with_its_pdf_and_posted_signed(
    delivering: Guardian, smtp_inbox: Inbox, webhook_receiver: Receiver,  # noqa: F811
) -> None:
    _schedule(delivering).check_once()

    [report] = delivering.reports.list()
    [mail] = smtp_inbox.mails
    assert smtp_inbox.envelopes[0][1] == ["judy@bank.test", "dpo@bank.test"]
    text = mail.get_body()
    assert text is not None
    assert report.period_from in mail["Subject"] and report.sha256 in text.get_content()
    files = {p.get_filename(): p.get_content() for p in mail.iter_attachments()}
    pdf = pypdf.PdfReader(io.BytesIO(files[f"guardian-report-{report.id}.pdf"]))
    assert len(pdf.pages) > 1 and report.period_from in pdf.pages[0].extract_text()
    signed = orjson.loads(files[f"guardian-report-{report.id}.json"])
    assert verify_report(signed, delivering.audit.signer.public_key) is None

    [(headers, body)] = webhook_receiver.received
    assert headers["x-guardian-signature"] == "sha256=" + hmac.new(
        SECRET.encode(), body, hashlib.sha256).hexdigest()
    payload = orjson.loads(body)
    assert payload["report"]["id"] == report.id and payload["report"]["sha256"] == report.sha256

    events = _deliveries_journalled(delivering)
    assert sorted((e["guardian"]["delivery"]["channel"], e["guardian"]["delivery"]["recipients"],
                   e["event"]["outcome"]) for e in events) == [
        ("email", 2, "success"), ("webhook", 1, "success")]
    kept = [d.summary() for d in delivering.reports.deliveries(report.id)]
    assert [(d["channel"], d["outcome"], d["attempts"]) for d in kept] == [
        ("email", "success", 1), ("webhook", "success", 1)]


def test_a_failing_webhook_is_retried_then_recorded_as_failed(
    delivering: Guardian, webhook_receiver: Receiver,  # noqa: F811
) -> None:
    webhook_receiver.statuses = [503, 503, 503]
    _schedule(delivering).check_once()

    [report] = delivering.reports.list()
    assert len(webhook_receiver.received) == 3
    [failed] = [d for d in delivering.reports.deliveries(report.id) if d.channel == "webhook"]
    assert failed.attempts == 3 and failed.error is not None and "503" in failed.error
    [event] = [e for e in _deliveries_journalled(delivering)
               if e["guardian"]["delivery"]["channel"] == "webhook"]
    assert event["event"]["outcome"] == "failure" and "503" in event["guardian"]["delivery"][
        "error"]
    assert _schedule(delivering).failures == 0  # the report is made; the failure is on record


def test_a_webhook_that_recovers_is_delivered_on_a_later_attempt(
    delivering: Guardian, webhook_receiver: Receiver,  # noqa: F811
) -> None:
    webhook_receiver.statuses = [502]
    _schedule(delivering).check_once()

    [report] = delivering.reports.list()
    [done] = [d for d in delivering.reports.deliveries(report.id) if d.channel == "webhook"]
    assert (done.attempts, done.error) == (2, None)


def test_a_failing_pdf_renderer_fails_the_mail_delivery_visibly(
    delivering: Guardian, smtp_inbox: Inbox, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    import weasyprint

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    _schedule(delivering).check_once()

    [report] = delivering.reports.list()
    [mail] = [d for d in delivering.reports.deliveries(report.id) if d.channel == "email"]
    assert smtp_inbox.mails == [] and mail.error is not None
    assert mail.error.startswith("report_renderer_unavailable")


def test_delivery_events_fit_the_strict_index_mapping() -> None:
    import json

    from guardian.audit.events import delivery_event
    from guardian.audit.schema import mapping_problems
    from support import ROOT

    mapping = json.loads((ROOT / "audit/opensearch/mappings.json").read_text())
    properties = mapping["template"]["mappings"]["properties"]
    events = [delivery_event("01R", "email", 2, 1, 1.0, actor="scheduler"),
              delivery_event("01R", "webhook", 1, 3, 2.0, actor="scheduler",
                             error="delivery_failed: the webhook answered 503")]

    assert [mapping_problems(e, properties) for e in events] == [[], []]
    assert [e["event"]["outcome"] for e in events] == ["success", "failure"]

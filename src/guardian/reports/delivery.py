"""Delivering a scheduled report: by mail (PDF and signed JSON attached) and/or by webhook.

The auditors and the DPO (``GUARDIAN_REPORT_RECIPIENTS``) get one mail with the report's PDF
and its signed JSON (what ``guardian report verify`` checks); a webhook
(``GUARDIAN_REPORT_WEBHOOK_URL``) gets the report's summary, seal and links, signed with
HMAC-SHA256. Each channel is tried up to ``attempts`` times with a doubling pause; how each
ended — delivered, or failed and why — is journalled as ``report.delivered`` (outcome
``success``/``failure``) and then kept beside the archived report, where ``GET /v1/reports``
and ``GET /v1/reports/{id}/deliveries`` show it. A failed delivery never fails the report: it
is archived already, and the failure is on the trail for someone to act on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from guardian.audit.events import delivery_event
from guardian.errors import GuardianError
from guardian.ports import AuditJournal, Clock, DeliveryLog, Mailer, OutgoingMail, WebhookSender
from guardian.reports.archive import ArchivedReport, DeliveryRecord


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    sender: str = "guardian@localhost"
    recipients: tuple[str, ...] = ()
    webhook_url: str | None = None
    webhook_secret: bytes = b""
    attempts: int = 3
    backoff_s: float = 5.0
    """The pause after the first failed attempt; doubled after each further one."""

    @property
    def wanted(self) -> bool:
        return bool(self.recipients) or self.webhook_url is not None


class ReportDelivery:
    """The delivery use case: ``deliver(report)`` tries each configured channel, journals how it
    ended, then records it beside the report."""

    def __init__(
        self, config: DeliveryConfig, journal: AuditJournal, log: DeliveryLog, clock: Clock, *,
        mailer: Mailer | None, webhook: WebhookSender | None,
        render_pdf: Callable[[Mapping[str, Any]], bytes],
        sleep: Callable[[float], None] = time.sleep, actor: str = "scheduler",
    ) -> None:
        self.config = config
        self._journal = journal
        self._log = log
        self._clock = clock
        self._mailer = mailer
        self._webhook = webhook
        self._render_pdf = render_pdf
        self._sleep = sleep
        self._actor = actor

    def deliver(self, report: ArchivedReport) -> list[DeliveryRecord]:
        done: list[DeliveryRecord] = []
        if self.config.recipients and self._mailer is not None:
            mailer = self._mailer
            done.append(self._try(report, "email", len(self.config.recipients),
                                  lambda: mailer.send(self.mail_of(report))))
        if self.config.webhook_url is not None and self._webhook is not None:
            webhook, url = self._webhook, self.config.webhook_url
            done.append(self._try(report, "webhook", 1, lambda: webhook.post(
                url, webhook_payload(report), self.config.webhook_secret)))
        return done

    def mail_of(self, report: ArchivedReport) -> OutgoingMail:
        doc = orjson.loads(report.body)
        name = f"guardian-report-{report.id}"
        return OutgoingMail(
            sender=self.config.sender, recipients=self.config.recipients,
            subject=f"Guardian periodic audit report {report.period_from} to "
                    f"{report.period_to}",
            text=mail_text(report, doc),
            attachments=((f"{name}.pdf", "application/pdf", self._render_pdf(doc)),
                         (f"{name}.json", "application/json", report.body)))

    def _try(self, report: ArchivedReport, channel: str, recipients: int,
             send: Callable[[], None]) -> DeliveryRecord:
        error: str | None = None
        attempt = 0
        for attempt in range(1, max(1, self.config.attempts) + 1):
            try:
                send()
            except GuardianError as exc:
                error = f"{exc.code}: {exc.message}"
                if attempt < self.config.attempts:
                    self._sleep(self.config.backoff_s * 2 ** (attempt - 1))
            else:
                error = None
                break
        now = self._clock.now()
        self._journal.append(delivery_event(report.id, channel, recipients, attempt, now,
                                            actor=self._actor, error=error))
        record = DeliveryRecord(report.id, channel, recipients, attempt, now, error)
        self._log.add_delivery(record)
        return record


def mail_text(report: ArchivedReport, doc: Mapping[str, Any]) -> str:
    d = doc.get("decisions", {})
    integrity = doc.get("integrity", {})
    return (
        f"Guardian's periodic audit report for {report.period_from} to {report.period_to} "
        "(end excluded) is attached: the PDF to read, the signed JSON to verify.\n\n"
        f"Decisions: {d.get('total', 0)} ({d.get('permits', 0)} permits, "
        f"{d.get('denies', 0)} denies)\n"
        f"Trail integrity: {integrity_word(integrity)}\n"
        f"Report id: {report.id}\nSHA-256: {report.sha256}\n\n"
        "Check it with: guardian report verify guardian-report-"
        f"{report.id}.json --public-key audit-key.pem\n")


def integrity_word(integrity: Mapping[str, Any]) -> str:
    if integrity.get("verified") is True:
        return "verified with the pinned keys"
    if integrity.get("chain_intact") is True and integrity.get("authenticated") is False:
        return "chain intact, NOT authenticated (no trust file)"
    return "NOT verified"


def webhook_payload(report: ArchivedReport) -> dict[str, Any]:
    doc = orjson.loads(report.body)
    base = f"/v1/reports/{report.id}"
    return {"event": "report.produced", "report": report.summary(),
            "decisions": doc.get("decisions", {}), "integrity": doc.get("integrity", {}),
            "signature": report.signature, "key_id": doc.get("key_id"),
            "links": {form: f"{base}?format={form}" for form in ("json", "html", "csv", "pdf")}}

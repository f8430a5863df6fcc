"""The report archive in the store (SQLite or PostgreSQL): signed reports, write-once, and
the deliveries of each (:class:`guardian.ports.DeliveryLog`).

Ids are ULIDs, so newest first is descending id order, and a page's cursor is its last id.
"""

from __future__ import annotations

from sqlalchemy import Engine, insert, select

from guardian.adapters.sql.errors import translated
from guardian.adapters.sql.store import report_deliveries, reports
from guardian.reports.archive import ArchivedReport, DeliveryRecord

_COLUMNS = (reports.c.id, reports.c.kind, reports.c.period_from, reports.c.period_to,
            reports.c.created_at, reports.c.created_by, reports.c.sha256, reports.c.signature,
            reports.c.body)


class SqlReportArchive:
    """Implements :class:`guardian.ports.ReportArchive` and :class:`guardian.ports.DeliveryLog`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_report(self, report: ArchivedReport) -> None:
        with translated(), self.engine.begin() as conn:
            conn.execute(insert(reports).values(
                id=report.id, kind=report.kind, period_from=report.period_from,
                period_to=report.period_to, created_at=report.created_at,
                created_by=report.created_by, sha256=report.sha256,
                signature=report.signature, body=report.body))

    def get_report(self, report_id: str) -> ArchivedReport | None:
        with translated(), self.engine.connect() as conn:
            row = conn.execute(select(*_COLUMNS).where(reports.c.id == report_id)).first()
        return None if row is None else _report(tuple(row))

    def list_reports(self, after_id: str | None, limit: int) -> list[ArchivedReport]:
        query = select(*_COLUMNS).order_by(reports.c.id.desc()).limit(limit)
        if after_id is not None:
            query = query.where(reports.c.id < after_id)
        with translated(), self.engine.connect() as conn:
            return [_report(tuple(r)) for r in conn.execute(query)]

    def add_delivery(self, delivery: DeliveryRecord) -> None:
        with translated(), self.engine.begin() as conn:
            conn.execute(insert(report_deliveries).values(
                report_id=delivery.report_id, channel=delivery.channel,
                recipients=delivery.recipients, attempts=delivery.attempts, at=delivery.at,
                error=delivery.error))

    def deliveries(self, report_id: str) -> list[DeliveryRecord]:
        d = report_deliveries.c
        query = select(d.report_id, d.channel, d.recipients, d.attempts, d.at, d.error).where(
            d.report_id == report_id).order_by(d.id)
        with translated(), self.engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(query)]
        return [DeliveryRecord(str(r[0]), str(r[1]), int(str(r[2])), int(str(r[3])),
                               float(str(r[4])), None if r[5] is None else str(r[5]))
                for r in rows]


def _report(row: tuple[object, ...]) -> ArchivedReport:
    rid, kind, start, end, at, by, sha, sig, body = row
    return ArchivedReport(str(rid), str(kind), str(start), str(end), float(str(at)), str(by),
                          str(sha), str(sig), bytes(body))  # type: ignore[call-overload]

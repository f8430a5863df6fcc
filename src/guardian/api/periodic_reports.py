"""Periodic audit reports: ``POST /v1/reports``, ``GET /v1/reports``, ``GET /v1/reports/{id}``
and ``GET /v1/reports/{id}/deliveries`` (how a scheduled report was mailed or posted).

For security officers, auditors and the DPO, with a fresh second factor (like every admin
endpoint). A report is produced, signed and archived by
:class:`~guardian.reports.periodic_service.PeriodicReports`; reading one renders the archived
signed JSON as ``json`` (byte for byte as signed), ``html``, ``csv`` (one CSV per table in a
ZIP, or one table with ``table=``) or ``pdf``; each reading is journalled
(``audit.trail_searched``, ``report=<id> format=<format>``) before the report is shown.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field, StringConstraints
from starlette.responses import JSONResponse, Response

from guardian.api.deps import REPORT_ROLES, GuardianDep, require_roles
from guardian.api.schemas import StrictBody
from guardian.errors import NotFound
from guardian.identity.authorisation import Caller
from guardian.reports.archive import ArchivedReport

router = APIRouter(prefix="/v1/reports", tags=["reports"])

ReportReaderDep = Annotated[Caller, Depends(require_roles(*REPORT_ROLES))]
When = Annotated[str, StringConstraints(min_length=4, max_length=40,
                                        pattern=r"^[0-9T:.+\-Z ]+$")]
ReportId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$")]
_NO_STORE = {"Cache-Control": "no-store"}


class ReportBody(StrictBody):
    kind: Annotated[str, StringConstraints(min_length=1, max_length=32)] = "periodic"
    from_: When = Field(alias="from")
    to: When


@router.post("", status_code=201, summary="Produce, sign and archive a periodic report")
async def create_report(body: ReportBody, guardian: GuardianDep, caller: ReportReaderDep
                        ) -> JSONResponse:
    report = await anyio.to_thread.run_sync(
        guardian.reports.produce, caller.uid, body.kind, body.from_, body.to)
    return JSONResponse({**report.summary(), "signature": report.signature},
                        status_code=201, headers=_NO_STORE)


@router.get("", summary="The archive of reports, newest first")
async def list_reports(
    guardian: GuardianDep, caller: ReportReaderDep,
    cursor: Annotated[str | None, Query(max_length=32, pattern=r"^[0-9A-Za-z]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    page = await anyio.to_thread.run_sync(guardian.reports.list, cursor, limit + 1)
    more = len(page) > limit
    page = page[:limit]
    return {"reports": [r.summary() for r in page],
            "next_cursor": page[-1].id if more and page else None}


@router.get("/{report_id}/deliveries", summary="How a report was delivered (mail, webhook)")
async def report_deliveries(report_id: ReportId, guardian: GuardianDep,
                            caller: ReportReaderDep) -> dict[str, Any]:
    done = await anyio.to_thread.run_sync(guardian.reports.deliveries, report_id)
    return {"id": report_id, "deliveries": [d.summary() for d in done]}


@router.get("/{report_id}", summary="One archived report, as json, html, csv or pdf")
async def get_report(
    report_id: ReportId, guardian: GuardianDep, caller: ReportReaderDep,
    format: Literal["json", "html", "csv", "pdf"] = "json",
    table: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_]+$")] = None,
) -> Response:
    report = await anyio.to_thread.run_sync(guardian.reports.read, caller.uid, report_id,
                                            format)
    if format == "json":
        return Response(report.body, media_type="application/json", headers=_NO_STORE)
    return await anyio.to_thread.run_sync(_render, report, format, table)


def _render(report: ArchivedReport, format: str, table: str | None) -> Response:
    from guardian.reports import periodic_render as render

    doc = orjson.loads(report.body)
    name = f"guardian-report-{report.id}"
    if format == "csv":
        if table is None:
            return Response(render.csv_zip(doc), media_type="application/zip",
                            headers={**_NO_STORE, "Content-Disposition":
                                     f'attachment; filename="{name}-csv.zip"'})
        found = [t for t in render.tables_of(doc) if t.get("name") == table]
        if not found:
            raise NotFound(f"no table {table!r} in this report")
        return Response(render.table_csv(found[0]), media_type="text/csv; charset=utf-8",
                        headers=_NO_STORE)
    html = render.periodic_html(doc)
    if format == "html":
        return Response(html, media_type="text/html; charset=utf-8", headers=_NO_STORE)
    from guardian.bootstrap import html_to_pdf

    return Response(html_to_pdf(html), media_type="application/pdf", headers={
        **_NO_STORE, "Content-Disposition": f'attachment; filename="{name}.pdf"'})

"""Periodic reports and the trail's integrity, for security officers, auditors and the DPO.

Reports: the archive (with each report's signature checked against the audit public key),
producing one for a period, and downloading one as PDF, CSV (a ZIP of tables), JSON (byte for
byte as signed) or HTML, each reading journalled by the service like the API's. Integrity: the
journal's end and alarms, checkpoints, shipping lag, the witness, health, the verification of
the last periodic report, and a verification of the index run on demand.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
import orjson
from fastapi import APIRouter, Path, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from guardian.api.deps import REPORT_ROLES
from guardian.api.health import health_details
from guardian.api.periodic_reports import ReportBody, _render
from guardian.audit.checkpoints import CheckpointVerifier
from guardian.bootstrap import Guardian
from guardian.clock import iso_utc
from guardian.console.forms import read_form, validated
from guardian.console.render import page
from guardian.console.session import require
from guardian.journal.verification import verify_index
from guardian.reports.archive import ArchivedReport
from guardian.reports.signing import verify_report

router = APIRouter(prefix="/console", include_in_schema=False)
ReportId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$")]


def _guardian(request: Request) -> Guardian:
    guardian: Guardian = request.app.state.guardian
    return guardian


def signature_status(guardian: Guardian, report: ArchivedReport) -> str | None:
    """``None`` when the archived report is whole and signed by the audit key."""
    try:
        doc = orjson.loads(report.body)
    except orjson.JSONDecodeError:
        return "the archived report is not valid JSON"
    return verify_report(doc, guardian.audit.signer.public_key)


def _archive(guardian: Guardian, cursor: str | None) -> tuple[list[Any], str | None]:
    found = guardian.reports.list(cursor, 26)
    more = len(found) > 25
    found = found[:25]
    rows = [(r, signature_status(guardian, r)) for r in found]
    return rows, found[-1].id if more and found else None


@router.get("/reports")
async def reports(request: Request, cursor: Annotated[str | None, Query(
        max_length=32, pattern=r"^[0-9A-Za-z]+$")] = None) -> Response:
    guardian = _guardian(request)
    require(request, guardian, REPORT_ROLES)
    rows, next_cursor = await anyio.to_thread.run_sync(_archive, guardian, cursor)
    created = request.query_params.get("created", "")[:32]
    return page(request, guardian, "reports.html", title="Periodic reports", rows=rows,
                next_cursor=next_cursor, created=created)


@router.post("/reports")
async def create_report(request: Request) -> Response:
    guardian = _guardian(request)
    form = await read_form(request)
    caller = require(request, guardian, REPORT_ROLES)
    body = validated(ReportBody, {"kind": "periodic", "from": form.get("from", ""),
                                  "to": form.get("to", "")})
    report = await anyio.to_thread.run_sync(guardian.reports.produce, caller.uid, body.kind,
                                            body.from_, body.to)
    return RedirectResponse(f"/console/reports?created={report.id}", status_code=303)


@router.get("/reports/{report_id}")
async def download(request: Request, report_id: ReportId,
                   format: Literal["json", "html", "csv", "pdf"] = "pdf") -> Response:
    guardian = _guardian(request)
    caller = require(request, guardian, REPORT_ROLES)
    report = await anyio.to_thread.run_sync(guardian.reports.read, caller.uid, report_id,
                                            format)
    if format == "json":
        response = Response(report.body, media_type="application/json")
    else:
        response = await anyio.to_thread.run_sync(_render, report, format, None)
    # A download, never a page of the console (its own styles would break the console's CSP).
    response.headers["Content-Disposition"] = \
        f'attachment; filename="guardian-report-{report.id}.{"zip" if format == "csv" else format}"'
    return response


@router.get("/integrity")
async def integrity(request: Request) -> Response:
    guardian = _guardian(request)
    require(request, guardian, REPORT_ROLES)
    details = await anyio.to_thread.run_sync(health_details, guardian)
    latest = await anyio.to_thread.run_sync(guardian.reports.list, None, 1)
    last_report = None
    if latest:
        doc = orjson.loads(latest[0].body)
        last_report = {"id": latest[0].id, "created_at": iso_utc(latest[0].created_at),
                       "integrity": doc.get("integrity", {})}
    return page(request, guardian, "integrity.html", title="Trail integrity", health=details,
                last_report=last_report, checked=getattr(request.app.state,
                                                         "console_last_verification", None))


@router.post("/integrity/verify")
async def verify_now(request: Request) -> Response:
    """Re-walk the index's chain and check every checkpoint signature now."""
    guardian = _guardian(request)
    await read_form(request)
    caller = require(request, guardian, REPORT_ROLES)
    verifier = CheckpointVerifier([guardian.audit.signer.public_key])
    result = await anyio.to_thread.run_sync(
        lambda: verify_index(guardian.audit.index, verifier, settle_s=0.0))
    request.app.state.console_last_verification = {
        "at": iso_utc(guardian.clock.now()), "by": caller.uid, "ok": result.ok,
        "events": result.events, "checkpoints": result.checkpoints,
        "problem": None if result.problem is None else str(result.problem),
        "detail": result.detail, "broken_at": result.broken_at}
    return RedirectResponse("/console/integrity", status_code=303)

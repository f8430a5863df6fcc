"""Auditors' and the DPO's pages over the trail: search with every filter of
``GET /v1/audit/events`` and cursor pagination, one event's full record, a CSV export of a
result, and a customer's access report (HTML page, PDF download).

Every page that shows the trail goes through the API's own functions
(:func:`guardian.api.audit.search_trail`, :func:`guardian.api.reports.produce_access_report`),
so it is recorded in the trail exactly like the API read, before anything is shown. The query
is built by the API's own parameter parser (:func:`guardian.api.audit.audit_query`), so the
console accepts exactly the filters, limits and patterns the API does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Annotated, Any

import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import Response

from guardian.api.audit import WHEN, audit_query, search_trail
from guardian.api.deps import TRAIL_ROLES
from guardian.api.reports import produce_access_report
from guardian.audit.queries import AuditQuery, Order
from guardian.bootstrap import Guardian
from guardian.console.render import is_htmx, page
from guardian.console.session import require
from guardian.errors import NotFound

router = APIRouter(prefix="/console", include_in_schema=False)
FILTERS = ("customer", "user", "database", "category", "purpose", "decision", "reason",
           "action", "from", "to")
PAGE_ROWS = 100
"""Rows of a customer report's tables on the page (rendering them is most of its time); the
PDF and the API's JSON hold every one."""
CSV_MAX = 10_000
"""Events in one CSV export at most (a larger result: narrow the search)."""
CSV_COLUMNS = ("@timestamp", "seq", "action", "outcome", "user", "roles", "application",
               "decision", "reasons", "database", "category", "purpose", "customers",
               "justification")
Customer = Annotated[str | None, Query(min_length=1, max_length=128,
                                       pattern=r"^[^\x00-\x1f\x7f-\x9f/]+$")]
Period = Annotated[str | None, Query(min_length=4, max_length=40, pattern=WHEN)]


def _guardian(request: Request) -> Guardian:
    guardian: Guardian = request.app.state.guardian
    return guardian


def _filters(request: Request) -> dict[str, str]:
    return {k: request.query_params[k] for k in FILTERS if request.query_params.get(k)}


def row_of(event: Mapping[str, Any]) -> dict[str, str]:
    """An event's main fields as text, for the results table and the CSV."""
    g: Mapping[str, Any] = event.get("guardian", {})
    user: Mapping[str, Any] = event.get("user", {})
    ev: Mapping[str, Any] = event.get("event", {})
    return {
        "@timestamp": str(event.get("@timestamp", "")), "seq": str(g.get("seq", "")),
        "action": str(ev.get("action", "")), "outcome": str(ev.get("outcome", "")),
        "user": str(user.get("id", "")), "roles": " ".join(map(str, user.get("roles", ()))),
        "application": str(event.get("service", {}).get("name", "") or ""),
        "decision": str(g.get("decision", "") or ""),
        "reasons": " ".join(map(str, g.get("reasons", ()) or ())),
        "database": str(g.get("database", "") or ""),
        "category": str(g.get("category", "") or ""),
        "purpose": str(g.get("purpose", "") or ""),
        "customers": " ".join(map(str, g.get("customer_ids", ()) or ())),
        "justification": str(g.get("justification", "") or ""),
    }


@router.get("/trail")
async def trail(request: Request, query: Annotated[AuditQuery, Depends(audit_query)]
                ) -> Response:
    guardian = _guardian(request)
    reader = require(request, guardian, TRAIL_ROLES)
    filters = _filters(request)
    searched = bool(filters) or "cursor" in request.query_params \
        or request.query_params.get("search") == "1"
    result = await search_trail(guardian, reader.uid, query) if searched else None
    values: dict[str, Any] = {
        "filters": filters, "searched": searched,
        "rows": [(row_of(e), e) for e in result.events] if result else [],
        "next_cursor": result.next_cursor.encode() if result and result.next_cursor else None,
        "query_string": "&".join(f"{k}={v}" for k, v in filters.items()),
        "size": query.size, "order": query.order.value, "first_page": query.after is None,
    }
    if is_htmx(request):
        return page(request, guardian, "trail_results.html", title="Audit trail",
                    fragment=True, **values)
    return page(request, guardian, "trail.html", title="Audit trail", **values)


@router.get("/trail/export.csv")
async def trail_csv(request: Request, query: Annotated[AuditQuery, Depends(audit_query)]
                    ) -> Response:
    guardian = _guardian(request)
    reader = require(request, guardian, TRAIL_ROLES)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    query = AuditQuery(**{**_fields(query), "size": 1000, "after": None})
    page_ = await search_trail(guardian, reader.uid, query, note="export=csv")
    written = 0
    while True:
        for event in page_.events:
            row = row_of(event)
            writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
            written += 1
        if page_.next_cursor is None or written >= CSV_MAX:
            break
        page_ = await anyio.to_thread.run_sync(guardian.audit.index.search,
                                               query.next_page(page_.next_cursor))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="guardian-trail.csv"'})


def _fields(query: AuditQuery) -> dict[str, Any]:
    return {name: getattr(query, name) for name in AuditQuery.__dataclass_fields__}


def _cell(value: str) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@router.get("/trail/event")
async def event(
    request: Request,
    at: Annotated[int, Query(ge=0, le=10 ** 14)],
    seq: Annotated[int, Query(ge=0, le=10 ** 15)],
) -> Response:
    """One event's full record: a search of the millisecond it happened in, recorded like
    any other search."""
    guardian = _guardian(request)
    reader = require(request, guardian, TRAIL_ROLES)
    query = AuditQuery(since_ms=at, until_ms=at + 1, size=1000, order=Order.OLDEST_FIRST)
    result = await search_trail(guardian, reader.uid, query, note=f"seq={seq}")
    found = next((e for e in result.events if e.get("guardian", {}).get("seq") == seq), None)
    if found is None:
        raise NotFound(f"no event {seq} at that time in the trail")
    record = orjson.dumps(found, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    return page(request, guardian, "event.html", title=f"Event {seq}", row=row_of(found),
                record=record)


@router.get("/customers")
async def customers(request: Request, customer: Customer = None,
                    from_: Annotated[Period, Query(alias="from")] = None,
                    to: Period = None) -> Response:
    guardian = _guardian(request)
    reader = require(request, guardian, TRAIL_ROLES)
    report = None
    if customer:
        report = await produce_access_report(guardian, reader.uid, customer, from_, to)
    return page(request, guardian, "customers.html", title="Customer access report",
                customer=customer or "", period_from=from_ or "", period_to=to or "",
                report=report, page_rows=PAGE_ROWS)


@router.get("/customers/report.pdf")
async def customer_pdf(request: Request, customer: Annotated[str, Query(
        min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f-\x9f/]+$")],
        from_: Annotated[Period, Query(alias="from")] = None, to: Period = None) -> Response:
    guardian = _guardian(request)
    reader = require(request, guardian, TRAIL_ROLES)
    report = await produce_access_report(guardian, reader.uid, customer, from_, to)
    pdf = await anyio.to_thread.run_sync(_pdf, report)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": 'attachment; filename="guardian-access-report.pdf"'})


def _pdf(report: Any) -> bytes:
    from guardian.bootstrap import html_to_pdf
    from guardian.reports.render import customer_report_html

    return html_to_pdf(customer_report_html(report))

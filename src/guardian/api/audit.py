"""``GET /v1/audit/events``: auditors and the DPO search the trail; ``GET /v1/metrics``.

Search parameters are exact values (customer, employee, database, category, purpose, decision,
reason code, event action) and a time range; they become term and range clauses of a
structured query, never a query string. Results are sorted by time, newest first unless
``order=asc``, and paged with an opaque ``cursor``. Metrics are Prometheus text, rendered by
prometheus_client from the Guardian's own registry (:mod:`guardian.adapters.prometheus.metrics`).
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from guardian.api.deps import AuditorDep, GuardianDep
from guardian.api.health import monitoring_caller
from guardian.audit.queries import MAX_PAGE, AuditPage, AuditQuery, Order
from guardian.audit.trail_reads import trail_query
from guardian.bootstrap import Guardian
from guardian.errors import InvalidToken

router = APIRouter(prefix="/v1", tags=["audit"])

_ID = r"^[^\x00-\x1f\x7f-\x9f]+$"
Value = Annotated[str | None, Query(min_length=1, max_length=128, pattern=_ID)]
WHEN = r"^[0-9T:.+\-Z ]+$"
When = Annotated[str | None, Query(min_length=4, max_length=40, pattern=WHEN,
                                   description="ISO 8601, e.g. 2026-11-01 or 2026-11-01T08:00Z")]


async def audit_query(
    customer: Value = None, user: Value = None, database: Value = None, category: Value = None,
    purpose: Value = None, decision: Value = None, reason: Value = None, action: Value = None,
    from_: Annotated[str | None, Query(alias="from", min_length=4, max_length=40,
                                       pattern=WHEN)] = None,
    to: When = None,
    cursor: Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_\-]+$")] = None,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    order: Order = Order.NEWEST_FIRST,
) -> AuditQuery:
    """The search's query parameters as a structured query (each value only ever a value)."""
    return trail_query(
        customer=customer, user=user, database=database, category=category, purpose=purpose,
        decision=decision, reason=reason, action=action, since=from_, until=to, cursor=cursor,
        size=size, order=order)


async def search_trail(guardian: Guardian, reader: str, query: AuditQuery,
                       note: str = "") -> AuditPage:
    """One search of the trail by ``reader`` (the API's and the console's): recorded in the
    trail itself (with ``note``, e.g. an export) before anything is shown; the index is read
    while that record becomes durable."""
    return await guardian.trail.search_async(reader, query, anyio.to_thread.run_sync, note)


@router.get("/audit/events", summary="Search the audit trail (auditors and the DPO)")
async def search_events(
    guardian: GuardianDep, auditor: AuditorDep,
    query: Annotated[AuditQuery, Depends(audit_query)],
) -> dict[str, Any]:
    page = await search_trail(guardian, auditor.uid, query)
    return {"events": list(page.events),
            "next_cursor": page.next_cursor.encode() if page.next_cursor else None}


@router.get("/metrics", summary="Prometheus metrics: decisions, sign-ins, journal, shipping")
async def metrics(
    guardian: GuardianDep, authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """For monitoring holding ``GUARDIAN_METRICS_TOKEN``, or an officer, auditor or DPO."""
    if monitoring_caller(guardian, authorization) is None:
        raise InvalidToken("metrics need `Authorization: Bearer <GUARDIAN_METRICS_TOKEN>` "
                           "or an officer's session")
    metrics = guardian.metrics
    return Response(metrics.render(), media_type=metrics.content_type)

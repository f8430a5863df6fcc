"""``GET /v1/customers/{id}/access-report``: who accessed a customer's data (GDPR access right).

For auditors and the DPO; beside the accesses, the customer's consent and its history. JSON by
default; HTML (a readable page, every value escaped) with ``format=html`` or an ``Accept:
text/html`` header. ``from`` and ``to`` bound the period.
"""

from __future__ import annotations

from typing import Annotated, Literal

import anyio.to_thread
import orjson
from fastapi import APIRouter, Header, Path, Query
from starlette.responses import Response

from guardian.api.audit import WHEN, When
from guardian.api.deps import AuditorDep, GuardianDep
from guardian.bootstrap import Guardian
from guardian.reports.customer_access import CustomerAccessReport
from guardian.reports.render import customer_report_html

router = APIRouter(prefix="/v1/customers", tags=["reports"])

CustomerId = Annotated[str, Path(min_length=1, max_length=128,
                                 pattern=r"^[^\x00-\x1f\x7f-\x9f/]+$")]


async def produce_access_report(
    guardian: Guardian, reader: str, customer_id: str, period_from: str | None,
    period_to: str | None,
) -> CustomerAccessReport:
    """A customer's access report produced for ``reader`` (the API's and the console's):
    the service records it in the trail before it is built."""
    return await guardian.customer_reports.produce_async(
        reader, customer_id, period_from, period_to, anyio.to_thread.run_sync)


@router.get("/{customer_id}/access-report",
            summary="Who accessed this customer's data, when, what and why (auditors, DPO)")
async def customer_access_report(
    customer_id: CustomerId, guardian: GuardianDep, auditor: AuditorDep,
    from_: Annotated[str | None, Query(alias="from", min_length=4, max_length=40,
                                       pattern=WHEN)] = None,
    to: When = None,
    format: Literal["json", "html"] | None = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    report = await produce_access_report(guardian, auditor.uid, customer_id, from_, to)
    html = format == "html" or (format is None and "text/html" in (accept or ""))
    headers = {"Cache-Control": "no-store"}
    if html:
        return Response(customer_report_html(report), media_type="text/html; charset=utf-8",
                        headers=headers)
    return Response(orjson.dumps(report.as_dict()), media_type="application/json",
                    headers=headers)

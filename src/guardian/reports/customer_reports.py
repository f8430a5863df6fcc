"""The customer access report (GDPR right of access) as one use case, for every entry point.

``GET /v1/customers/{id}/access-report`` and ``guardian report customer`` both call
:meth:`CustomerReports.produce`: the period is checked, producing the report is journalled
(who read this customer's trail, over which period), then the report is assembled from the
index with the customer's consent and its history. A report the journal cannot record is not
produced (``audit_unavailable``). On an event loop (:meth:`CustomerReports.produce_async`)
the report is assembled while that record is made durable, and handed out only once it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from guardian.audit.events import AuditAction, trail_access_event
from guardian.audit.queries import iso_to_millis
from guardian.audit.trail_reads import InThread, recorded_then_shown
from guardian.errors import InvalidCustomerId
from guardian.governance.consent_records import CustomerConsents
from guardian.ports import AuditJournal, AuditSearch, Clock
from guardian.reports.customer_access import CustomerAccessReport, build_report, customer_events

ConsentsOf = Callable[[str], CustomerConsents]
"""A customer's consent and its history (``InvalidCustomerId`` for an impossible id)."""


class CustomerReports:
    """Who accessed a customer's data, when, what and why; each report on the trail."""

    def __init__(self, index: AuditSearch, consents: ConsentsOf, journal: AuditJournal,
                 clock: Clock) -> None:
        self._index = index
        self._consents = consents
        self._journal = journal
        self._clock = clock

    def produce(self, reader: str, customer_id: str, period_from: str | None = None,
                period_to: str | None = None) -> CustomerAccessReport:
        """The report of ``customer_id`` over ``[period_from, period_to)`` (ISO 8601, open
        ended when absent), as ``reader`` asked for it."""
        event, build = self._prepared(reader, customer_id, period_from, period_to)
        self._journal.append(event)
        return build()

    async def produce_async(
        self, reader: str, customer_id: str, period_from: str | None,
        period_to: str | None, in_thread: InThread[CustomerAccessReport],
    ) -> CustomerAccessReport:
        """:meth:`produce` for a caller on an event loop: assembled (in a thread) while the
        record becomes durable, answered only once it is."""
        event, build = self._prepared(reader, customer_id, period_from, period_to)
        return await recorded_then_shown(self._journal, event, build, in_thread)

    def _prepared(self, reader: str, customer_id: str, period_from: str | None,
                  period_to: str | None) -> tuple[dict[str, Any], Callable[[],
                                                                    CustomerAccessReport]]:
        """The period checked: the record of this report, and how to build the report."""
        since = iso_to_millis(period_from) if period_from else None
        until = iso_to_millis(period_to) if period_to else None
        period = " ".join(f"{k}={v}" for k, v in (("from", period_from), ("to", period_to))
                          if v)
        event = trail_access_event(
            AuditAction.CUSTOMER_REPORT_PRODUCED, reader, self._clock.now(),
            f"customer={customer_id}" + (f" {period}" if period else ""))

        def build() -> CustomerAccessReport:
            events = customer_events(self._index, customer_id, since, until)
            return build_report(customer_id, events, period_from=period_from,
                                period_to=period_to, now=self._clock.now(),
                                consent=self._consent(customer_id))

        return event, build

    def _consent(self, customer_id: str) -> CustomerConsents | None:
        """None for an id consent could never be recorded under."""
        try:
            return self._consents(customer_id)
        except InvalidCustomerId:
            return None

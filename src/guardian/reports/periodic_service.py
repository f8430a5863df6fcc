"""Producing, listing and reading periodic reports: the use case behind ``/v1/reports``.

``produce`` validates the request, computes the report from the index, seals it (SHA-256 and
the audit key's signature), journals that it was produced (who, which period, its id and
hash), and only then archives it: no archived report exists without its audit event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import orjson

from guardian.audit.events import AuditAction, trail_access_event
from guardian.errors import InvalidRequest, NotFound
from guardian.governance.model import TemporaryGrant
from guardian.identity.principal import Principal
from guardian.ids import new_ulid
from guardian.policy.definition import PolicyDefinition
from guardian.ports import AuditIndex, AuditJournal, Clock, DeliveryLog, ReportArchive
from guardian.reports.archive import ArchivedReport, DeliveryRecord
from guardian.reports.periodic import KIND, Integrity, Period, ReportContext, build_periodic
from guardian.reports.signing import ReportSigner, seal

MAX_PAGE = 100


def context_of(
    policy: PolicyDefinition, people: Iterable[Principal], grants: Sequence[TemporaryGrant],
    verify: Callable[[], Integrity] | None,
) -> ReportContext:
    """What the report needs of the policy and the directory, as they are now."""
    strictest = min((s.mfa_max_age_s for s in policy.sensitivities.values()
                     if s.mfa_max_age_s is not None), default=None)
    high = frozenset(category for categories in policy.databases.values()
                     for category, level in categories.items()
                     if strictest is not None
                     and policy.sensitivities[level].mfa_max_age_s == strictest)
    return ReportContext(
        people=tuple(people), data_roles=frozenset(r.role for r in policy.rules),
        high_categories=high,
        justified_purposes=tuple(p for p, d in policy.purposes.items() if d.needs_justification),
        consent_purposes=tuple(p for p, d in policy.purposes.items() if d.needs_consent),
        policy_version=policy.version, grants=tuple(grants), verify=verify)


SCHEDULER = "scheduler"
"""The actor of reports the monthly schedule makes."""


class PeriodicReports:
    def __init__(
        self, index: AuditIndex, archive: ReportArchive, journal: AuditJournal,
        signer: ReportSigner, clock: Clock, context: Callable[[], ReportContext], *,
        deliveries: DeliveryLog | None = None,
    ) -> None:
        self._index = index
        self._archive = archive
        self._journal = journal
        self._signer = signer
        self._clock = clock
        self._context = context
        self._deliveries = deliveries
        self.produced = {"scheduled": 0, "requested": 0}
        """Reports produced since start, by trigger (read by the metrics)."""

    def produce(self, actor: str, kind: str, start: str, end: str) -> ArchivedReport:
        if kind != KIND:
            raise InvalidRequest(f"unknown report kind {kind[:32]!r}: only {KIND!r}")
        period = Period.of(start, end)
        now = self._clock.now()
        report_id = new_ulid(now)
        report = build_periodic(report_id, self._index, period, self._context(), actor=actor,
                                now=now)
        sealed = seal(report.as_dict(), self._signer)
        self._journal.append(trail_access_event(
            AuditAction.PERIODIC_REPORT_PRODUCED, actor, now,
            f"kind={KIND} from={start} to={end} id={report_id} sha256={sealed['sha256']}"))
        archived = ArchivedReport(report_id, KIND, start, end, now, actor, sealed["sha256"],
                                  sealed["signature"], orjson.dumps(sealed))
        self._archive.add_report(archived)
        self.produced["scheduled" if actor == SCHEDULER else "requested"] += 1
        return archived

    def produce_due(self, actor: str = SCHEDULER) -> ArchivedReport | None:
        """Last month's report, if the archive does not hold it yet (the monthly schedule)."""
        from guardian.reports.schedule import due_period

        period = due_period(self._clock.now(), self._archive.list_reports(None, MAX_PAGE))
        return None if period is None else self.produce(actor, KIND, *period)

    def list(self, after_id: str | None = None, limit: int = 50) -> list[ArchivedReport]:
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}")
        return self._archive.list_reports(after_id, limit)

    def get(self, report_id: str) -> ArchivedReport:
        report = self._archive.get_report(report_id)
        if report is None:
            raise NotFound(f"no report {report_id[:40]!r}")
        return report

    def deliveries(self, report_id: str) -> Sequence[DeliveryRecord]:
        """How a report was delivered (mail, webhook), oldest first; 404 for an unknown id."""
        self.get(report_id)
        return [] if self._deliveries is None else self._deliveries.deliveries(report_id)

    def read(self, reader: str, report_id: str, form: str) -> ArchivedReport:
        """A report shown to someone: it holds trail data, so the reading is journalled first
        (like a trail search), then the report is returned."""
        report = self.get(report_id)
        self._journal.append(trail_access_event(
            AuditAction.TRAIL_SEARCHED, reader, self._clock.now(),
            f"report={report.id} format={form}"))
        return report

"""The periodic audit report: what auditors and the DPO sign off for a period (a month).

A report is a plain value: its period, headline figures (decisions, integrity) and a list of
:class:`Section`, each with a title, one sentence saying what it shows and why an auditor
cares, a summary and tables. Figures are computed by the audit index (``AuditIndex.aggregate``
and ``span``, see :mod:`guardian.audit.aggregations`), never by reading every event here; the
sections are assembled in :mod:`guardian.reports.periodic_sections`. :meth:`PeriodicReport.
as_dict` is the JSON that is hashed, signed and archived; every renderer works from that JSON,
so an archived report renders the same years later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from guardian.audit.aggregations import AggregateQuery, Bucket, Field
from guardian.audit.events import AuditAction, timestamp
from guardian.audit.queries import iso_to_millis
from guardian.errors import InvalidRequest
from guardian.governance.model import TemporaryGrant
from guardian.identity.principal import Principal
from guardian.ports import AuditIndex

KIND = "periodic"
MAX_PERIOD_DAYS = 366


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "columns": list(self.columns),
                "rows": [list(r) for r in self.rows]}


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    why: str
    """One sentence: what the section shows and why an auditor cares."""
    summary: str
    tables: tuple[Table, ...] = ()
    figures: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "why": self.why,
                "summary": self.summary, "figures": dict(self.figures),
                "tables": [t.as_dict() for t in self.tables]}


@dataclass(frozen=True, slots=True)
class Period:
    start: str
    end: str
    since_ms: int
    until_ms: int

    @classmethod
    def of(cls, start: str, end: str) -> Period:
        """A period ``[start, end)`` given as ISO dates or times (UTC when no zone)."""
        since, until = iso_to_millis(start), iso_to_millis(end)
        if since >= until:
            raise InvalidRequest("the period is empty: `from` must be before `to`")
        if until - since > MAX_PERIOD_DAYS * 86_400_000:
            raise InvalidRequest(f"a report covers at most {MAX_PERIOD_DAYS} days")
        return cls(start, end, since, until)


@dataclass(frozen=True, slots=True)
class Integrity:
    """What verifying the trail found and what the index says of the period.

    ``chain_intact``: every hash, link and place checks; ``authenticated``: the checkpoints
    were checked against the auditors' pinned keys (a trust file), not just any key. The
    report says ``verified`` only when both hold, like ``guardian audit verify`` exits 0 only
    then."""

    chain_intact: bool
    events_verified: int
    checkpoints_verified: int
    problem: str | None = None
    detail: str = ""
    authenticated: bool = True

    @property
    def verified(self) -> bool:
        return self.chain_intact and self.authenticated

    def as_dict(self) -> dict[str, Any]:
        detail = self.detail
        if self.chain_intact and not self.authenticated:
            detail = ("not authenticated: no trust file (GUARDIAN_AUDIT_TRUST_FILE), so the "
                      "checkpoint signatures were not checked against pinned keys"
                      + (f"; {detail}" if detail else ""))
        return {"verified": self.verified, "chain_intact": self.chain_intact,
                "authenticated": self.authenticated, "events_verified": self.events_verified,
                "checkpoints_verified": self.checkpoints_verified, "problem": self.problem,
                "detail": detail}


@dataclass(frozen=True, slots=True)
class ReportContext:
    """What the report needs besides the trail: the directory and the policy, as they are."""

    people: Sequence[Principal]
    data_roles: frozenset[str]
    """Roles that give access to customer data (the roles of the policy's rules)."""
    high_categories: frozenset[str]
    justified_purposes: tuple[str, ...]
    consent_purposes: tuple[str, ...]
    policy_version: str
    grants: Sequence[TemporaryGrant] = ()
    verify: Callable[[], Integrity] | None = None


CUBES = ((Field.DECISION, Field.DATABASE, Field.CATEGORY, Field.PURPOSE),
         (Field.USER, Field.DECISION, Field.ACCESS))
"""Fields every access decision carries (``decision_event`` always sets them): a count of
decisions grouped by some of them and filtered by others is summed from one aggregation over
all of them, so several sections cost one pass over the period instead of one each."""
_DECIDED = (Field.ACTION, AuditAction.ACCESS_DECISION.value)
PREFETCH_WORKERS = 4


class Figures:
    """The audit index asked for one period: each call is one aggregation (or is summed from
    one already made, see :data:`CUBES`)."""

    def __init__(self, index: AuditIndex, period: Period) -> None:
        self.index = index
        self.period = period
        self._cubes: dict[tuple[Field, ...], list[Bucket]] = {}
        self._ready: dict[AggregateQuery, list[Bucket]] = {}

    def query(self, *group: Field, where: Sequence[tuple[Field, str]] = (),
              by_day: bool = False) -> AggregateQuery:
        return AggregateQuery(self.period.since_ms, self.period.until_ms, tuple(group),
                              tuple(where), by_day)

    def buckets(self, *group: Field, where: Sequence[tuple[Field, str]] = (),
                by_day: bool = False) -> list[Bucket]:
        query = self.query(*group, where=where, by_day=by_day)
        done = self._ready.get(query)
        return list(done) if done is not None else self.index.aggregate(query)

    def prefetch(self, queries: Sequence[AggregateQuery], workers: int = PREFETCH_WORKERS
                 ) -> None:
        """Ask the index for the heaviest figures at the same time (the index works while this
        thread waits: SQLite and the OpenSearch client both release the GIL), so a report
        uses every core the index has; the sections then find them answered."""
        with ThreadPoolExecutor(workers, thread_name_prefix="guardian-report") as pool:
            for query, buckets in zip(queries, pool.map(self.index.aggregate, queries),
                                      strict=True):
                self._ready[query] = buckets

    def counts(self, *group: Field, where: Sequence[tuple[Field, str]] = ()
               ) -> dict[tuple[str, ...], int]:
        cube = self._cube_for(group, where)
        if cube is None:
            return {b.key: b.count for b in self.buckets(*group, where=where)}
        if cube not in self._cubes:
            self._cubes[cube] = self.buckets(*cube, where=(_DECIDED,))
        picks = [cube.index(f) for f in group]
        tests = [(cube.index(f), v) for f, v in where if (f, v) != _DECIDED]
        out: dict[tuple[str, ...], int] = defaultdict(int)
        for b in self._cubes[cube]:
            if all(b.key[i] == v for i, v in tests):
                out[tuple(b.key[i] for i in picks)] += b.count
        return dict(sorted(out.items()))

    @staticmethod
    def _cube_for(group: Sequence[Field], where: Sequence[tuple[Field, str]]
                  ) -> tuple[Field, ...] | None:
        if _DECIDED not in where or not group:
            return None
        wanted = set(group) | {f for f, v in where if (f, v) != _DECIDED}
        return next((c for c in CUBES if wanted <= set(c)), None)


@dataclass(frozen=True, slots=True)
class PeriodicReport:
    id: str
    period: Period
    generated_at: str
    generated_by: str
    decisions: Mapping[str, Any]
    integrity: Mapping[str, Any]
    policy_versions: tuple[str, ...]
    sections: tuple[Section, ...]

    def as_dict(self) -> dict[str, Any]:
        """The JSON that is hashed and signed (without ``sha256`` and ``signature``)."""
        return {"id": self.id, "kind": KIND,
                "period": {"from": self.period.start, "to": self.period.end},
                "generated_at": self.generated_at, "generated_by": self.generated_by,
                "policy_versions": list(self.policy_versions),
                "decisions": dict(self.decisions), "integrity": dict(self.integrity),
                "sections": [s.as_dict() for s in self.sections]}


def build_periodic(
    report_id: str, index: AuditIndex, period: Period, context: ReportContext, *,
    actor: str, now: float,
) -> PeriodicReport:
    from guardian.reports.periodic_sections import all_sections

    figures = Figures(index, period)
    sections = all_sections(figures, context)
    by_key = {s.key: s for s in sections}
    decisions = by_key["decisions"].figures
    integrity = by_key["integrity"].figures
    versions = tuple(str(row[0]) for row in by_key["policy"].tables[0].rows)
    return PeriodicReport(
        report_id, period, timestamp(now), actor,
        {"total": decisions["total"], "permits": decisions["permits"],
         "denies": decisions["denies"], "by_reason": by_key["reasons"].figures["by_reason"]},
        integrity, versions, tuple(sections))

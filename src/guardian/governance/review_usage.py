"""Usage evidence for a whole campaign in a few aggregations over the audit index.

Each decision event records the role that permitted it (``guardian.role``), so the index can
count, per person and role, the permits over the usage window, the last one, the categories
and purposes used and the distinct customers touched (one aggregation: every page of it is a
scan of the window), the denies while holding the role, and whether the role was ever used
before the window (for ``never_used``). Given the campaign's roles, the permits and the earlier
use are asked one role at a time, :data:`PARALLEL` roles at once: a page of one role's
aggregation scans only that role's events, and the index works on several pages at once.
A permission review counts per rule (role, category, action, purpose) the same way; API keys
per application. Nothing reads events one by one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from guardian.audit.aggregations import AggregateQuery, Bucket, Field
from guardian.audit.events import AuditAction
from guardian.ports import AuditIndex

_DECISION = (Field.ACTION, AuditAction.ACCESS_DECISION.value)
_PERMIT = ((_DECISION, (Field.DECISION, "permit")))
_DENY = ((_DECISION, (Field.DECISION, "deny")))
PARALLEL = 2
"""Aggregations in flight at once when asking role by role (a node's search threads)."""


@dataclass
class Tally:
    permits: int = 0
    last_ms: int | None = None
    customers: int = 0
    denies: int = 0
    ever: bool = False
    categories: set[str] = field(default_factory=set)
    purposes: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Window:
    since_ms: int
    until_ms: int


class UsageEvidence:
    def __init__(self, index: AuditIndex | None) -> None:
        """``index``: where the trail is searched; ``None`` (no index): no usage known."""
        self._index = index

    def _ask(self, window: tuple[int, int], group: tuple[Field, ...],
             where: tuple[tuple[Field, str], ...], distinct: bool = False,
             values: tuple[Field, ...] = ()) -> list[Bucket]:
        if self._index is None or window[0] >= window[1]:
            return []
        return self._index.aggregate(AggregateQuery(
            window[0], window[1], group, where, distinct=Field.CUSTOMERS if distinct else None,
            values=values))

    def by_person_and_role(self, window: Window, roles: Iterable[str] | None = None
                           ) -> dict[tuple[str, str], Tally]:
        """(uid, role) → what the trail shows of that person's use of that role; with
        ``roles``, of those roles only (the permits and earlier use asked role by role)."""
        out: dict[tuple[str, str], Tally] = defaultdict(Tally)
        span = (window.since_ms, window.until_ms)
        group = (Field.USER, Field.ROLE)
        parts = [()] if roles is None else [((Field.ROLE, r),) for r in sorted(set(roles))]

        def permits(part: tuple[tuple[Field, str], ...]) -> list[Bucket]:
            return self._ask(span, group, (*_PERMIT, *part), distinct=True,
                             values=(Field.CATEGORY, Field.PURPOSE))

        def earlier(part: tuple[tuple[Field, str], ...]) -> list[Bucket]:
            return self._ask((0, window.since_ms), group, (*_PERMIT, *part))

        with ThreadPoolExecutor(PARALLEL) as pool:
            used = pool.map(permits, parts)
            before = pool.map(earlier, parts)
            denied = pool.submit(self._ask, span, (Field.USER, Field.ROLES), _DENY)
            for buckets in used:
                for b in buckets:
                    t = out[(b.key[0], b.key[1])]
                    t.permits, t.last_ms, t.customers, t.ever = b.count, b.last_ms, \
                        b.distinct, True
                    t.categories, t.purposes = set(b.values[0]), set(b.values[1])
            for b in denied.result():
                out[(b.key[0], b.key[1])].denies += b.count
            for buckets in before:
                for b in buckets:
                    out[(b.key[0], b.key[1])].ever = True
        return dict(out)

    def by_rule(self, window: Window) -> dict[tuple[str, str, str, str], Tally]:
        """(role, category, action, purpose) → use of that rule by anyone."""
        out: dict[tuple[str, str, str, str], Tally] = defaultdict(Tally)
        group = (Field.ROLE, Field.CATEGORY, Field.ACCESS, Field.PURPOSE)
        for b in self._ask((window.since_ms, window.until_ms), group, _PERMIT, distinct=True):
            t = out[_four(b.key)]
            t.permits, t.last_ms, t.customers, t.ever = b.count, b.last_ms, b.distinct, True
        for b in self._ask((0, window.since_ms), group, _PERMIT):
            out[_four(b.key)].ever = True
        return dict(out)

    def by_application(self, window: Window) -> dict[str, Tally]:
        out: dict[str, Tally] = defaultdict(Tally)
        for b in self._ask((window.since_ms, window.until_ms), (Field.APPLICATION,), _PERMIT,
                           distinct=True):
            t = out[b.key[0]]
            t.permits, t.last_ms, t.customers, t.ever = b.count, b.last_ms, b.distinct, True
        for b in self._ask((0, window.since_ms), (Field.APPLICATION,), _PERMIT):
            out[b.key[0]].ever = True
        return dict(out)


def _four(key: Iterable[str]) -> tuple[str, str, str, str]:
    a, b, c, d = key
    return a, b, c, d

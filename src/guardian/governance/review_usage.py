"""Usage evidence for a whole campaign in a few aggregations over the audit index.

Each decision event records the role that permitted it (``guardian.role``), so the index can
count, per person and role, the permits over the usage window, the last one, the categories
and purposes used and the distinct customers touched (one aggregation each), the denies while
holding the role, and whether the role was ever used before the window (for ``never_used``).
A permission review counts per rule (role, category, action, purpose) the same way; API keys
per application. Nothing reads events one by one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from guardian.audit.aggregations import AggregateQuery, Bucket, Field
from guardian.audit.events import AuditAction
from guardian.ports import AuditIndex

_DECISION = (Field.ACTION, AuditAction.ACCESS_DECISION.value)
_PERMIT = ((_DECISION, (Field.DECISION, "permit")))
_DENY = ((_DECISION, (Field.DECISION, "deny")))


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
             where: tuple[tuple[Field, str], ...], distinct: bool = False) -> list[Bucket]:
        if self._index is None or window[0] >= window[1]:
            return []
        return self._index.aggregate(AggregateQuery(
            window[0], window[1], group, where, distinct=Field.CUSTOMERS if distinct else None))

    def by_person_and_role(self, window: Window) -> dict[tuple[str, str], Tally]:
        """(uid, role) → what the trail shows of that person's use of that role."""
        out: dict[tuple[str, str], Tally] = defaultdict(Tally)
        span = (window.since_ms, window.until_ms)
        for b in self._ask(span, (Field.USER, Field.ROLE), _PERMIT, distinct=True):
            t = out[(b.key[0], b.key[1])]
            t.permits, t.last_ms, t.customers, t.ever = b.count, b.last_ms, b.distinct, True
        for b in self._ask(span, (Field.USER, Field.ROLE, Field.CATEGORY), _PERMIT):
            out[(b.key[0], b.key[1])].categories.add(b.key[2])
        for b in self._ask(span, (Field.USER, Field.ROLE, Field.PURPOSE), _PERMIT):
            out[(b.key[0], b.key[1])].purposes.add(b.key[2])
        for b in self._ask(span, (Field.USER, Field.ROLES), _DENY):
            out[(b.key[0], b.key[1])].denies += b.count
        for b in self._ask((0, window.since_ms), (Field.USER, Field.ROLE), _PERMIT):
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

"""Counting audit events in the index: group-by queries answered by the index itself.

Periodic reports need figures over millions of events (decisions by day, by reason, by
reader...), so the index computes them (SQL ``GROUP BY`` on the embedded index, composite
aggregations on OpenSearch) and hands back only the buckets. An :class:`AggregateQuery` names
the period, the fields to group by (a closed vocabulary, :class:`Field`), optional exact-match
filters, and whether to split by UTC day first. Both adapters must give the same buckets for
the same events; the rules they follow:

- an event counts once in every bucket of the values it has (a list field such as
  ``guardian.reasons`` puts it in one bucket per distinct value);
- an event without a value for a grouped field is left out of that query;
- a day bucket is the UTC date ``YYYY-MM-DD`` of ``@timestamp``;
- ``first_ms`` and ``last_ms`` are the earliest and latest ``@timestamp`` in the bucket;
- ``distinct`` counts the distinct customers the bucket's events named (when asked);
- ``values`` lists, per field asked, the distinct values the bucket's events hold, sorted, at
  most :data:`MAX_VALUES` (the smallest), so one query can say which categories and purposes a
  person used with a role instead of one query per field.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from guardian.errors import InvalidRequest

MAX_GROUPS = 4
MAX_VALUES = 50
"""The most values of a ``values`` field a bucket lists (the smallest, in order)."""
DAY_MS = 86_400_000


class Field(StrEnum):
    """Fields a report may group or filter by (dotted paths of the event)."""

    ACTION = "event.action"
    OUTCOME = "event.outcome"
    USER = "user.id"
    ROLES = "user.roles"
    APPLICATION = "service.name"
    DECISION = "guardian.decision"
    ACCESS = "guardian.action"
    PURPOSE = "guardian.purpose"
    DATABASE = "guardian.database"
    CATEGORY = "guardian.category"
    REASONS = "guardian.reasons"
    POLICY_VERSION = "guardian.policy_version"
    REASON = "guardian.reason"
    AMR = "guardian.amr"
    FACTOR = "guardian.factor"
    ROLE = "guardian.role"
    GRANTEE = "guardian.grantee"
    CUSTOMERS = "guardian.customer_ids"
    """Only counted (``AggregateQuery.distinct``), never grouped by or filtered on."""

    @property
    def many(self) -> bool:
        """Whether an event may hold several values of this field (a list)."""
        return self in _LISTS


_LISTS = frozenset({Field.ROLES, Field.REASONS, Field.AMR, Field.CUSTOMERS})


@dataclass(frozen=True, slots=True)
class AggregateQuery:
    since_ms: int
    """Inclusive lower bound on ``@timestamp`` (epoch milliseconds)."""
    until_ms: int
    """Exclusive upper bound."""
    group_by: tuple[Field, ...] = ()
    where: tuple[tuple[Field, str], ...] = ()
    by_day: bool = False
    """Split by UTC day first: the day is the first part of every bucket key."""
    distinct: Field | None = None
    """Also count the distinct values of this field in each bucket (``Bucket.distinct``);
    only ``Field.CUSTOMERS`` (customers touched, for access review evidence)."""
    values: tuple[Field, ...] = ()
    """Also list the distinct values of these single-valued fields in each bucket
    (``Bucket.values``, in this order)."""

    def __post_init__(self) -> None:
        if self.distinct not in (None, Field.CUSTOMERS) or Field.CUSTOMERS in self.group_by \
                or any(f is Field.CUSTOMERS for f, _ in self.where):
            raise InvalidRequest("customers can only be counted, not grouped or filtered on")
        if self.since_ms >= self.until_ms:
            raise InvalidRequest("the period is empty: `from` must be before `to`")
        if len(self.group_by) > MAX_GROUPS or len(set(self.group_by)) != len(self.group_by):
            raise InvalidRequest(f"group by at most {MAX_GROUPS} distinct fields")
        for field, value in self.where:
            if not isinstance(field, Field) or not value:
                raise InvalidRequest("a filter is a known field and a non-empty value")
        if len(self.values) > MAX_GROUPS or len(set(self.values)) != len(self.values) or any(
                not isinstance(f, Field) or f.many or f in self.group_by for f in self.values):
            raise InvalidRequest(f"list the values of at most {MAX_GROUPS} distinct "
                                 "single-valued fields that are not grouped by")


@dataclass(frozen=True, slots=True)
class Bucket:
    key: tuple[str, ...]
    """The day (when ``by_day``) then one value per grouped field, in the query's order."""
    count: int
    first_ms: int
    last_ms: int
    distinct: int = 0
    """Distinct values of the query's ``distinct`` field (0 when it names none)."""
    values: tuple[tuple[str, ...], ...] = ()
    """Per field of the query's ``values``, the distinct values (sorted, at most
    ``MAX_VALUES``); ``()`` when it names none."""


@dataclass(frozen=True, slots=True)
class Span:
    """Events of a period and the sequence numbers they cover (for gaps in the trail)."""

    events: int
    first_seq: int | None
    last_seq: int | None


def day_of(at_ms: int) -> str:
    """The UTC date of an instant, ``YYYY-MM-DD``."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%d")


def sorted_buckets(buckets: list[Bucket]) -> list[Bucket]:
    """Buckets in key order, so both adapters answer in the same order."""
    return sorted(buckets, key=lambda b: b.key)

"""The per-customer access report (GDPR right of access): who accessed a customer's data, when,
which categories, for which purpose.

Built from the access decisions in the audit trail that name the customer: each permitted one
is an access, each denied one a refused attempt (listed apart: no data was disclosed). Beside
them, the customer's consent: the state per purpose and every change (when, from which source,
recorded by which application and key), whatever the period, as the consent store holds it. The
report is a plain value; :mod:`guardian.reports.render` turns it into JSON or HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from guardian.audit.events import AuditAction, timestamp
from guardian.audit.queries import AuditQuery, Order
from guardian.errors import InvalidRequest
from guardian.governance.consent_records import CustomerConsents
from guardian.ports import AuditSearch

MAX_EVENTS = 100_000
"""More accesses than this in one period: the caller must narrow the period."""


@dataclass(frozen=True, slots=True)
class Access:
    at: str
    user_id: str
    roles: tuple[str, ...]
    application: str | None
    action: str
    database: str
    category: str
    purpose: str
    justification: str | None
    decision: str
    reasons: tuple[str, ...]
    decision_id: str
    seq: int

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at, "user": self.user_id, "roles": list(self.roles),
                "application": self.application, "action": self.action,
                "database": self.database, "category": self.category, "purpose": self.purpose,
                "justification": self.justification, "decision": self.decision,
                "reasons": list(self.reasons), "decision_id": self.decision_id,
                "seq": self.seq}


@dataclass(frozen=True, slots=True)
class PersonSummary:
    """One person's accesses to the customer's data over the period."""

    user_id: str
    accesses: int
    categories: tuple[str, ...]
    purposes: tuple[str, ...]
    first_at: str
    last_at: str

    def as_dict(self) -> dict[str, Any]:
        return {"user": self.user_id, "accesses": self.accesses,
                "categories": list(self.categories), "purposes": list(self.purposes),
                "first_at": self.first_at, "last_at": self.last_at}


@dataclass(frozen=True, slots=True)
class CustomerAccessReport:
    customer_id: str
    period_from: str | None
    period_to: str | None
    generated_at: str
    accesses: tuple[Access, ...]
    refused: tuple[Access, ...]
    people: tuple[PersonSummary, ...]
    consent: CustomerConsents | None = None

    def as_dict(self) -> dict[str, Any]:
        consent = self.consent.as_dict() if self.consent is not None else None
        return {
            "customer_id": self.customer_id,
            "period": {"from": self.period_from, "to": self.period_to},
            "generated_at": self.generated_at,
            "summary": {"accesses": len(self.accesses), "people": len(self.people),
                        "refused_attempts": len(self.refused)},
            "people": [p.as_dict() for p in self.people],
            "accesses": [a.as_dict() for a in self.accesses],
            "refused_attempts": [a.as_dict() for a in self.refused],
            "consent": None if consent is None else {
                "consents": consent["consents"], "history": consent["history"]},
        }


def customer_events(
    index: AuditSearch, customer_id: str, since_ms: int | None, until_ms: int | None,
    *, limit: int = MAX_EVENTS,
) -> Iterator[Mapping[str, Any]]:
    """Every access decision naming ``customer_id`` in the period, oldest first."""
    query = AuditQuery(customer_id=customer_id, action=AuditAction.ACCESS_DECISION.value,
                       since_ms=since_ms, until_ms=until_ms, size=1000,
                       order=Order.OLDEST_FIRST)
    seen = 0
    while True:
        page = index.search(query)
        for event in page.events:
            seen += 1
            if seen > limit:
                raise InvalidRequest(f"more than {limit} accesses in the period: narrow it")
            yield event
        if page.next_cursor is None:
            return
        query = query.next_page(page.next_cursor)


def build_report(
    customer_id: str, events: Iterable[Mapping[str, Any]], *, period_from: str | None,
    period_to: str | None, now: float, consent: CustomerConsents | None = None,
) -> CustomerAccessReport:
    accesses: list[Access] = []
    refused: list[Access] = []
    for event in events:
        access = _access(event)
        (accesses if access.decision == "permit" else refused).append(access)
    return CustomerAccessReport(customer_id, period_from, period_to, timestamp(now),
                                tuple(accesses), tuple(refused), _people(accesses), consent)


def _access(event: Mapping[str, Any]) -> Access:
    g: Mapping[str, Any] = event.get("guardian", {})
    user: Mapping[str, Any] = event.get("user", {})
    return Access(
        at=str(event.get("@timestamp", "")), user_id=str(user.get("id", "")),
        roles=tuple(str(r) for r in user.get("roles", ())),
        application=_text(event.get("service", {}).get("name")),
        action=str(g.get("action", "")), database=str(g.get("database", "")),
        category=str(g.get("category", "")), purpose=str(g.get("purpose", "")),
        justification=_text(g.get("justification")), decision=str(g.get("decision", "")),
        reasons=tuple(str(r) for r in g.get("reasons", ())),
        decision_id=str(g.get("decision_id", "")), seq=int(g.get("seq", 0)),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _people(accesses: Iterable[Access]) -> tuple[PersonSummary, ...]:
    by_user: dict[str, list[Access]] = {}
    for access in accesses:
        by_user.setdefault(access.user_id, []).append(access)
    return tuple(
        PersonSummary(uid, len(items), tuple(sorted({a.category for a in items})),
                      tuple(sorted({a.purpose for a in items})), items[0].at, items[-1].at)
        for uid, items in sorted(by_user.items())
    )

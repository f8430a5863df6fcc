"""Consent records: one change (given or withdrawn), the state it leaves, a customer's history.

A change is what the consent system (or an import) told Guardian, kept for ever: ``at`` is when
the customer gave or withdrew it (the consent system's time, or the moment Guardian heard of it),
``recorded_at`` when Guardian stored it, ``change_id`` the store's order. The state of a customer
and purpose is the change that is latest by ``(at, change_id)``: an old record imported late
never overrides a newer withdrawal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from guardian.clock import iso_utc, iso_utc_or_none


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The latest change of one customer and purpose, as the decision path holds it."""

    customer_id: str
    purpose: str
    granted: bool
    at: float
    change_id: int

    @property
    def order(self) -> tuple[float, int]:
        return (self.at, self.change_id)


@dataclass(frozen=True, slots=True)
class ConsentChange:
    customer_id: str
    purpose: str
    granted: bool
    at: float
    source: str
    """Where the consent system says it came from (``web-form``, ``call-centre``, a file…)."""
    actor: str
    """The application whose key recorded it, or the person who ran the import."""
    key_id: str | None
    recorded_at: float
    change_id: int = 0
    """Assigned by the store (0 before it is stored)."""

    @property
    def state(self) -> ConsentState:
        return ConsentState(self.customer_id, self.purpose, self.granted, self.at,
                            self.change_id)

    def as_dict(self) -> dict[str, Any]:
        return {"purpose": self.purpose, "granted": self.granted, "at": iso_utc(self.at),
                "source": self.source, "recorded_by": self.actor, "key_id": self.key_id,
                "recorded_at": iso_utc(self.recorded_at), "change_id": self.change_id}


@dataclass(frozen=True, slots=True)
class CustomerConsents:
    """A customer's consent: the state per purpose that needs one, and every change, oldest
    first. A purpose never recorded is not granted (``at`` ``None``)."""

    customer_id: str
    purposes: tuple[str, ...]
    history: tuple[ConsentChange, ...]

    def latest(self, purpose: str) -> ConsentChange | None:
        mine = [c for c in self.history if c.purpose == purpose]
        return max(mine, key=lambda c: c.state.order) if mine else None

    def as_dict(self) -> dict[str, Any]:
        current = []
        for purpose in self.purposes:
            last = self.latest(purpose)
            current.append({
                "purpose": purpose, "granted": bool(last and last.granted),
                "at": iso_utc_or_none(last.at if last else None),
                "source": last.source if last else None,
                "recorded_by": last.actor if last else None})
        return {"customer_id": self.customer_id, "consents": current,
                "history": [c.as_dict() for c in self.history]}

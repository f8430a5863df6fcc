"""In-memory implementations of the ports, for unit tests, policy tests and what-if checks.

They keep the same contracts as the real adapters (the journal chains and seals events just
like :class:`~guardian.journal.writer.FileJournal`) but nothing survives the process.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from guardian.audit.chain import GENESIS, seal
from guardian.audit.queries import AuditPage, AuditQuery, Order, event_millis, field_values
from guardian.audit.records import AuditReceipt
from guardian.errors import AuditUnavailable, StoreUnavailable
from guardian.governance.consent_records import ConsentChange, ConsentState
from guardian.identity.lockout import LockoutPolicy
from guardian.identity.principal import Principal


class MemoryDirectory:
    def __init__(self, principals: Iterable[Principal] = ()) -> None:
        self._by_uid = {p.uid: p for p in principals}

    def get(self, uid: str) -> Principal | None:
        return self._by_uid.get(uid)

    def principals(self) -> Iterable[Principal]:
        return list(self._by_uid.values())

    def put(self, principal: Principal) -> None:
        self._by_uid[principal.uid] = principal


class NoSeeds:
    """``MfaSecrets`` holding no seed: beneath the store, people have what they enrolled."""

    def totp_secret(self, uid: str) -> str | None:
        return None


class MemoryConsents:
    def __init__(self, consents: Iterable[tuple[str, str]] = ()) -> None:
        self._given = set(consents)

    def without_consent(self, customer_ids: Sequence[str], purpose: str) -> tuple[str, ...]:
        return tuple(c for c in dict.fromkeys(customer_ids) if (c, purpose) not in self._given)


class MemoryConsentStore:
    """A ``ConsentStore`` in lists; ``fail`` makes every call raise ``StoreUnavailable``."""

    def __init__(self) -> None:
        self.changes: list[ConsentChange] = []
        self.fail = False

    def record_change(self, change: ConsentChange) -> ConsentChange:
        self._check()
        stored = dataclasses.replace(change, change_id=len(self.changes) + 1)
        self.changes.append(stored)
        return stored

    def history(self, customer_id: str) -> list[ConsentChange]:
        self._check()
        return [c for c in self.changes if c.customer_id == customer_id]

    def consent_states(self) -> list[ConsentState]:
        self._check()
        latest: dict[tuple[str, str], ConsentState] = {}
        for change in self.changes:
            key = (change.customer_id, change.purpose)
            if key not in latest or latest[key].order < change.state.order:
                latest[key] = change.state
        return list(latest.values())

    def last_change_id(self) -> int:
        self._check()
        return len(self.changes)

    def changes_after(self, after_id: int, also: Sequence[int], limit: int
                      ) -> list[ConsentChange]:
        self._check()
        return [c for c in self.changes if c.change_id > after_id or c.change_id in also][:limit]

    def _check(self) -> None:
        if self.fail:
            raise StoreUnavailable("memory consent store set to fail")


class MemoryGrants:
    def __init__(self, grants: Mapping[str, Iterable[tuple[str, float, float]]] | None = None):
        self._grants = {uid: list(gs) for uid, gs in (grants or {}).items()}

    def active_roles(self, uid: str, at: float) -> frozenset[str]:
        grants = self._grants.get(uid, ())
        return frozenset(role for role, start, end in grants if start <= at < end)

    def add(self, uid: str, role: str, start: float, end: float) -> None:
        self._grants.setdefault(uid, []).append((role, start, end))


class MemoryJournal:
    """A hash-chained journal in a list; ``fail`` makes every append raise AuditUnavailable."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail = False
        self._lock = threading.Lock()
        self._prev = GENESIS

    def append(self, event: Mapping[str, Any]) -> AuditReceipt:
        return self.append_many((event,))[0]

    def append_many(self, events: Sequence[Mapping[str, Any]]) -> list[AuditReceipt]:
        with self._lock:
            if self.fail:
                raise AuditUnavailable("memory journal set to fail")
            receipts = []
            for event in events:
                sealed, digest = seal(event, len(self.events) + 1, self._prev)
                self.events.append(sealed)
                self._prev = digest
                receipts.append(AuditReceipt(len(self.events), digest))
            return receipts

    async def append_many_async(
        self, events: Sequence[Mapping[str, Any]]
    ) -> list[AuditReceipt]:
        return self.append_many(events)

    @property
    def last_seq(self) -> int:
        return len(self.events)

    def close(self) -> None:
        return None


class MemoryLedger:
    """An ``OtpLedger`` in dictionaries, atomic under one lock like the store's statements."""

    def __init__(self) -> None:
        self.claims: set[tuple[str, int]] = set()
        self.counters: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def claim(self, uid: str, timestep: int, at: float) -> bool:
        with self._lock:
            if (uid, timestep) in self.claims:
                return False
            self.claims.add((uid, timestep))
            return True

    def reserve_attempt(self, key: str, at: float, policy: LockoutPolicy) -> int | None:
        with self._lock:
            count, last = self.counters.get(key, (0, float("-inf")))
            if last + policy.forget_after_s <= at:
                count = 0
            elif count >= policy.max_failures and at < last + policy.locked_for(count):
                return None
            self.counters[key] = (count + 1, at)
            return count + 1

    def attempts(self, key: str, at: float, policy: LockoutPolicy) -> int:
        with self._lock:
            count, last = self.counters.get(key, (0, float("-inf")))
        return 0 if last + policy.forget_after_s <= at else count

    def release_attempts(self, key: str) -> None:
        with self._lock:
            self.counters.pop(key, None)

    def refund_attempt(self, key: str) -> None:
        with self._lock:
            if key in self.counters:
                count, last = self.counters[key]
                self.counters[key] = (max(0, count - 1), last)

    def purge_attempts(self, before: float) -> int:
        with self._lock:
            old = [k for k, (_n, last) in self.counters.items() if last < before]
            for key in old:
                del self.counters[key]
        return len(old)


class MemoryInvitations:
    """``MfaInvitations`` in a dictionary: digest → (uid, expires_at, used)."""

    def __init__(self) -> None:
        self.invitations: dict[str, tuple[str, float, bool]] = {}

    def add_invitation(self, uid: str, digest: str, created_by: str, at: float,
                       expires_at: float) -> None:
        self.invitations = {d: v for d, v in self.invitations.items()
                            if v[0] != uid or v[2]}
        self.invitations[digest] = (uid, expires_at, False)

    def use_invitation(self, uid: str, digest: str, at: float) -> bool:
        found = self.invitations.get(digest)
        if found is None or found[0] != uid or found[2] or found[1] <= at:
            return False
        self.invitations[digest] = (uid, found[1], True)
        return True


class MemoryAuditSearch:
    """``AuditSearch`` over a list of events: exact terms and the time range of a query, in
    its order, one page of ``size`` (no cursor: enough for the services that read the trail)."""

    def __init__(self, events: Iterable[Mapping[str, Any]] = ()) -> None:
        self.events = list(events)

    def search(self, query: AuditQuery) -> AuditPage:
        terms = query.terms()
        found = [e for e in self.events
                 if all(value in field_values(e, name) for name, value in terms.items())
                 and (query.since_ms is None or event_millis(e) >= query.since_ms)
                 and (query.until_ms is None or event_millis(e) < query.until_ms)]
        found.sort(key=event_millis, reverse=query.order is Order.NEWEST_FIRST)
        return AuditPage(found[:query.size], None)

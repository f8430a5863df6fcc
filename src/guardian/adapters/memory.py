"""In-memory implementations of the ports, for unit tests, policy tests and what-if checks.

They keep the same contracts as the real adapters (the journal chains and seals events just
like :class:`~guardian.audit.journal.FileJournal`) but nothing survives the process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from guardian.audit.chain import GENESIS, seal
from guardian.errors import AuditUnavailable
from guardian.identity.principal import Principal
from guardian.policy.model import AuditReceipt


class MemoryDirectory:
    def __init__(self, principals: Iterable[Principal] = ()) -> None:
        self._by_uid = {p.uid: p for p in principals}

    def get(self, uid: str) -> Principal | None:
        return self._by_uid.get(uid)

    def principals(self) -> Iterable[Principal]:
        return list(self._by_uid.values())

    def put(self, principal: Principal) -> None:
        self._by_uid[principal.uid] = principal


class MemoryConsents:
    def __init__(self, consents: Iterable[tuple[str, str]] = ()) -> None:
        self._given = set(consents)

    def without_consent(self, customer_ids: Sequence[str], purpose: str) -> tuple[str, ...]:
        return tuple(c for c in dict.fromkeys(customer_ids) if (c, purpose) not in self._given)


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

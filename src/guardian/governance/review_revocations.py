"""Standing roles revoked in access reviews, held in memory for the decision path.

The view is loaded from the store at start, updated at once in the process that revokes or
restores (before the call returns); the other workers and replicas re-read it when the change
feed tells them (a ``revocation`` change, within a second), and a slow periodic refresh is the
net under a message missed. A look-up is one
dictionary access; the mapping is swapped whole, never changed in place.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Protocol

from guardian.changes import Change, ChangeKind
from guardian.governance.review_model import Revocation

_EMPTY: Mapping[str, str] = MappingProxyType({})


class RevocationSource(Protocol):
    def active_revocations(self) -> list[Revocation]: ...


class ChangeFeedSubscription(Protocol):
    def subscribe(self, kind: ChangeKind, handler: Callable[[Change], None]) -> None: ...


class RevocationView:
    """Implements ``RevokedAccess``."""

    def __init__(self, source: RevocationSource | None = None) -> None:
        self._source = source
        self._by_uid: dict[str, Mapping[str, str]] = {}
        self._items: dict[str, Revocation] = {}
        self._lock = threading.Lock()
        if source is not None:
            self.refresh()

    def revoked_roles(self, uid: str) -> Mapping[str, str]:
        return self._by_uid.get(uid, _EMPTY)

    def refresh(self) -> None:
        """Read every active revocation from the store again (the background refresh)."""
        if self._source is None:
            return
        with self._lock:
            self._swap({r.item_id: r for r in self._source.active_revocations()})

    def follow(self, feed: ChangeFeedSubscription) -> None:
        """Re-read the revocations when another process says they changed (a ``revocation``
        change, or a resync after the feed reconnected), in the feed's thread."""
        feed.subscribe(ChangeKind.REVOCATION, self._changed)

    def _changed(self, _change: Change) -> None:
        self.refresh()

    def add(self, revocations: Sequence[Revocation]) -> None:
        with self._lock:
            self._swap({**self._items, **{r.item_id: r for r in revocations}})

    def remove(self, item_ids: Iterable[str]) -> None:
        gone = set(item_ids)
        with self._lock:
            self._swap({k: v for k, v in self._items.items() if k not in gone})

    def _swap(self, items: dict[str, Revocation]) -> None:
        by_uid: dict[str, dict[str, str]] = {}
        for r in sorted(items.values(), key=lambda r: (r.at, r.item_id)):
            by_uid.setdefault(r.uid, {})[r.role] = r.campaign_id
        self._items = items
        self._by_uid = {u: MappingProxyType(m) for u, m in by_uid.items()}

    def __len__(self) -> int:
        return len(self._items)

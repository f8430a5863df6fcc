"""The consent the decision path reads: an in-memory view of the store, kept current.

A marketing decision asks, for each customer named, whether the latest change of their consent
grants it: a dictionary look-up, never a database round trip on the event loop. The view is
loaded when Guardian starts; the process that records a change applies it at once (the next
decision here counts it); :class:`ConsentFollower` reads the changes other processes and
replicas stored, when the change feed says there are some and every
``consent_refresh_interval_s`` besides (an ``adapters.background.Every`` calls
:meth:`ConsentFollower.refresh`; nothing here runs a thread).

Changes are applied by order (``at``, then ``change_id``), so applying one twice, or an older
one after a newer, changes nothing. The follower reads the history by ``change_id``; on
PostgreSQL ids are handed out before their transactions commit, so an id skipped over may still
commit: it is looked for again for ``gap_ttl_s`` before it is given up as rolled back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence

from guardian.governance.consent_records import ConsentState
from guardian.ports import ConsentStore

_RELOAD_MARGIN = 1000
"""On (re)loading, the last this many ids are read again: their transactions may be in flight."""
_MAX_GAPS = 1000
"""Skipped ids looked for again at most (the latest): a burst of rollbacks cannot grow it."""


class ConsentView:
    """Implements :class:`~guardian.ports.ConsentRegistry` from memory."""

    def __init__(self, states: Iterable[ConsentState] = ()) -> None:
        self._states: dict[tuple[str, str], ConsentState] = {}
        self._lock = threading.Lock()
        for state in states:
            self.apply(state)

    def without_consent(self, customer_ids: Sequence[str], purpose: str) -> tuple[str, ...]:
        states = self._states  # read without the lock: a dict look-up is atomic
        missing = []
        for customer in dict.fromkeys(customer_ids):
            state = states.get((customer, purpose))
            if state is None or not state.granted:
                missing.append(customer)
        return tuple(missing)

    def apply(self, state: ConsentState) -> bool:
        """Take ``state`` if it is newer than the one held; whether it was."""
        key = (state.customer_id, state.purpose)
        with self._lock:
            held = self._states.get(key)
            if held is not None and held.order >= state.order:
                return False
            self._states[key] = state
            return True

    def replace(self, states: Iterable[ConsentState]) -> None:
        fresh = {(s.customer_id, s.purpose): s for s in states}
        with self._lock:
            self._states = fresh

    def __len__(self) -> int:
        return len(self._states)


class ConsentFollower:
    """Keeps a :class:`ConsentView` current with the store: loads it, then follows the history.

    :meth:`refresh` is called from background threads only (the feed's, the periodic one's),
    one at a time (a lock); a store that cannot be read raises and is retried at the next call
    (the view keeps serving what it holds)."""

    def __init__(self, store: ConsentStore, view: ConsentView, *,
                 gap_ttl_s: float = 60.0, batch: int = 10_000) -> None:
        self._store = store
        self.view = view
        self._gap_ttl_s = gap_ttl_s
        self._batch = batch
        self._cursor = 0
        self._gaps: dict[int, float] = {}
        self._refreshing = threading.Lock()

    def load(self) -> int:
        """Read every current state into the view; how many there are. Blocking."""
        last_id = self._store.last_change_id()  # first: what commits meanwhile is read again
        states = self._store.consent_states()
        self.view.replace(states)
        self._cursor = max(0, last_id - _RELOAD_MARGIN)
        self._gaps.clear()
        return len(states)

    def refresh(self) -> int:
        """Apply the changes stored since the last call; how many were new to the view."""
        with self._refreshing:
            return self._refresh()

    def _refresh(self) -> int:
        applied = 0
        while True:
            changes = self._store.changes_after(self._cursor, sorted(self._gaps), self._batch)
            now = time.monotonic()
            for change in changes:
                self._gaps.pop(change.change_id, None)
                if change.change_id > self._cursor:
                    self._gaps.update((i, now) for i in range(self._cursor + 1,
                                                               change.change_id))
                    self._cursor = change.change_id
                applied += self.view.apply(change.state)
            if len(changes) < self._batch:
                break
        kept = sorted(i for i, t in self._gaps.items() if now - t < self._gap_ttl_s)
        self._gaps = {i: self._gaps[i] for i in kept[-_MAX_GAPS:]}
        return applied

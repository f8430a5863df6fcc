"""What the shipper has done and how far behind it is, for ``/v1/health`` and ``/v1/metrics``.

Counters only grow; the lag histogram counts, per acknowledged event, the seconds between its
``@timestamp`` and the index's acknowledgement. Updated by the shipper thread, read by request
handlers: every access holds one small lock.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from guardian.audit.records import ItemOutcome, ItemStatus, JournalRecord
from guardian.clock import iso_utc_or_none

if TYPE_CHECKING:
    from guardian.journal.ship_state import Conflict

LAG_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)


class ShipperStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.state = "starting"
        self.shipped_total = 0
        self.duplicates_total = 0
        self.batches_total = 0
        self.failures_total = 0
        self.retried_items_total = 0
        self.trims_total = 0
        self.trimmed_bytes_total = 0
        self.last_error: str | None = None
        self.last_ack_at: float | None = None
        self.note_text: str | None = None
        self.held: tuple[int, str] | None = None
        self.conflicts: tuple[Conflict, ...] = ()
        self._pending_since: float | None = None
        self.lag_counts = [0] * (len(LAG_BUCKETS) + 1)
        self.lag_sum = 0.0
        self.lag_max = 0.0

    def batch_sent(self, size: int) -> None:
        with self._lock:
            self.batches_total += 1
            if self.state not in ("held", "backing_off"):
                self.state = "shipping"

    def failed(self, error: str) -> None:
        with self._lock:
            self.failures_total += 1
            self.last_error = error[:500]
            if self.state != "held":
                self.state = "backing_off"

    def not_acknowledged(self, outcome: ItemOutcome) -> None:
        with self._lock:
            if outcome.status is ItemStatus.RETRY:
                self.retried_items_total += 1
            self.last_error = f"event {outcome.seq}: {outcome.status}: {outcome.detail}"[:500]

    def acknowledged(
        self, records: Sequence[JournalRecord], outcomes: Sequence[ItemOutcome], now: float,
        lags: Sequence[float],
    ) -> None:
        with self._lock:
            self.shipped_total += len(records)
            self.duplicates_total += sum(1 for o in outcomes[:len(records)]
                                         if o.status is ItemStatus.DUPLICATE)
            self.last_ack_at = now
            self.state = "shipping"
            if lags:
                # What is still unshipped is no older than the last event acknowledged.
                self._pending_since = now - lags[-1]
            for lag in lags:
                self.lag_counts[_bucket(lag)] += 1
                self.lag_sum += lag
                self.lag_max = max(self.lag_max, lag)

    def set_held(self, held: tuple[int, str] | None, conflicts: tuple[Conflict, ...]) -> None:
        with self._lock:
            self.held = held
            self.conflicts = conflicts
            if held is not None:
                self.state = "held"

    def caught_up(self, journal_seq: int, shipped_seq: int) -> None:
        with self._lock:
            if shipped_seq >= journal_seq:
                self._pending_since = None
                if self.state != "held":
                    self.state = "idle"

    def pending_since(self, now: float) -> None:
        with self._lock:
            if self._pending_since is None:
                self._pending_since = now

    def trimmed(self, removed: int) -> None:
        with self._lock:
            self.trims_total += 1
            self.trimmed_bytes_total += removed

    def note(self, text: str) -> None:
        with self._lock:
            self.note_text = text

    def stopped(self) -> None:
        with self._lock:
            self.state = "stopped"

    def snapshot(
        self, journal_seq: int, shipped_seq: int, now: float, journal_bytes: int
    ) -> dict[str, object]:
        with self._lock:
            lag_events = max(0, journal_seq - shipped_seq)
            since = self._pending_since
            return {
                "state": self.state,
                "journal_seq": journal_seq,
                "shipped_seq": shipped_seq,
                "lag_events": lag_events,
                "lag_seconds": round(max(0.0, now - since), 3) if lag_events and since else 0.0,
                "journal_bytes": journal_bytes,
                "shipped_total": self.shipped_total,
                "duplicates_total": self.duplicates_total,
                "batches_total": self.batches_total,
                "failures_total": self.failures_total,
                "retried_items_total": self.retried_items_total,
                "trims_total": self.trims_total,
                "trimmed_bytes_total": self.trimmed_bytes_total,
                "last_ack_at": iso_utc_or_none(self.last_ack_at, "milliseconds"),
                "last_error": self.last_error,
                "note": self.note_text,
                "held": {"seq": self.held[0], "reason": self.held[1]} if self.held else None,
                "conflicts": [{"seq": c.seq, "detail": c.detail} for c in self.conflicts],
                "lag_histogram": {"buckets": list(LAG_BUCKETS), "counts": list(self.lag_counts),
                                  "sum": round(self.lag_sum, 3), "max": round(self.lag_max, 3)},
            }


def _bucket(lag: float) -> int:
    for i, bound in enumerate(LAG_BUCKETS):
        if lag <= bound:
            return i
    return len(LAG_BUCKETS)



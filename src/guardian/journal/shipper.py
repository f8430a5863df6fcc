"""The shipper: from the local journal into the audit index, in order, nothing lost or doubled.

It reads durable events from the journal, sends them in batches (by size, or once the oldest
waited ``interval_s``) through the :class:`~guardian.ports.AuditIndex` port, and advances its
saved position only over events the index acknowledged (created, or already there and
identical). An index that is down, slow or busy is retried with capped exponential back-off
while decisions go on and the journal grows; an event the index refuses for good holds the
shipper at that event (reported, never skipped). A different document already holding a
sequence number is a tamper signal: reported, kept in the saved state, and the journal is never
trimmed past it. The journal is trimmed only up to a signed checkpoint that was acknowledged,
and only once the shipper has caught up (so the rest to copy is small).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from guardian.audit.queries import event_millis
from guardian.audit.records import ItemOutcome, ItemStatus, JournalRecord
from guardian.audit.writers import writer_of
from guardian.errors import AuditIndexUnavailable, GuardianError
from guardian.journal.ship_state import Conflict, ShipState, load_state, save_state
from guardian.journal.shipper_stats import LAG_BUCKETS, ShipperStats
from guardian.logging import get_logger
from guardian.ports import AuditIndex, ShippableJournal

TRIM_MAX_COPY = 16 * 1024 * 1024
"""Trim only when what follows the checkpoint (copied while appenders wait) is this small."""
log = get_logger("guardian.audit")


@dataclass(frozen=True, slots=True)
class ShipperConfig:
    batch_size: int = 5000
    interval_s: float = 0.5
    max_backoff_s: float = 30.0
    initial_backoff_s: float = 0.2
    trim_bytes: int = 64 * 1024 * 1024
    fsync: bool = True


@dataclass(frozen=True, slots=True)
class DrainResult:
    shipped: int
    caught_up: bool
    held: tuple[int, str] | None = None
    conflicts: tuple[Conflict, ...] = field(default=())


class Shipper:
    def __init__(
        self, journal: ShippableJournal, index: AuditIndex, state_file: Path,
        config: ShipperConfig, now: Callable[[], float],
    ) -> None:
        self._journal = journal
        self._index = index
        self._state_file = state_file
        self._config = config
        self._now = now
        self._state = load_state(state_file)
        self._offset: int | None = None
        self._checkpoint_at: tuple[int, int] | None = None  # (offset, seq) of the last shipped
        self._held: tuple[int, str] | None = None
        self._stats = ShipperStats()
        self._ship_lock = threading.Lock()
        self._reader: ThreadPoolExecutor | None = None
        self._ahead: tuple[int, Future[list[JournalRecord]]] | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- one batch ----------------------------------------------------------------------

    def ship_once(self) -> int:
        """Send the next batch; return how many events the index newly acknowledged."""
        with self._ship_lock:  # the server's thread and a drain never interleave
            return self._ship_once()

    def _ship_once(self) -> int:
        offset = self._position()
        records = self._read(offset)
        if not records:
            self._caught_up()
            return 0
        if len(records) == self._config.batch_size:
            self._read_ahead(records[-1].end)  # parsed while this batch is in flight
        self._stats.batch_sent(len(records))
        try:
            # Checkpoint copies first: a checkpoint seen in the events index has its copy.
            checkpoints = [r for r in records if r.is_checkpoint]
            copies = self._index.index_checkpoints(checkpoints) if checkpoints else []
            outcomes = _merge(self._index.index_events(records), copies)
        except AuditIndexUnavailable as exc:
            self._stats.failed(str(exc))
            raise
        return self._advance(records, outcomes)

    def _advance(self, records: Sequence[JournalRecord], outcomes: Sequence[ItemOutcome]) -> int:
        state = self._state
        conflicts = list(state.conflicts)
        done: list[JournalRecord] = []
        self._held = None
        for record, outcome in zip(records, outcomes, strict=True):
            if outcome.status is ItemStatus.CONFLICT:
                if all(c.seq != record.seq for c in conflicts):
                    conflicts.append(Conflict(record.seq, outcome.detail))
            elif not outcome.status.acknowledged:
                if outcome.status is ItemStatus.REJECTED:
                    self._held = (record.seq, outcome.detail)
                self._stats.not_acknowledged(outcome)
                break
            done.append(record)
            if record.is_checkpoint:
                self._checkpoint_at = (record.offset, record.seq)
        if done:
            last = done[-1]
            self._state = ShipState(last.seq, last.hash, last.end, tuple(conflicts),
                                    writer_of(last.event))
            self._offset = last.end
            save_state(self._state_file, self._state, fsync=self._config.fsync)
            self._stats.acknowledged(done, outcomes, self._now(), _lags(done, self._now()))
        self._stats.set_held(self._held, tuple(conflicts))
        if self._held is not None:
            raise _Held(*self._held)
        if len(done) < len(records):
            retry = records[len(done)].seq
            raise AuditIndexUnavailable(f"the index asked to retry from seq {retry}")
        self._maybe_trim()
        return len(done)

    def _caught_up(self) -> None:
        self._stats.caught_up(self._journal.last_seq, self._state.seq)
        self._maybe_trim()

    # -- reading, one batch ahead -------------------------------------------------------

    def _read(self, offset: int) -> list[JournalRecord]:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            at, future = ahead
            records = future.result()
            if at == offset:
                return records
        return self._journal.read_records(offset, self._config.batch_size)

    def _read_ahead(self, offset: int) -> None:
        if self._reader is None:
            self._reader = ThreadPoolExecutor(1, thread_name_prefix="audit-reader")
        self._ahead = (offset, self._reader.submit(self._journal.read_records, offset,
                                                   self._config.batch_size))

    def _drop_ahead(self) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            with contextlib.suppress(Exception):  # a read error shows again on the next read
                ahead[1].result()

    # -- position and trimming ----------------------------------------------------------

    def _position(self) -> int:
        """Where the next event starts in the journal, checking the saved hint once."""
        if self._offset is not None:
            return self._offset
        wanted = self._state.seq + 1
        hint = self._state.offset
        found: int | None = None
        try:
            head = self._journal.read_records(hint, 1) if hint else []
            if head and head[0].seq == wanted and head[0].offset == hint:
                found = hint
        except GuardianError:
            found = None  # a stale hint (the journal was trimmed since): search
        if found is None and hint == self._journal.durable_offset \
                and self._journal.last_seq == self._state.seq:
            found = hint
        if found is None:
            found = self._journal.offset_of(wanted)
        if found is None:
            # Not in the journal: ahead of it, or before its first event (a state older than a
            # trim). Start from the top; what the index already holds comes back a duplicate.
            found = 0
            self._stats.note(f"ship state (seq {self._state.seq}) does not match the journal; "
                             "re-sending from the journal's first event")
        self._offset = found
        return found

    def _maybe_trim(self) -> None:
        if self._checkpoint_at is None or self._config.trim_bytes <= 0:
            return
        offset, seq = self._checkpoint_at
        if offset < self._config.trim_bytes:
            return
        if self._journal.durable_offset - offset > TRIM_MAX_COPY:
            return
        if any(c.seq < seq for c in self._state.conflicts):
            return  # keep the evidence of a conflict in the journal
        self._drop_ahead()  # offsets change, and the reader must not read meanwhile
        removed = self._journal.trim_before(offset)
        self._checkpoint_at = (0, seq)
        if self._offset is not None:
            self._offset -= removed
        self._state = replace(self._state, offset=self._state.offset - removed)
        save_state(self._state_file, self._state, fsync=self._config.fsync)
        self._stats.trimmed(removed)

    # -- draining (the CLI) and running (the server) ------------------------------------

    def drain(
        self, *, max_wait_s: float, sleep: Callable[[float], None] = time.sleep
    ) -> DrainResult:
        """Ship until caught up; retry a failing index until ``max_wait_s`` passed."""
        deadline = time.monotonic() + max_wait_s
        shipped = 0
        backoff = Backoff(self._config.initial_backoff_s, self._config.max_backoff_s)
        while True:
            try:
                before = self._state.seq
                self.ship_once()
                if self._state.seq == before:
                    return DrainResult(shipped, True, None, self._state.conflicts)
                shipped += self._state.seq - before
                backoff.reset()
            except _Held as held:
                return DrainResult(shipped, False, (held.seq, held.detail), self._state.conflicts)
            except AuditIndexUnavailable:
                delay = backoff.next()
                if time.monotonic() + delay > deadline:
                    raise
                sleep(delay)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="audit-shipper", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout_s)
        with self._ship_lock:
            self._drop_ahead()
            if self._reader is not None:
                self._reader.shutdown(wait=True)
                self._reader = None

    def _run(self) -> None:
        backoff = Backoff(self._config.initial_backoff_s, self._config.max_backoff_s)
        tick = min(max(self._config.interval_s / 5, 0.01), 0.2)
        pending_since: float | None = None
        while not self._stop.is_set():
            try:
                self._checkpoint()
                pending = self._journal.last_seq - self._state.seq
                if pending <= 0:
                    pending_since = None
                    with self._ship_lock:
                        self._caught_up()
                    self._stop.wait(tick)
                    continue
                if pending_since is None:
                    pending_since = time.monotonic()
                    self._stats.pending_since(self._now())
                waited = time.monotonic() - pending_since
                if pending < self._config.batch_size and waited < self._config.interval_s:
                    self._stop.wait(min(tick, self._config.interval_s - waited))
                    continue
                self.ship_once()
                pending_since = None
                backoff.reset()
            except (GuardianError, OSError) as exc:
                self._stats.failed(str(exc))
                self._stop.wait(backoff.next())
            except Exception as exc:
                self._stats.failed(f"unexpected {type(exc).__name__}")
                log.error("shipping failed unexpectedly; retrying", error=type(exc).__name__,
                          exc_info=exc)
                self._stop.wait(backoff.next())
        self._stats.stopped()

    def _checkpoint(self) -> None:
        """A checkpoint due by time; a journal that cannot take one must not stop shipping
        (trimming is what frees its disk)."""
        try:
            self._journal.checkpoint_if_due()
        except GuardianError as exc:
            self._stats.note(f"checkpoint not written: {exc.message}")

    # -- observing ----------------------------------------------------------------------

    @property
    def state(self) -> ShipState:
        return self._state

    def stats(self) -> dict[str, object]:
        return self._stats.snapshot(self._journal.last_seq, self._state.seq, self._now(),
                                    self._journal.durable_offset)

    @property
    def lag_buckets(self) -> tuple[float, ...]:
        return LAG_BUCKETS


class _Held(GuardianError):
    code = "audit_index_rejected"

    def __init__(self, seq: int, detail: str) -> None:
        super().__init__(f"the index refused event {seq}: {detail}")
        self.seq = seq
        self.detail = detail


class Backoff:
    """Capped exponential back-off with jitter: 0.2, 0.4, 0.8 … up to the cap."""

    def __init__(self, initial: float, cap: float) -> None:
        self._initial = initial
        self._cap = cap
        self._next = initial

    def next(self) -> float:
        delay = self._next
        self._next = min(self._cap, self._next * 2)
        return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret

    def reset(self) -> None:
        self._next = self._initial


def _merge(events: Sequence[ItemOutcome], copies: Sequence[ItemOutcome]) -> list[ItemOutcome]:
    """An event whose checkpoint copy was not acknowledged is not acknowledged either."""
    worse = {c.seq: c for c in copies if not c.status.acknowledged}
    return [worse.get(o.seq, o) if o.status.acknowledged else o for o in events]


def _lags(records: Sequence[JournalRecord], now: float) -> list[float]:
    lags: list[float] = []
    for record in records:
        try:
            lags.append(max(0.0, now - event_millis(record.event) / 1000))
        except (GuardianError, KeyError):
            continue
    return lags

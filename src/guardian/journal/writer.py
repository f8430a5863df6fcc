"""The local audit journal: an append-only JSON Lines file, hash-chained, fsynced in groups.

What it guarantees (with a signing key, as Guardian always runs it):

- **No acknowledged event outside a signature.** Every group commit is written as the group's
  events followed by a *seal* line, an Ed25519 signature over the (seq, hash) of the group's
  last event, in one ``write`` and one ``fsync``; no appender of the group is answered before
  that. The seal is not an event: it takes no sequence number and readers (the shipper, the
  verifier) skip it.
- **What follows the last signature was never acknowledged.** On opening, the bytes after the
  last valid seal (or, in a journal written before seals, the last valid checkpoint) are moved
  to ``<journal>.quarantine-<time>`` next to it, never signed into the chain and never shipped;
  the chain continues from the last signed event. :meth:`FileJournal.health` reports it.
- **The file is the one it opened.** Each commit compares the open file with the path (device,
  inode, link count) before writing and after syncing; a journal unlinked or replaced fails the
  commit (every waiting appender gets :class:`~guardian.errors.AuditUnavailable`, so decisions
  deny ``audit_unavailable``), raises the ``journal_replaced`` alarm and refuses every later
  append until a restart; what the unlinked file held is copied next to the journal.
- **The chain never goes backwards.** Given a position known elsewhere (the shipper's state:
  the index acknowledged that event), a journal that ends before it (deleted or cut back while
  stopped) is moved aside and the chain continues from that position, with a signed checkpoint
  and an ``audit.chain_regressed`` event, and the ``chain_regressed`` alarm is raised: it never
  restarts at seq 1 when the index already holds later events.

An append returns only once its event is on disk (``fsync``). Concurrent appenders share one
``fsync`` (group commit): the first to find no flush in progress writes everything pending and
syncs it, the others wait for it. Asynchronous callers (the HTTP API) are sealed at once and
their future resolves when the group they were in is durable. Who writes that group depends on
the disk: while recent commits took less than :data:`INLINE_COMMIT_S` (a local SSD: 0.2–0.4 ms),
the event loop writes it itself, once per loop iteration, after every request that arrived in
that iteration has been sealed; on a slower disk a flusher thread writes it and the loop never
waits for the disk. Handing each group to a thread and back cost more CPU than a fast fsync
(the thread's wake-ups and the GIL passing between it and the loop; measured in
docs/benchmarks.md), and writing once per iteration makes the groups larger.

If a write or sync fails, every event not yet durable is refused with
:class:`~guardian.errors.AuditUnavailable`, the file is cut back to its last durable byte and
the chain resumes from the last durable event: an acknowledged event is never lost, and an
event whose write failed is not left behind to fork the chain.

Without a signing key (tests, tools) there are no seals: on opening only a torn last line
(a crash mid-write; never acknowledged) is cut off.

With a :class:`~guardian.audit.checkpoints.Checkpointer`, a signed checkpoint event follows
every N events (after the batch that reached N), is appended when T seconds passed
(:meth:`FileJournal.checkpoint_if_due`, called by the shipper) and on a clean close. The
shipper reads durable events by offset and trims what the index acknowledged
(:meth:`FileJournal.trim_before`), always leaving a checkpoint as the first line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from guardian.audit.chain import seal
from guardian.audit.checkpoints import Checkpointer
from guardian.audit.records import AuditReceipt, is_seal_line
from guardian.errors import AuditUnavailable
from guardian.journal.alarms import regression_event
from guardian.journal.files import (
    copy_tail,
    fsync_dir,
    starts_with_checkpoint,
)
from guardian.journal.opening import JournalFile, Replaced
from guardian.journal.recovery import rescue
from guardian.journal.syncer import Syncer, new_syncer

_REFUSED = "audit journal write failed; event not recorded"


@dataclass(frozen=True, slots=True)
class _Waiter:
    """An asynchronous appender waiting for ``seq`` of ``generation`` to be durable."""

    seq: int
    generation: int
    future: asyncio.Future[None]
    loop: asyncio.AbstractEventLoop


@dataclass(frozen=True, slots=True)
class _Flight:
    """A group written by an event loop whose ``fsync`` is running on the syncer."""

    fd: int
    last_seq: int
    last_hash: str
    size: int
    started: float


class FileJournal(JournalFile):
    """A :class:`guardian.ports.AuditJournal` on a local file."""

    def __init__(
        self, path: Path, *, fsync: bool = True, checkpointer: Checkpointer | None = None,
        known: tuple[int, str] | None = None, earlier_keys: Sequence[Ed25519PublicKey] = (),
        writer: str = "",
    ) -> None:
        """``known``: the (seq, hash) of an event known to have been journalled (the last one
        the index acknowledged); a journal ending before it continues from it.
        ``earlier_keys``: public keys that signed this journal before the current one (a
        rotated key), trusted when finding its last signature on opening.
        ``writer``: the writer id sealed into every event and checkpoint of a new chain
        (:mod:`guardian.audit.writers`); a journal that holds events keeps the writer of its
        chain (none for a journal from before writer ids)."""
        super().__init__(path, fsync=fsync, checkpointer=checkpointer, known=known,
                         earlier_keys=earlier_keys, writer=writer)
        self._cond = threading.Condition(threading.Lock())
        self._pending: list[bytes] = []
        self.on_commit: Callable[[int, float], None] | None = None
        """Told (events, seconds) after each group commit is durable (metrics), lock held."""
        self._flushing = False
        self._generation = 0
        self._durable_at_failure: dict[int, int] = {}
        self._waiters: list[_Waiter] = []
        self._inline_due: set[asyncio.AbstractEventLoop] = set()
        """Loops that have an inline commit scheduled for their next iteration."""
        self._syncer: Syncer | None = None
        self._flight: _Flight | None = None
        self._watching: set[asyncio.AbstractEventLoop] = set()
        """Loops watching the syncer's descriptor."""
        try:
            self._open()
        except OSError as exc:
            self._open_error = f"audit journal {path} cannot be opened: {exc.strerror}"
            self._alarms.write_failed(exc.strerror, 0)
        if self._regressed_from is not None and self._open_error is None:
            with self._cond, contextlib.suppress(AuditUnavailable):  # then appends refuse
                self._continue_after_regression(*self._regressed_from)

    def trim_before(self, offset: int) -> int:
        """Drop the bytes before ``offset``, which must start a checkpoint event's line.

        The durable rest is copied to a new file, synced and renamed over the journal while
        appenders wait (the rest is small: the shipper trims only when it has caught up).
        """
        with self._cond:
            while self._flushing:
                self._wait_flush()
            self._ensure_open()
            fd, end = self._fd, self._durable_offset
            assert fd is not None
            if offset <= 0:
                return 0
            if offset >= end or not starts_with_checkpoint(fd, offset, end):
                raise ValueError("a journal may only be trimmed to the start of a checkpoint")
            target = self.path.with_name(self.path.name + ".trim")
            try:
                new = copy_tail(fd, offset, end, target, fsync=self._fsync)
                os.replace(target, self.path)
                if self._fsync:
                    fsync_dir(self.path.parent)
            except OSError as exc:
                raise AuditUnavailable(f"audit journal trim failed: {exc.strerror}") from exc
            os.close(fd)
            self._fd = new
            self._durable_offset = end - offset
            self._reader.close()
            return offset

    # -- checkpoints --------------------------------------------------------------------

    def checkpoint_if_due(self) -> bool:
        """Append a signed checkpoint if the last one is older than the checkpointer's period
        and events came since; waits until it is durable."""
        cp = self._checkpointer
        if cp is None:
            return False
        with self._cond:
            if not cp.due_by_time(self._since_checkpoint):
                return False
            self._ensure_open()
            seq = self._next_seq
            self._queue_checkpoint(cp)
            self._wait_durable(seq, self._generation)
        return True

    def _queue_checkpoint(self, cp: Checkpointer) -> None:
        """Seal a checkpoint over the last event onto the chain; called with the lock held."""
        sealed, digest = seal(cp.event(self._next_seq - 1, self._prev_hash, self.writer),
                              self._next_seq, self._prev_hash, self.writer)
        self._pending.append(orjson.dumps(sealed, option=orjson.OPT_SORT_KEYS) + b"\n")
        self._next_seq += 1
        self._prev_hash = digest
        self._since_checkpoint = 0

    def append(self, event: Mapping[str, Any]) -> AuditReceipt:
        return self.append_many((event,))[0]

    def append_many(self, events: Sequence[Mapping[str, Any]]) -> list[AuditReceipt]:
        if not events:
            return []
        with self._cond:
            receipts, generation = self._submit(events)
            self._wait_durable(receipts[-1].seq, generation)
            return receipts

    async def append_many_async(
        self, events: Sequence[Mapping[str, Any]]
    ) -> list[AuditReceipt]:
        """Like :meth:`append_many`, awaiting durability instead of blocking the loop.

        Everything sealed in one iteration of the loop is written in one group at the end of
        it (:meth:`_commit_inline`), and its ``fsync`` runs on the syncer while the loop goes
        on; groups sealed meanwhile are written as soon as that sync has ended."""
        if not events:
            return []
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._cond:
            receipts, generation = self._submit(events)
            self._waiters.append(_Waiter(receipts[-1].seq, generation, future, loop))
            if loop not in self._inline_due:
                self._inline_due.add(loop)
                loop.call_soon(self._commit_inline, loop)
        await future
        return receipts

    def _commit_inline(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop's group commit: everything sealed since the last one. While another
        commit is in progress (the loop's own sync, or another thread's), it waits for it:
        whoever ends that commit starts the next."""
        with self._cond:
            self._inline_due.discard(loop)
            if self._pending and not self._flushing:
                self._write_group(loop)

    def _write_group(self, loop: asyncio.AbstractEventLoop) -> None:
        """Write what is pending in one write, then hand its ``fsync`` to the syncer (the
        loop does not wait for the disk); called on ``loop`` with the lock held."""
        started = time.perf_counter()
        batch, self._pending = self._pending, []
        last_seq, last_hash = self._next_seq - 1, self._prev_hash
        fd = self._fd
        try:
            if fd is None:
                raise OSError(9, "journal file is closed")
            data = self._write_sealed(fd, batch, last_seq, last_hash)
        except OSError as exc:
            self._refuse(exc)
            return
        flight = _Flight(fd, last_seq, last_hash, len(data), started)
        if not self._fsync:
            self._durable(last_seq, last_hash, len(data), started)
            return
        syncer = self._syncer
        if syncer is None:
            syncer = self._syncer = new_syncer()
        if loop not in self._watching:
            loop.add_reader(syncer.fileno(), self._on_synced)
            self._watching.add(loop)
        self._flushing = True
        self._flight = flight
        syncer.request(fd)

    def _on_synced(self) -> None:
        """The loop's reader callback: the syncer has an outcome."""
        with self._cond:
            self._end_flight()

    def _end_flight(self) -> None:
        """Acknowledge (or roll back) the group whose sync finished; then, on a loop, write
        the next group. Called with the lock held; nothing to do if no sync has finished."""
        flight, syncer = self._flight, self._syncer
        if flight is None or syncer is None:
            return
        outcome = syncer.result()
        if outcome is None:
            return
        self._flight = None
        self._flushing = False
        error: OSError | None = OSError(outcome, os.strerror(outcome)) if outcome else None
        if error is None:
            try:
                self._check_identity(flight.fd)  # replaced meanwhile: what was written is lost
            except OSError as exc:
                error = exc
        if error is None:
            self._durable(flight.last_seq, flight.last_hash, flight.size, flight.started)
        else:
            self._refuse(error)
        if self._pending and not self._flushing:
            loop = _running_loop()
            if loop is not None and loop in self._watching:
                self._write_group(loop)
            else:
                self._restart_loops()

    def _durable(self, last_seq: int, last_hash: str, size: int, started: float) -> None:
        """The group ending with event ``last_seq`` (``size`` bytes, written from ``started``
        on) is on disk: acknowledge it; called with the lock held."""
        events = last_seq - self._durable_seq
        self._durable_seq, self._durable_hash = last_seq, last_hash
        self._durable_offset += size
        if self.on_commit is not None:
            with contextlib.suppress(Exception):  # counting never fails a commit
                self.on_commit(events, time.perf_counter() - started)
        self._settle_waiters()
        self._cond.notify_all()

    def _refuse(self, error: OSError) -> None:
        """A group's write or sync failed: roll back to the last durable event and refuse
        whoever waits for what was not durable; called with the lock held."""
        self._roll_back(error)
        self._settle_waiters()
        self._cond.notify_all()

    def _wait_flush(self) -> None:
        """Wait for the commit in progress, with the lock held (released meanwhile). A sync
        handed to the syncer is waited for here and ended by this thread, so that a blocking
        caller never depends on the loop that started it (it may be this very thread, or
        stopped)."""
        syncer = self._syncer
        if self._flight is None or syncer is None:
            self._cond.wait()
            return
        self._cond.release()
        try:
            syncer.wait()
        finally:
            self._cond.acquire()
        self._end_flight()

    def close(self) -> None:
        with self._cond:
            while self._flushing:
                self._wait_flush()
            if (self._checkpointer is not None and self._since_checkpoint > 0
                    and self._fd is not None and self._open_error is None):
                self._queue_checkpoint(self._checkpointer)  # a clean stop leaves a signed tail
            if self._pending and self._fd is not None:
                self._flush_pending()  # what was queued is written, then acknowledged
            self._settle_waiters(closing=True)
            self._close_quietly()
            self._reader.close()
            syncer, self._syncer = self._syncer, None
            watching, self._watching = self._watching, set()
        if syncer is not None:
            running = _running_loop()
            for loop in watching:
                with contextlib.suppress(RuntimeError, ValueError):
                    if loop is running:
                        loop.remove_reader(syncer.fileno())
                    elif not loop.is_closed():
                        loop.call_soon_threadsafe(loop.remove_reader, syncer.fileno())
            syncer.close()

    def _submit(self, events: Sequence[Mapping[str, Any]]) -> tuple[list[AuditReceipt], int]:
        """Seal ``events`` onto the chain and queue them; called with the lock held."""
        self._ensure_open()
        # Seal the whole batch before touching the chain: an event that cannot be
        # serialised refuses the batch and leaves nothing of it pending.
        seq, prev = self._next_seq, self._prev_hash
        lines: list[bytes] = []
        receipts: list[AuditReceipt] = []
        writer = self.writer
        try:
            for event in events:
                sealed, prev = seal(event, seq, prev, writer)
                lines.append(orjson.dumps(sealed, option=orjson.OPT_SORT_KEYS) + b"\n")
                receipts.append(AuditReceipt(seq, prev))
                seq += 1
        except (TypeError, ValueError) as exc:
            raise AuditUnavailable(f"audit event cannot be serialised: {exc}") from exc
        self._pending.extend(lines)
        self._next_seq, self._prev_hash = seq, prev
        self._since_checkpoint += len(lines)
        cp = self._checkpointer
        if cp is not None and cp.due_by_count(self._since_checkpoint):
            self._queue_checkpoint(cp)
        return receipts, self._generation

    # -- group commit -------------------------------------------------------------------

    def _outcome(self, seq: int, generation: int) -> bool | None:
        """True once ``seq`` is durable, False if a failed flush discarded it, else None."""
        if self._generation != generation:
            # A failed flush discarded this generation's pending events; only those already
            # durable before it may be acknowledged (seq numbers are reused afterwards).
            return self._durable_at_failure.get(generation, 0) >= seq
        return True if self._durable_seq >= seq else None

    def _wait_durable(self, seq: int, generation: int) -> None:
        while True:
            outcome = self._outcome(seq, generation)
            if outcome is not None:
                if not outcome:
                    raise AuditUnavailable(_REFUSED)
                return
            if self._flushing:
                self._wait_flush()
                continue
            self._flush_pending()

    def _flush_pending(self) -> None:
        """Write and sync everything pending on this thread (a blocking caller); called with
        the lock held, released meanwhile."""
        started = time.perf_counter()
        batch, self._pending = self._pending, []
        last_seq, last_hash = self._next_seq - 1, self._prev_hash
        fd = self._fd
        self._flushing = True
        self._cond.release()
        error: OSError | None = None
        data = b""
        try:
            if fd is None:
                raise OSError(9, "journal file is closed")
            data = self._write_sealed(fd, batch, last_seq, last_hash)
            if self._fsync:
                os.fsync(fd)
            self._check_identity(fd)  # replaced meanwhile: what was written there is lost
        except OSError as exc:
            error = exc
        finally:
            self._cond.acquire()
            self._flushing = False
        if error is None:
            self._durable(last_seq, last_hash, len(data), started)
        else:
            self._refuse(error)
        self._restart_loops()

    def _write_sealed(self, fd: int, batch: list[bytes], last_seq: int,
                      last_hash: str) -> bytes:
        """Write a group's lines and its seal in one ``write`` (the seal travels in the same
        write and fsync as the events it covers), checking first that ``fd`` is still the
        journal; returns what was written. Raises :class:`OSError`."""
        if self._signer is not None:
            batch.append(self._signer.seal_line(last_seq, last_hash))
        data = b"".join(batch)
        self._check_identity(fd)
        _write_all(fd, data)
        return data

    def _restart_loops(self) -> None:
        """After a blocking caller's commit: asynchronous appends sealed meanwhile wait for a
        group commit their loop starts (lock held)."""
        if not self._pending:
            return
        running = _running_loop()
        for loop in {w.loop for w in self._waiters}:
            if loop in self._inline_due:
                continue
            self._inline_due.add(loop)
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                if loop is running:
                    loop.call_soon(self._commit_inline, loop)
                else:
                    loop.call_soon_threadsafe(self._commit_inline, loop)

    def _settle_waiters(self, *, closing: bool = False) -> None:
        """Resolve the futures whose fate is known; called with the lock held."""
        if not self._waiters:
            return
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[None], bool]]] = {}
        waiting: list[_Waiter] = []
        for w in self._waiters:
            outcome = self._outcome(w.seq, w.generation)
            if outcome is None and not closing:
                waiting.append(w)
            else:
                by_loop.setdefault(w.loop, []).append((w.future, bool(outcome)))
        self._waiters = waiting
        running = _running_loop()
        for loop, settled in by_loop.items():
            if loop is running:
                _resolve(settled)  # their tasks are scheduled, not run, by set_result
                continue
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                loop.call_soon_threadsafe(_resolve, settled)

    def _roll_back(self, error: OSError) -> None:
        if isinstance(error, Replaced):
            self._on_replaced(str(error.strerror))
        self._durable_at_failure[self._generation] = self._durable_seq
        self._generation += 1
        self._pending = []
        self._next_seq = self._durable_seq + 1
        self._prev_hash = self._durable_hash
        self._since_checkpoint = 1  # unknown after a roll back: let the next period sign
        try:
            if self._fd is not None:
                os.ftruncate(self._fd, self._durable_offset)
                os.lseek(self._fd, self._durable_offset, os.SEEK_SET)
        except OSError:
            # Cut it on the next open instead, before anything else is appended.
            self._truncate_to = self._durable_offset
            self._close_quietly()
        self._open_error = f"audit journal {self.path} write failed: {error.strerror}"
        self._alarms.write_failed(error.strerror, self._durable_seq)

    def _continue_after_regression(self, seq: int, hash_: str) -> None:
        """The journal ends before an event the index acknowledged: move what it holds aside
        and continue the chain from that event, with a signed checkpoint over it and an event
        saying so; called with the lock held, right after opening."""
        ended_at = self._durable_seq
        self._regressed_from = None
        fd = self._fd
        assert fd is not None
        moved: Path | None = None
        if self._durable_offset > 0:
            moved = rescue(fd, self._durable_offset, self.path, "regressed", fsync=self._fsync)
            os.ftruncate(fd, 0)
            self._durable_offset = 0
        self._durable_seq, self._durable_hash = seq, hash_
        self._next_seq, self._prev_hash = seq + 1, hash_
        self._alarms.regressed(ended_at, seq, moved)
        if self._checkpointer is not None:
            self._queue_checkpoint(self._checkpointer)
        self._submit([regression_event()])
        self._wait_durable(self._next_seq - 1, self._generation)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _resolve(settled: list[tuple[asyncio.Future[None], bool]]) -> None:
    for future, durable in settled:
        if future.done():
            continue
        if durable:
            future.set_result(None)
        else:
            future.set_exception(AuditUnavailable(_REFUSED))


def read_events(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, raw line) for each event line of a journal file, without parsing
    (seal lines are skipped: they are not events)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not is_seal_line(line):
                yield number, line

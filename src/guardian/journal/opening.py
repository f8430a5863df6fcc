"""The journal file itself: its state, opening it (recovery), and noticing it was replaced.

:class:`JournalFile` holds what the journal knows about its file (descriptor, durable end, the
chain's last sequence number and hash, its writer, its alarms) and opens it: it takes the
file's lock, cuts an unfinished write, sets aside what follows the last signature
(:mod:`.recovery`), restores a copy of a journal unlinked while serving that reaches further,
and notes a journal that ends before what the index acknowledged (continued by the
:class:`~guardian.journal.writer.FileJournal` from that point). Group commit, checkpoints and
trimming are the :class:`~guardian.journal.writer.FileJournal`'s, built on this.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from guardian.audit.chain import GENESIS
from guardian.audit.checkpoints import Checkpointer, CheckpointVerifier
from guardian.audit.records import JournalRecord, is_checkpoint
from guardian.audit.writers import writer_of
from guardian.errors import AuditUnavailable
from guardian.journal.alarms import JournalAlarm, JournalAlarms
from guardian.journal.files import (
    JournalReader,
    fsync_dir,
    identity_problem,
    lock_exclusively,
)
from guardian.journal.recovery import Quarantine, best_rescue, recover, rescue, restore


class Replaced(OSError):
    """The journal's path no longer names the open file."""


class JournalFile:
    """The file under a :class:`~guardian.journal.writer.FileJournal` (see the module)."""

    def __init__(
        self, path: Path, *, fsync: bool, checkpointer: Checkpointer | None,
        known: tuple[int, str] | None, earlier_keys: Sequence[Ed25519PublicKey], writer: str,
    ) -> None:
        self.path = path
        self.writer = writer
        self._fsync = fsync
        self._checkpointer = checkpointer
        self._signer = checkpointer.signer if checkpointer is not None else None
        self._verifier = CheckpointVerifier([self._signer.public_key, *earlier_keys]) \
            if self._signer is not None else None
        self._known = known
        self._alarms = JournalAlarms(path)
        self._since_checkpoint = 0
        self._reader = JournalReader(path)
        self._fd: int | None = None
        self._truncate_to: int | None = None
        self._next_seq = 1
        self._prev_hash = GENESIS
        self._durable_seq = 0
        self._durable_hash = GENESIS
        self._durable_offset = 0
        self._open_error: str | None = None
        self._regressed_from: tuple[int, str] | None = None

    # -- public -------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        return self._durable_seq

    @property
    def last_hash(self) -> str:
        return self._durable_hash

    @property
    def durable_offset(self) -> int:
        return self._durable_offset

    @property
    def checkpointer(self) -> Checkpointer | None:
        return self._checkpointer

    @property
    def alarms(self) -> tuple[JournalAlarm, ...]:
        return self._alarms.current(self._open_error)

    @property
    def quarantine(self) -> Quarantine | None:
        """What opening set aside after the journal's last signature."""
        return self._alarms.quarantine

    def health(self) -> dict[str, Any]:
        """The journal's part of ``/v1/health``: its end, its alarms, what was quarantined."""
        return self._alarms.health(self._durable_seq, sealed=self._signer is not None,
                                   open_error=self._open_error)

    # -- reading (the shipper) ---------------------------------------------------------

    def read_records(self, offset: int, max_events: int) -> list[JournalRecord]:
        """Up to ``max_events`` durable events from byte ``offset`` on."""
        return self._reader.read(offset, self._durable_offset, max_events)

    def offset_of(self, seq: int) -> int | None:
        return self._reader.offset_of(seq, self._durable_offset)

    def _check_identity(self, fd: int) -> None:
        problem = identity_problem(fd, self.path)
        if problem is not None:
            raise Replaced(0, problem)

    def _on_replaced(self, problem: str) -> None:
        """The journal was unlinked or replaced under us: refuse every append from now on (a
        new file at the path would restart or fork the chain), keep what the old one held."""
        rescued: Path | None = None
        failed: str | None = None
        if self._fd is not None and self._durable_offset > 0:
            try:
                rescued = rescue(self._fd, self._durable_offset, self.path, "unlinked",
                                 fsync=self._fsync)
            except OSError as exc:
                failed = str(exc.strerror)
        self._alarms.replaced_under_us(problem, self._durable_seq, rescued, failed)

    # -- opening and recovery -----------------------------------------------------------

    def _ensure_open(self) -> None:
        if self._alarms.replaced is not None:
            raise AuditUnavailable(f"audit journal {self._alarms.replaced}")
        if self._open_error is None and self._fd is not None:
            return
        self._close_quietly()
        try:
            self._open()
        except OSError as exc:
            self._open_error = f"audit journal {self.path} cannot be opened: {exc.strerror}"
            raise AuditUnavailable(self._open_error) from exc
        self._open_error = None

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        existed = self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            lock_exclusively(fd, self.path)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path.with_name(self.path.name + ".trim"))  # an unfinished trim
            if self._truncate_to is not None:
                os.ftruncate(fd, self._truncate_to)
                self._truncate_to = None
            recovered = recover(fd, self.path, self._verifier, fsync=self._fsync,
                                now=datetime.now(UTC))
            if not existed and self._fsync:
                fsync_dir(self.path.parent)
        except (OSError, ValueError, KeyError) as exc:
            os.close(fd)
            if isinstance(exc, OSError):
                raise
            raise OSError(0, "last event is unreadable; run `guardian audit verify`") from exc
        self._fd = fd
        self._durable_offset = recovered.end
        last = recovered.last
        if recovered.quarantine is not None:
            self._alarms.quarantined(recovered.quarantine)
        if last is not None:
            # A chain keeps the writer it was started with (one from before writer ids keeps
            # none): a writer id changing mid-chain would split it in two.
            self.writer = writer_of(last)
            self._durable_seq = int(last["guardian"]["seq"])
            self._durable_hash = str(last["guardian"]["hash"])
            if not is_checkpoint(last) and self._checkpointer is not None:
                self._since_checkpoint = max(self._since_checkpoint, 1)
                self._checkpointer.make_due()  # sign the tail left by the last run soon
        self._next_seq = self._durable_seq + 1
        self._prev_hash = self._durable_hash
        known, self._known = self._known, None  # checked on the first opening only
        copy = best_rescue(self.path, self._verifier)
        if copy is not None and int(copy[2]["guardian"]["seq"]) > max(
                self._durable_seq, known[0] if known else 0):
            self._restore(*copy)
        elif known is not None and known[0] > self._durable_seq:
            self._regressed_from = known

    def _restore(self, source: Path, end: int, last: dict[str, Any]) -> None:
        """A copy of the journal unlinked while serving reaches further than the journal:
        the journal becomes that copy again (what it held now is moved aside)."""
        fd = self._fd
        assert fd is not None
        ended_at, moved = self._durable_seq, None
        if self._durable_offset > 0:
            moved = rescue(fd, self._durable_offset, self.path, "regressed", fsync=self._fsync)
        restore(fd, source, end, fsync=self._fsync)
        self._durable_offset = end
        self._durable_seq = int(last["guardian"]["seq"])
        self._durable_hash = str(last["guardian"]["hash"])
        self._next_seq, self._prev_hash = self._durable_seq + 1, self._durable_hash
        self._alarms.restored(ended_at, source, self._durable_seq, moved)

    def _close_quietly(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

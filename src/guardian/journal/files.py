"""Reading a journal file by byte offset, and cutting its shipped head off safely.

The shipper reads the journal while Guardian appends to it, through its own read-only file
descriptor and never past the last durable byte (bytes after it may still be rolled back).
Trimming copies what follows a signed checkpoint into a new file, syncs it and renames it over
the journal, so a crash leaves either the old journal or the new one, whole; the new one
starts with that checkpoint, whose signature anchors the rest of the chain. Also here: the
one-writer lock, the file identity check of every commit, and cutting a torn last line off on
opening. Seal lines (see :mod:`.records`) are skipped: they are not events.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
from pathlib import Path
from typing import Any

import orjson

from guardian.audit.records import SEAL_PREFIX, JournalRecord, is_checkpoint
from guardian.errors import ChainBroken

_CHUNK = 1024 * 1024
_TAIL_READ = 64 * 1024


class JournalReader:
    """Reads whole events from a journal file, reopening it when it was replaced (trimmed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._inode: int | None = None

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = self._inode = None

    def _handle(self) -> int:
        inode = os.stat(self.path).st_ino
        if self._fd is None or inode != self._inode:
            self.close()
            self._fd = os.open(self.path, os.O_RDONLY)
            self._inode = os.fstat(self._fd).st_ino
        return self._fd

    def read(self, offset: int, end: int, max_events: int) -> list[JournalRecord]:
        """Whole events between byte ``offset`` and ``end`` (a durable line boundary; bytes
        after the last newline before ``end`` are not a whole event and are not returned)."""
        fd = self._handle()
        records: list[JournalRecord] = []
        position = offset
        chunk_size = _CHUNK
        while position < end and len(records) < max_events:
            requested = min(chunk_size, end - position)
            data = os.pread(fd, requested, position)
            if not data:
                break
            start = 0
            while len(records) < max_events:
                newline = data.find(b"\n", start)
                if newline == -1:
                    break
                raw = data[start:newline]
                if not raw.startswith(SEAL_PREFIX):  # a seal line is not an event
                    records.append(_record(raw, position + start, position + newline + 1))
                start = newline + 1
            if start == 0:
                if len(data) < requested or requested == end - position:
                    break  # no whole line before ``end`` (or the file's end): nothing more
                chunk_size *= 2  # one line longer than the chunk: read more at once
                continue
            position += start
        return records

    def offset_of(self, seq: int, end: int) -> int | None:
        """Byte offset of event ``seq`` (``end`` for the event after the last one)."""
        offset = 0
        last_seq: int | None = None
        while offset < end:
            batch = self.read(offset, end, 10_000)
            if not batch:
                break
            if batch[0].seq > seq:
                return None
            for record in batch:
                if record.seq == seq:
                    return record.offset
                last_seq = record.seq
            offset = batch[-1].end
        return end if last_seq is not None and last_seq + 1 == seq else None


def _record(raw: bytes, offset: int, end: int) -> JournalRecord:
    try:
        event = orjson.loads(raw)
        seq = int(event["guardian"]["seq"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ChainBroken(f"the journal is unreadable at byte {offset}: {exc}") from exc
    return JournalRecord(seq, raw, event, offset, end)


def copy_tail(fd: int, start: int, end: int, target: Path, *, fsync: bool) -> int:
    """Write bytes ``start..end`` of ``fd`` into a new file ``target`` (synced); return its fd.

    The new file is locked before anything is written to it, so no second writer can open it
    between the rename and the moment it becomes the journal.
    """
    new = os.open(target, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o640)
    try:
        fcntl.flock(new, fcntl.LOCK_EX | fcntl.LOCK_NB)
        position = start
        while position < end:
            data = os.pread(fd, min(_CHUNK, end - position), position)
            if not data:
                raise OSError(5, "the journal ended before its durable length")
            view = memoryview(data)
            while view:
                view = view[os.write(new, view):]
            position += len(data)
        if fsync:
            os.fsync(new)
    except OSError:
        os.close(new)
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise
    return new


def starts_with_checkpoint(fd: int, offset: int, end: int) -> bool:
    """Whether the line at ``offset`` is a checkpoint event (where a trimmed journal may start)."""
    data = os.pread(fd, min(64 * 1024, end - offset), offset)
    newline = data.find(b"\n")
    if newline == -1:
        return False
    try:
        return is_checkpoint(orjson.loads(data[:newline]))
    except ValueError:
        return False


def lock_exclusively(fd: int, path: Path) -> None:
    """One writer per journal file: a second one would fork the chain."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        raise OSError(exc.errno, f"{path} is already open by another writer") from exc
    except OSError as exc:
        # Character devices and some file systems do not lock; nothing else can share them.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.ENOLCK):
            raise


def identity_problem(fd: int, path: Path) -> str | None:
    """Why the file open on ``fd`` is no longer the journal at ``path`` (unlinked, removed or
    replaced), or ``None`` when it still is."""
    mine = os.fstat(fd)
    if mine.st_nlink == 0:
        return f"{path} was unlinked while open"
    try:
        there = os.stat(path)
    except FileNotFoundError:
        return f"{path} was removed while open"
    if (there.st_dev, there.st_ino) != (mine.st_dev, mine.st_ino):
        return f"{path} was replaced by another file while open"
    return None


def fsync_dir(path: Path) -> None:
    """Make a new file's directory entry durable, not only its content."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover_tail(fd: int) -> tuple[int, dict[str, Any] | None]:
    """Cut a torn last line off; return the file length and the last whole event."""
    size = os.fstat(fd).st_size
    if size == 0:
        return 0, None
    start = max(0, size - _TAIL_READ)
    while True:
        chunk = os.pread(fd, size - start, start)
        cut = chunk.rfind(b"\n")
        if cut == -1 and start > 0:
            start = max(0, start - _TAIL_READ)
            continue
        break
    end = start + cut + 1 if cut != -1 else 0
    if end != size:
        os.ftruncate(fd, end)
    if end == 0:
        return 0, None
    body = os.pread(fd, end - start, start).rstrip(b"\n")
    prev_nl = body.rfind(b"\n")
    while prev_nl == -1 and start > 0:
        start = max(0, start - _TAIL_READ)
        body = os.pread(fd, end - start, start).rstrip(b"\n")
        prev_nl = body.rfind(b"\n")
    last: dict[str, Any] = orjson.loads(body[prev_nl + 1:])
    int(last["guardian"]["seq"])
    return end, last


def worker_journal(journal: Path, worker: int) -> Path:
    """The journal of worker ``worker`` of ``serve --workers``: ``journal-w<k>.jsonl`` beside
    ``journal.jsonl`` (each worker its own file, its own chain)."""
    return journal.with_name(f"{journal.stem}-w{worker}{journal.suffix}")


def journals_of(journal: Path) -> list[Path]:
    """The journal and every worker journal beside it, in worker order."""
    found = [journal] if journal.is_file() else []
    pattern = re.compile(re.escape(journal.stem) + r"-w(\d+)" + re.escape(journal.suffix))
    workers = [(int(m.group(1)), p) for p in journal.parent.glob(f"{journal.stem}-w*")
               if (m := pattern.fullmatch(p.name)) is not None and p.is_file()]
    return found + [p for _k, p in sorted(workers)]

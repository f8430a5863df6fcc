"""Opening a journal: keep what a signature covers, set everything after it aside.

Every group commit ends with a signed seal line over its last event, written in the same
``write`` + ``fsync`` before any appender of the group is answered. So on opening, whatever
follows the last valid signature (a seal vouching for the event just before it, or, for a
journal written before seals existed, a checkpoint vouching for the event before it) was never
acknowledged: a crash mid-write, or lines someone added while Guardian was stopped. Those bytes
are moved into a quarantine file next to the journal (kept as evidence, never signed into the
chain, never shipped) and the chain continues from the last signed event.

Without a verifier (a journal with no signing key) only a torn last line is cut off, as before.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from guardian.audit.checkpoints import CheckpointVerifier
from guardian.audit.journal_files import copy_tail, fsync_dir, recover_tail
from guardian.audit.records import is_checkpoint, is_seal_line

_READ = 64 * 1024


@dataclass(frozen=True, slots=True)
class Quarantine:
    """Bytes found after the journal's last signature on opening, moved to ``file``."""

    file: str
    lines: int
    bytes: int
    at: str
    first_seq: int | None
    last_seq: int | None


@dataclass(frozen=True, slots=True)
class Recovered:
    end: int
    """The journal's length once recovered (the end of its last signed line)."""
    last: dict[str, Any] | None
    """The last event the journal keeps (the one the last signature covers)."""
    quarantine: Quarantine | None = None


def recover(
    fd: int, path: Path, verifier: CheckpointVerifier | None, *, fsync: bool, now: datetime
) -> Recovered:
    """Cut the journal open on ``fd`` back to its last signature, quarantining the rest."""
    if verifier is None:
        end, last = recover_tail(fd)
        return Recovered(end, last)
    size = os.fstat(fd).st_size
    end, last = _last_signed(fd, size, verifier)
    if end == size:
        return Recovered(end, last)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.quarantine-{stamp}")
    os.close(copy_tail(fd, end, size, target, fsync=fsync))
    first_seq, last_seq, lines = _describe(fd, end, size)
    os.ftruncate(fd, end)
    if fsync:
        os.fsync(fd)
        fsync_dir(path.parent)
    quarantine = Quarantine(str(target), lines, size - end, now.astimezone(UTC).isoformat(),
                            first_seq, last_seq)
    return Recovered(end, last, quarantine)


def _last_signed(
    fd: int, size: int, verifier: CheckpointVerifier
) -> tuple[int, dict[str, Any] | None]:
    """(end of the last signed line, the event it covers), walking back from the end."""
    seal: tuple[int, int, str] | None = None  # (end of the seal line, seq, hash)
    for _begin, stop, raw in _lines_backward(fd, size):
        if not raw.endswith(b"\n"):
            continue  # a torn line: never acknowledged
        line = raw[:-1]
        if is_seal_line(line):
            point = verifier.check_seal(line)
            seal = (stop, point.seq, point.hash) if point is not None else None
            continue
        event = _event(line)
        covered, seal = seal, None
        if event is None:
            continue
        g = event["guardian"]
        if covered is not None and (covered[1], covered[2]) == (g["seq"], g["hash"]):
            return covered[0], event
        if is_checkpoint(event):
            point, _why = verifier.check(event)
            if point is not None and (point.seq, point.hash) == (g["seq"] - 1, g["prev_hash"]):
                return stop, event
    return 0, None


def _event(line: bytes) -> dict[str, Any] | None:
    try:
        event = orjson.loads(line)
        g = event["guardian"]
        if type(g["seq"]) is not int or type(g["hash"]) is not str:
            return None
        str(g["prev_hash"])
    except (ValueError, KeyError, TypeError):
        return None
    return event if isinstance(event, dict) else None


def _describe(fd: int, start: int, end: int) -> tuple[int | None, int | None, int]:
    """(first seq, last seq, lines) of the quarantined bytes, for operators."""
    data = os.pread(fd, end - start, start) if end - start <= 64 * 1024 * 1024 else b""
    seqs: list[int] = []
    lines = data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)
    for line in data.split(b"\n"):
        event = _event(line) if line and not is_seal_line(line) else None
        if event is not None:
            seqs.append(int(event["guardian"]["seq"]))
    return (seqs[0] if seqs else None), (seqs[-1] if seqs else None), lines


def _lines_backward(fd: int, size: int) -> Iterator[tuple[int, int, bytes]]:
    """(start, end, bytes) of each line from the last to the first; the newline included,
    except for a torn last line."""
    stop = pos = size
    buf = b""  # bytes pos .. pos + len(buf)
    while stop > 0:
        limit = stop - 1 - pos  # where in buf the line's own last byte is
        newline = buf.rfind(b"\n", 0, limit) if limit > 0 else -1
        if newline == -1 and pos > 0:
            start = max(0, pos - _READ)
            buf = os.pread(fd, pos - start, start) + buf
            pos = start
            continue
        begin = pos + newline + 1
        yield begin, stop, buf[begin - pos:stop - pos]
        stop = begin
        buf = buf[:begin - pos]

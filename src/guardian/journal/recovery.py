"""Opening a journal: keep what a signature covers, set everything after it aside.

Every group commit ends with a signed seal line over its last event, written in the same
``write`` + ``fsync`` before any appender of the group is answered. So on opening, whatever
follows the last valid signature (a seal vouching for the event just before it, or, for a
journal written before seals existed, a checkpoint vouching for the event before it) was never
acknowledged: a crash mid-write, or lines someone added while Guardian was stopped. Those bytes
are moved into a quarantine file next to the journal (kept as evidence, never signed into the
chain, never shipped) and the chain continues from the last signed event.

Without a verifier (a journal with no signing key) only a torn last line is cut off, as before.

Also here: copying a journal aside (unlinked while serving, or ending before what the index
acknowledged) and restoring the copy of one that was unlinked while serving, so that the chain
neither restarts nor reuses the sequence numbers of events already acknowledged.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from guardian.audit.chain import GENESIS, recompute
from guardian.audit.checkpoints import CheckpointVerifier
from guardian.audit.records import is_checkpoint, is_seal_line
from guardian.journal.files import copy_tail, fsync_dir, recover_tail

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
    at = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.quarantine-{at}")
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
    """(end of the last signed line, the event it covers), walking back from the end.

    A signature counts only if the group it closes chains, link by link, back to the signature
    before it (or to the journal's start): a copy of an old seal or checkpoint appended after
    forged lines does not make them signed."""
    lines = _Backward(fd, size)
    c = 0
    while (line := lines.get(c)) is not None:
        _begin, stop, raw = line
        if raw.endswith(b"\n"):
            body = raw[:-1]
            last_at: int | None = None
            if is_seal_line(body):
                point = verifier.check_seal(body)
                covered = _event_at(lines, c + 1)
                if point is not None and covered is not None and \
                        (covered["guardian"]["seq"], covered["guardian"]["hash"]) == \
                        (point.seq, point.hash):
                    last_at = c + 1
            else:
                event = _event(body)
                if event is not None and is_checkpoint(event) and _vouches(verifier, event):
                    last_at = c  # a journal written before seals: its last checkpoint
            if last_at is not None and _chains_back(lines, last_at, verifier):
                last = _event_at(lines, last_at)
                return stop, last
        c += 1
    return 0, None


def _vouches(verifier: CheckpointVerifier, event: dict[str, Any]) -> bool:
    point, _why = verifier.check(event)
    g = event["guardian"]
    return point is not None and (point.seq, point.hash) == (g["seq"] - 1, g["prev_hash"])


def _chains_back(lines: _Backward, at: int, verifier: CheckpointVerifier) -> bool:
    """Whether the events from line ``at`` back to the signature before them (or the start)
    hash to what they carry and chain to one another."""
    later = _event_at(lines, at)
    while later is not None:
        g = later["guardian"]
        if recompute(later) != g["hash"]:
            return False
        line = lines.get(at + 1)
        if line is None:  # the journal's start: event 1, or a trimmed head's checkpoint
            return (g["seq"] == 1 and g["prev_hash"] == GENESIS) or (
                is_checkpoint(later) and _vouches(verifier, later))
        body = line[2].rstrip(b"\n")
        if is_seal_line(body):
            point = verifier.check_seal(body)
            return point is not None and (point.seq, point.hash) == (g["seq"] - 1, g["prev_hash"])
        earlier = _event(body)
        if earlier is None or (earlier["guardian"]["seq"], earlier["guardian"]["hash"]) != \
                (g["seq"] - 1, g["prev_hash"]):
            return False
        later, at = earlier, at + 1
    return False


def _event_at(lines: _Backward, i: int) -> dict[str, Any] | None:
    line = lines.get(i)
    if line is None or not line[2].endswith(b"\n") or is_seal_line(line[2]):
        return None
    return _event(line[2][:-1])


class _Backward:
    """The journal's lines from the last one back, read as far as asked."""

    def __init__(self, fd: int, size: int) -> None:
        self._source = _lines_backward(fd, size)
        self._seen: list[tuple[int, int, bytes]] = []

    def get(self, i: int) -> tuple[int, int, bytes] | None:
        while len(self._seen) <= i:
            line = next(self._source, None)
            if line is None:
                return None
            self._seen.append(line)
        return self._seen[i]


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


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def rescue(fd: int, end: int, path: Path, kind: str, *, fsync: bool) -> Path:
    """Copy bytes ``0..end`` of the journal on ``fd`` next to it: ``<name>.<kind>-<time>``."""
    target = path.with_name(f"{path.name}.{kind}-{stamp()}")
    os.close(copy_tail(fd, 0, end, target, fsync=fsync))
    return target


def best_rescue(
    path: Path, verifier: CheckpointVerifier | None
) -> tuple[Path, int, dict[str, Any]] | None:
    """The copy of a journal unlinked while serving (``<name>.unlinked-*``) whose signed part
    reaches furthest: (file, end of its last signed line, the event that line covers)."""
    if verifier is None:
        return None
    best: tuple[Path, int, dict[str, Any]] | None = None
    for candidate in sorted(path.parent.glob(f"{path.name}.unlinked-*")):
        try:
            fd = os.open(candidate, os.O_RDONLY)
        except OSError:
            continue
        try:
            end, last = _last_signed(fd, os.fstat(fd).st_size, verifier)
        finally:
            os.close(fd)
        if last is not None and (best is None
                                 or last["guardian"]["seq"] > best[2]["guardian"]["seq"]):
            best = (candidate, end, last)
    return best


def restore(fd: int, source: Path, end: int, *, fsync: bool) -> None:
    """Make the (emptied) journal on ``fd`` hold bytes ``0..end`` of ``source``."""
    os.ftruncate(fd, 0)
    with source.open("rb") as handle:
        left = end
        while left > 0 and (block := handle.read(min(_READ * 16, left))):
            view = memoryview(block)
            while view:
                view = view[os.write(fd, view):]
            left -= len(block)
    if fsync:
        os.fsync(fd)


def unsigned_tail(path: Path, verifier: CheckpointVerifier) -> tuple[int, int | None] | None:
    """(whole lines, first seq) after the last signature of a journal file that has seals, or
    ``None`` when everything is signed (or the journal predates seals)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        end, _last = _last_signed(fd, size, verifier)
        if end == size:
            return None
        if end == 0 and not _has_seal(fd, size):
            return None
        first, _last_seq, lines = _describe(fd, end, size)
        torn = os.pread(fd, 1, size - 1) != b"\n"
        lines -= 1 if torn else 0
        return (lines, first) if lines > 0 else None
    finally:
        os.close(fd)


def _has_seal(fd: int, size: int) -> bool:
    return any(is_seal_line(raw) for _b, _s, raw in _lines_backward(fd, min(size, 1 << 20)))


def quarantined(path: Path) -> list[tuple[Path, int]]:
    """The quarantine files next to a journal, with their line counts."""
    found: list[tuple[Path, int]] = []
    for file in sorted(path.parent.glob(f"{path.name}.quarantine-*")):
        try:
            found.append((file, file.read_bytes().count(b"\n")))
        except OSError:
            continue
    return found

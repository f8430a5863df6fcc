"""How far the journal has been shipped: a small side file, replaced atomically.

It records the last event the index acknowledged (sequence number and hash), where the next
one starts in the journal (a hint: the shipper checks it and searches the journal when it is
stale, e.g. after a crash between a trim and this file's update), and the sequence numbers
the index answered with a *different* document (tamper signals, kept until an operator looks).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from guardian.audit.chain import GENESIS


@dataclass(frozen=True, slots=True)
class Conflict:
    seq: int
    detail: str


@dataclass(frozen=True, slots=True)
class ShipState:
    seq: int = 0
    """The last event acknowledged by the index (0: nothing yet)."""
    hash: str = GENESIS
    offset: int = 0
    """Byte offset in the journal of the event after ``seq`` (a hint)."""
    conflicts: tuple[Conflict, ...] = field(default=())
    writer: str = ""
    """Whose chain ``seq`` counts in (the journal's writer id; empty: no writer id)."""


def state_path(journal: Path) -> Path:
    return journal.with_name(journal.name + ".shipped")


def load_state(path: Path) -> ShipState:
    """The saved state, or the beginning when there is none (or it is unreadable)."""
    try:
        raw = orjson.loads(path.read_bytes())
        return ShipState(
            int(raw["seq"]), str(raw["hash"]), int(raw["offset"]),
            tuple(Conflict(int(c["seq"]), str(c["detail"])) for c in raw.get("conflicts", ())),
            str(raw.get("writer", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return ShipState()


def save_state(path: Path, state: ShipState, *, fsync: bool = True) -> None:
    body = orjson.dumps({
        "seq": state.seq, "hash": state.hash, "offset": state.offset,
        "conflicts": [{"seq": c.seq, "detail": c.detail} for c in state.conflicts],
        **({"writer": state.writer} if state.writer else {}),
    })
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    try:
        os.write(fd, body)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise

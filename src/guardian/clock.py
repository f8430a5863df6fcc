"""Clocks: the system clock, a manual one that tests move by hand, and how instants are written."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Literal


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, at: float) -> None:
        self._now = at


Precision = Literal["seconds", "milliseconds"]


def iso_utc(at: float, timespec: Precision = "seconds") -> str:
    """``at`` (seconds since the epoch) in ISO 8601, UTC, with a ``Z``: how instants are shown."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def iso_utc_or_none(at: float | None, timespec: Precision = "seconds") -> str | None:
    return None if at is None else iso_utc(at, timespec)

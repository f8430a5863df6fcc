"""Clocks and how instants are written: a manual clock moves only when told, and instants are
ISO 8601 in UTC with a ``Z``."""

from __future__ import annotations

import time

from guardian.clock import ManualClock, SystemClock, iso_utc, iso_utc_or_none


def test_the_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(start=100.0)

    assert clock.now() == clock.now() == 100.0
    clock.advance(2.5)
    assert clock.now() == 102.5
    clock.set(50.0)
    assert clock.now() == 50.0


def test_the_system_clock_is_the_time() -> None:
    before = time.time()
    assert before <= SystemClock().now() <= time.time()


def test_instants_are_iso_utc_with_a_z() -> None:
    assert iso_utc(0) == "1970-01-01T00:00:00Z"
    assert iso_utc(1_790_000_000.25, "milliseconds") == "2026-09-21T14:13:20.250Z"
    assert iso_utc_or_none(None) is None
    assert iso_utc_or_none(0) == "1970-01-01T00:00:00Z"

"""ULID identifiers: sortable by creation time, unique without coordination between replicas.

The 80 random bits come from the operating system's generator, read 4 KiB at a time: a
``getrandom`` call per identifier was a tenth of the event loop's samples under load, mostly
because the call releases the GIL and the loop then waits to take it back from the journal's
flusher thread (``bench/vs_opa.py --profile``, docs/benchmarks.md).
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]
"""Every 10-bit value as two Crockford base32 characters: 13 look-ups make an identifier."""

_POOL_BYTES = 4096
_pool = b""
_at = _POOL_BYTES
_lock = threading.Lock()


def _random80() -> int:
    """80 fresh random bits; never the same bytes twice (the pool is consumed, not reused)."""
    global _pool, _at
    with _lock:
        at = _at
        if at + 10 > len(_pool):
            _pool, at = os.urandom(_POOL_BYTES), 0
        _at = at + 10
        return int.from_bytes(_pool[at:at + 10], "big")


def _after_fork() -> None:
    """A forked worker must not hand out the identifiers its parent's pool would."""
    global _pool, _at, _lock
    _pool, _at, _lock = b"", _POOL_BYTES, threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def new_ulid(now: float | None = None) -> str:
    """26 characters: 48 bits of milliseconds then 80 random bits, as 130 bits of base32."""
    ms = int((time.time() if now is None else now) * 1000) & ((1 << 48) - 1)
    value = (ms << 80) | _random80()
    pairs = _PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in range(120, -1, -10)])

"""Sign-in attempts: unknown user ids never kept verbatim, the per-address lock a guesser meets,
the source counter against stuffing, and a success that forgets the person's failures."""

from __future__ import annotations

import pytest

from guardian.adapters.memory.ports import MemoryDirectory, MemoryLedger
from guardian.errors import AccountLocked
from guardian.identity.attempts import LOCKED, SignInAttempts
from guardian.identity.lockout import LockoutPolicy, SignInLimits
from guardian.identity.principal import Principal

KEY = b"d" * 32
LIMITS = SignInLimits(per_user_source=LockoutPolicy(max_failures=3, base_lock_s=60),
                      per_source=LockoutPolicy(max_failures=5, base_lock_s=60))


def _attempts(ledger: MemoryLedger | None = None) -> SignInAttempts:
    directory = MemoryDirectory([Principal("alice", "Alice", frozenset())])
    return SignInAttempts(ledger or MemoryLedger(), directory, LIMITS, KEY)


def test_an_unknown_user_id_becomes_a_keyed_digest() -> None:
    attempts = _attempts()
    subject = attempts.subject("hunter2-typed-as-a-user")

    assert attempts.subject("alice") == "alice"
    assert subject.startswith("unknown:") and len(subject) == len("unknown:") + 16
    assert "hunter2" not in subject
    assert subject == attempts.subject("hunter2-typed-as-a-user")


def test_a_short_digest_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        SignInAttempts(MemoryLedger(), MemoryDirectory(), LIMITS, b"short")


def test_one_person_from_one_address_is_locked_at_the_limit_not_from_elsewhere() -> None:
    attempts = _attempts()
    for _ in range(3):
        attempts.reserve("alice", "10.0.0.1", 100.0)

    with pytest.raises(AccountLocked, match=LOCKED):
        attempts.reserve("alice", "10.0.0.1", 101.0)
    attempts.reserve("alice", "10.0.0.2", 101.0)  # the right person elsewhere is not locked
    assert attempts.delay_s("alice", 101.0) > 0  # only slowed down


def test_one_address_trying_every_person_is_locked() -> None:
    attempts = _attempts()
    for n in range(5):
        attempts.reserve(f"user{n}", "10.0.0.9", 100.0)

    with pytest.raises(AccountLocked):
        attempts.reserve("alice", "10.0.0.9", 100.0)


def test_a_success_forgets_the_persons_failures_and_refunds_the_source() -> None:
    ledger = MemoryLedger()
    attempts = _attempts(ledger)
    attempts.reserve("alice", "10.0.0.1", 100.0)
    last = attempts.reserve("alice", "10.0.0.1", 100.0)

    attempts.succeeded(last)

    assert last.user_source not in ledger.counters and last.user not in ledger.counters
    assert ledger.counters[last.source][0] == 1


def test_long_or_blank_source_addresses_make_bounded_keys() -> None:
    attempts = _attempts()

    assert attempts.reserve("alice", "   ", 1.0).source == "src:unknown"
    long = attempts.reserve("alice", "x" * 500, 1.0).source
    assert long.startswith("src:h:") and len(long) == len("src:h:") + 32

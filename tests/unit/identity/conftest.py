"""A SessionService wired to the identity fakes (:mod:`identity_support`) on a manual clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from guardian.clock import ManualClock
from guardian.identity.principal import Principal
from guardian.identity.sessions import SessionService
from guardian.identity.tokens import TokenSigner
from guardian.identity.totp import code_at
from identity_support import (
    ALICE_SECRET,
    SECRETS,
    TOKEN_KEY,
    FakeDirectory,
    FakeLedger,
    FakePasswords,
    FakeSecrets,
)


@pytest.fixture
def clock() -> ManualClock:
    # Mid-way through a 30 s TOTP step, so ±1 step never straddles a boundary by accident.
    return ManualClock(1_790_000_010.0)


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger()


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(TOKEN_KEY)


@pytest.fixture
def service(clock: ManualClock, ledger: FakeLedger, signer: TokenSigner) -> SessionService:
    directory = FakeDirectory([
        Principal("alice", "Alice", frozenset({"customer-care"})),
        Principal("heidi", "Heidi", frozenset({"customer-care"}), active=False),
    ])
    passwords = FakePasswords({"alice": "alice-demo-pass", "heidi": "heidi-demo-pass"})
    secrets = FakeSecrets(SECRETS)
    return SessionService(directory, passwords, secrets, ledger, signer, clock, ttl_s=8 * 3600)


@pytest.fixture
def code_for(clock: ManualClock) -> Callable[..., str]:
    """The code ``uid``'s authenticator shows now (or ``offset`` seconds from now)."""

    def code(uid: str, offset: float = 0.0) -> str:
        return code_at(SECRETS[uid], clock.now() + offset)

    return code


@pytest.fixture
def alice_secret() -> str:
    return ALICE_SECRET

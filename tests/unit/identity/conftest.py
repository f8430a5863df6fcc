"""In-memory fakes of the identity ports, and a SessionService wired to them on a manual clock."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from guardian.adapters.memory import MemoryLedger
from guardian.clock import ManualClock
from guardian.identity.principal import Principal
from guardian.identity.sessions import SessionService
from guardian.identity.tokens import TokenSigner
from guardian.identity.totp import code_at

ALICE_SECRET = "M52WC4TENFQW4LLEMVWW6LLBNRUWGZI"
HEIDI_SECRET = "M52WC4TENFQW4LLEMVWW6LLIMVUWI2I"
SECRETS = {"alice": ALICE_SECRET, "heidi": HEIDI_SECRET}
TOKEN_KEY = b"k" * 32


class FakeDirectory:
    def __init__(self, principals: Iterable[Principal]) -> None:
        self._by_uid = {p.uid: p for p in principals}

    def get(self, uid: str) -> Principal | None:
        return self._by_uid.get(uid)

    def principals(self) -> Iterable[Principal]:
        return self._by_uid.values()


class FakePasswords:
    """Plain-text comparison: the scrypt cost belongs to the passwords tests, not these."""

    def __init__(self, passwords: dict[str, str]) -> None:
        self._passwords = passwords

    def verify_password(self, uid: str, password: str) -> bool:
        return self._passwords.get(uid) == password


class FakeSecrets:
    def __init__(self, secrets: dict[str, str]) -> None:
        self._secrets = secrets

    def totp_secret(self, uid: str) -> str | None:
        return self._secrets.get(uid)


FakeLedger = MemoryLedger


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

"""In-memory fakes of the identity ports (imported by tests/unit/identity and its conftest)."""

from __future__ import annotations

from collections.abc import Iterable

from guardian.adapters.memory.ports import MemoryLedger
from guardian.identity.principal import Principal

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

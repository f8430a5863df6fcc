"""The ports: what the domain needs from the outside world, as ``typing.Protocol``s.

Every port has an in-memory or file-backed implementation used by unit tests and the embedded
default; real services (LDAP, PostgreSQL, OpenSearch) implement the same protocols in
``guardian.adapters``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from guardian.identity.principal import Principal
from guardian.policy.model import AuditReceipt


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class Directory(Protocol):
    """Who exists, their roles, status and contract; never called on a network round trip
    from the decision path (real directories serve a local snapshot)."""

    def get(self, uid: str) -> Principal | None: ...

    def principals(self) -> Iterable[Principal]: ...


class PasswordVerifier(Protocol):
    def verify_password(self, uid: str, password: str) -> bool: ...


class MfaSecrets(Protocol):
    def totp_secret(self, uid: str) -> str | None:
        """The user's base32 TOTP seed, decrypted, or ``None`` when not enrolled."""
        ...


class OtpLedger(Protocol):
    """Shared memory of used one-time codes and failed sign-ins (replay and lockout)."""

    def claim(self, uid: str, timestep: int, at: float) -> bool:
        """Record that ``uid`` used the code of ``timestep``; ``False`` if it was used before."""
        ...

    def record_failure(self, uid: str, at: float) -> int:
        """Count one more failed sign-in; return the number of consecutive failures."""
        ...

    def failures(self, uid: str) -> tuple[int, float]:
        """(consecutive failures, time of the last one)."""
        ...

    def reset_failures(self, uid: str) -> None: ...


class ConsentRegistry(Protocol):
    def without_consent(self, customer_ids: Sequence[str], purpose: str) -> tuple[str, ...]:
        """The customers among ``customer_ids`` who have not consented to ``purpose``."""
        ...


class GrantStore(Protocol):
    def active_roles(self, uid: str, at: float) -> frozenset[str]:
        """Roles granted temporarily to ``uid`` and valid at ``at``."""
        ...


class ApplicationRegistry(Protocol):
    def application_for(self, api_key: str) -> str | None:
        """The name of the application holding ``api_key``, or ``None``."""
        ...


class AuditJournal(Protocol):
    """Durable, hash-chained, append-only record of audit events."""

    def append(self, event: Mapping[str, Any]) -> AuditReceipt: ...

    def append_many(self, events: Sequence[Mapping[str, Any]]) -> list[AuditReceipt]: ...

    async def append_many_async(
        self, events: Sequence[Mapping[str, Any]]
    ) -> list[AuditReceipt]:
        """Like ``append_many`` for callers on an event loop: awaits durability."""
        ...

    def close(self) -> None: ...

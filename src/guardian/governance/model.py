"""Governance records: temporary grants of a role, application API keys (never the key) and
their scopes, and customers' consent changes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from guardian.clock import iso_utc, iso_utc_or_none


@dataclass(frozen=True, slots=True)
class TemporaryGrant:
    """``uid`` holds ``role`` from ``starts_at`` until just before ``expires_at``, unless it was
    revoked: a revoked grant gives nothing, whatever its window (``revoked_at`` is when)."""

    id: str
    uid: str
    role: str
    starts_at: float
    expires_at: float
    reason: str
    granted_by: str
    revoked_at: float | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def gives_role_at(self, at: float) -> bool:
        return self.revoked_at is None and self.starts_at <= at < self.expires_at

    def as_dict(self) -> dict[str, Any]:
        """As the API and ``guardian grants --output json`` show it."""
        return {"id": self.id, "uid": self.uid, "role": self.role,
                "starts_at": iso_utc(self.starts_at), "expires_at": iso_utc(self.expires_at),
                "justification": self.reason, "granted_by": self.granted_by,
                "revoked_at": iso_utc_or_none(self.revoked_at), "revoked_by": self.revoked_by,
                "revoke_reason": self.revoke_reason}


class Scope(StrEnum):
    """What an application key opens: the decision endpoints, the consent endpoints."""

    DECIDE = "decide"
    CONSENT = "consent"


DEFAULT_SCOPES = frozenset({Scope.DECIDE})
"""What keys made before scopes existed, and the applications file's keys, hold."""


def parse_scopes(text: str) -> frozenset[Scope]:
    """Scopes as stored (``decide,consent``); an unknown name is left out, never widened."""
    known = {s.value for s in Scope}
    return frozenset(Scope(p) for p in text.split(",") if p in known)


def format_scopes(scopes: frozenset[Scope]) -> str:
    return ",".join(sorted(s.value for s in scopes))


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """Who presented a key, as the decision and consent endpoints need it (from memory)."""

    application: str
    key_id: str
    scopes: frozenset[Scope]


@dataclass(frozen=True, slots=True)
class FileKey:
    """A key of the applications file: its listed id, its application, its SHA-256 digest."""

    id: str
    name: str
    key_sha256: str


class KeySource(StrEnum):
    """Where an API key is kept: Guardian's store, or the applications file (read-only)."""

    STORE = "store"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An application's API key as stored: its SHA-256 lives beside it, the key nowhere.

    A key of the applications file has no creation time or author (``None``); its revocation
    is kept in the store, the file is never rewritten."""

    id: str
    name: str
    created_at: float | None
    created_by: str | None
    revoked_at: float | None = None
    source: KeySource = KeySource.STORE
    scopes: frozenset[Scope] = DEFAULT_SCOPES

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def as_dict(self) -> dict[str, Any]:
        """As the API and ``guardian keys list --output json`` show it (never the key)."""
        return {"id": self.id, "name": self.name, "source": self.source.value,
                "created_at": iso_utc_or_none(self.created_at), "created_by": self.created_by,
                "revoked_at": iso_utc_or_none(self.revoked_at), "active": self.active,
                "scopes": sorted(s.value for s in self.scopes)}

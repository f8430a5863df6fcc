"""Governance records: temporary grants of a role and application API keys (never the key)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TemporaryGrant:
    """``uid`` holds ``role`` from ``starts_at`` until just before ``expires_at``."""

    id: str
    uid: str
    role: str
    starts_at: float
    expires_at: float
    reason: str
    granted_by: str


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An application's API key as stored: its SHA-256 lives beside it, the key nowhere."""

    id: str
    name: str
    created_at: float
    created_by: str
    revoked_at: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

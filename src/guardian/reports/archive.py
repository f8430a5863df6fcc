"""Archived reports: the signed JSON as produced, with what the archive lists about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from guardian.clock import iso_utc


@dataclass(frozen=True, slots=True)
class ArchivedReport:
    id: str
    kind: str
    period_from: str
    period_to: str
    created_at: float
    created_by: str
    sha256: str
    signature: str
    body: bytes
    """The signed JSON report, byte for byte as it was hashed and signed, plus its seal."""

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind,
                "period": {"from": self.period_from, "to": self.period_to},
                "created_at": iso_utc(self.created_at), "created_by": self.created_by,
                "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One delivery of a report on one channel (``email``, ``webhook``), as it ended."""

    report_id: str
    channel: str
    recipients: int
    attempts: int
    at: float
    error: str | None = None
    """``None``: delivered; else why the last attempt failed (a code and a message)."""

    def summary(self) -> dict[str, Any]:
        return {"channel": self.channel, "recipients": self.recipients,
                "attempts": self.attempts, "at": iso_utc(self.at),
                "outcome": "failure" if self.error is not None else "success",
                "error": self.error}

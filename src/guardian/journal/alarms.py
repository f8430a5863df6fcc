"""The journal's alarms: what operators must look at, in health, metrics and the log.

``journal_replaced``: the file was unlinked or replaced while Guardian had it open (every append
is refused until a restart). ``chain_regressed``: on opening, the journal ended before an event
known elsewhere (the index acknowledged it, or the copy of a journal unlinked while serving
holds it). ``tail_quarantined``: lines after the journal's last signature were set aside on
opening. ``journal_unavailable``: it cannot be opened or written. Messages name files and
sequence numbers, never a secret.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from guardian.audit.events import AuditAction, timestamp
from guardian.journal.recovery import Quarantine

JOURNAL_REPLACED = "journal_replaced"
CHAIN_REGRESSED = "chain_regressed"
TAIL_QUARANTINED = "tail_quarantined"
JOURNAL_UNAVAILABLE = "journal_unavailable"
CODES = (JOURNAL_REPLACED, CHAIN_REGRESSED, TAIL_QUARANTINED, JOURNAL_UNAVAILABLE)

log = structlog.get_logger("guardian.audit")


@dataclass(frozen=True, slots=True)
class JournalAlarm:
    code: str
    message: str


class JournalAlarms:
    """The alarms one journal raised since it was opened (they last as long as the process)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._raised: dict[str, str] = {}
        self.quarantine: Quarantine | None = None
        self.replaced: str | None = None
        """Why appends are refused for good (the file was unlinked or replaced), or ``None``."""

    def current(self, open_error: str | None) -> tuple[JournalAlarm, ...]:
        raised = dict(self._raised)
        if open_error is not None and self.replaced is None:
            raised.setdefault(JOURNAL_UNAVAILABLE, open_error)
        return tuple(JournalAlarm(code, message) for code, message in raised.items())

    def health(self, last_seq: int, *, sealed: bool, open_error: str | None) -> dict[str, Any]:
        alarms = self.current(open_error)
        return {
            "last_seq": last_seq,
            "status": "alarm" if alarms else "ok",
            "sealed": sealed,
            "alarms": [{"code": a.code, "message": a.message} for a in alarms],
            "quarantine": asdict(self.quarantine) if self.quarantine is not None else None,
        }

    def quarantined(self, q: Quarantine) -> None:
        self.quarantine = q
        seqs = f" (events {q.first_seq}..{q.last_seq})" if q.first_seq is not None else ""
        self._raised[TAIL_QUARANTINED] = (
            f"{q.lines} line(s){seqs} after the journal's last signature were never "
            f"acknowledged; set aside in {q.file}")
        log.warning("audit_journal_tail_quarantined", path=str(self.path), file=q.file,
                    lines=q.lines, bytes=q.bytes, first_seq=q.first_seq, last_seq=q.last_seq)

    def replaced_under_us(
        self, problem: str, durable_seq: int, rescued: Path | None, rescue_error: str | None
    ) -> None:
        kept = f"; its durable content was copied to {rescued} (restored as the journal on " \
               "the next start)" if rescued is not None else ""
        if rescue_error is not None:
            kept = f"; copying its content out failed: {rescue_error}"
        self.replaced = f"{problem}: appends are refused until a restart{kept}"
        self._raised[JOURNAL_REPLACED] = self.replaced
        log.critical("audit_journal_replaced", path=str(self.path), problem=problem,
                     durable_seq=durable_seq, rescued=str(rescued) if rescued else None)

    def restored(self, ended_at: int, source: Path, seq: int, moved: Path | None) -> None:
        self._raised[CHAIN_REGRESSED] = (
            f"the journal ended at event {ended_at} but {source} (the journal unlinked while "
            f"serving) reaches event {seq}, signed: restored from it{_moved(moved)}")
        log.critical("audit_chain_regressed", path=str(self.path), journal_seq=ended_at,
                     known_seq=seq, restored_from=str(source))

    def regressed(self, ended_at: int, seq: int, moved: Path | None) -> None:
        self._raised[CHAIN_REGRESSED] = (
            f"the journal ended at event {ended_at} but the index acknowledged event {seq}: "
            f"it was deleted or cut back while Guardian was stopped; the chain continues "
            f"from event {seq}{_moved(moved)}")
        log.critical("audit_chain_regressed", path=str(self.path), journal_seq=ended_at,
                     known_seq=seq)

    def write_failed(self, error: str | None, durable_seq: int) -> None:
        log.error("audit_journal_write_failed", path=str(self.path), error=error,
                  durable_seq=durable_seq)


def _moved(target: Path | None) -> str:
    return f"; what it held was moved to {target}" if target is not None else ""


def regression_event() -> dict[str, Any]:
    """The event that says, in the trail itself, that the chain continues after a gap."""
    return {
        "@timestamp": timestamp(datetime.now(UTC).timestamp()),
        "event": {"kind": "alert", "category": ["configuration"],
                  "action": AuditAction.CHAIN_REGRESSED.value, "outcome": "failure"},
        "guardian": {"reason": CHAIN_REGRESSED},
    }

"""A trail aged by a fake clock, for the retention job's tests on SQLite and OpenSearch.

Two blocks of events a few weeks apart are journalled (signed checkpoints every 10 events) and
shipped into the index under test; the clock is then moved past the first block's retention.
No test waits: every time (events, checkpoints, the job's "now") comes from :class:`FakeClock`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit_support import Ticks, decision, signer
from guardian.audit.checkpoints import Checkpointer, CheckpointSigner
from guardian.audit.events import timestamp
from guardian.audit.retention import RetentionJob, RetentionPolicy
from guardian.journal.shipper import Shipper, ShipperConfig
from guardian.journal.writer import FileJournal

DAY_S = 86_400.0
T0 = 1_735_689_600.0  # 2025-01-01T00:00:00Z
BLOCK = 25


class FakeClock:
    def __init__(self, now: float) -> None:
        self.t = now

    def now(self) -> float:
        return self.t


@dataclass
class AgedTrail:
    key: CheckpointSigner
    clock: FakeClock
    journal: FileJournal
    shipper: Shipper
    job: RetentionJob
    old_seqs: list[int]
    young_seqs: list[int]
    rolled_at_40_days: str | None = None

    def ship(self) -> None:
        assert self.shipper.drain(max_wait_s=10).caught_up

    def close(self) -> None:
        self.shipper.stop()
        self.journal.close()


def _block(trail: AgedTrail, first: int) -> list[int]:
    seqs = []
    for start in range(0, BLOCK, 5):  # batches of 5: a checkpoint after every 10 events
        at = timestamp(trail.clock.now())
        receipts = trail.journal.append_many(
            [decision(first + start + n, at=at) for n in range(5)])
        seqs += [r.seq for r in receipts]
    return seqs


def aged_trail(tmp_path: Path, index: Any, *, retention_days: int = 365,
               rollover_days: int = 30, writer: str = "") -> AgedTrail:
    """Block A journalled at T0, block B 40 days later, both shipped; the clock then stands
    at T0 + 40 days (block B's time)."""
    key = signer()
    clock = FakeClock(T0)
    checkpointer = Checkpointer(key, clock.now, every_events=10, every_s=1e9,
                                monotonic=Ticks())
    name = f"journal-{writer}.jsonl" if writer else "journal.jsonl"
    journal = FileJournal(tmp_path / name, fsync=False, checkpointer=checkpointer,
                          writer=writer)
    shipper = Shipper(journal, index, tmp_path / f"{name}.shipped",
                      ShipperConfig(fsync=False), clock.now)
    job = RetentionJob(index, journal, clock,
                       RetentionPolicy(retention_days, rollover_days, 1 << 40))
    trail = AgedTrail(key, clock, journal, shipper, job, [], [])
    trail.old_seqs = _block(trail, 0)
    trail.ship()
    clock.t = T0 + 40 * DAY_S
    trail.rolled_at_40_days = job.apply().rolled_over
    trail.young_seqs = _block(trail, 100)
    trail.ship()
    return trail

"""The two ways to verify the trail: from the local journal, or from the audit index.

Both walk the same chain with :func:`~guardian.audit.verifier.verify_trail`; they differ in
what else they know. Either must reach what the shipper saw acknowledged (when run where the
journal is), what an auditor last verified (``expect_seq``) and the last checkpoint a witness
holds, and match the witness's checkpoints where they overlap. A trimmed journal must start
with a checkpoint; the index must hold every checkpoint of its checkpoint index.
Nothing may follow a journal's last seal (lines after it were never acknowledged);
quarantine files next to it are reported.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from guardian.audit.checkpoints import CheckpointVerifier
from guardian.audit.verdict import Break, ChainReport
from guardian.audit.verifier import Expectations, Item, journal_file_items, verify_trail
from guardian.journal.parallel_walk import verify_in_parallel
from guardian.journal.recovery import quarantined, unsigned_tail
from guardian.journal.ship_state import ShipState
from guardian.journal.witness import WitnessCopy, witness_points
from guardian.ports import AuditIndex

Progress = Callable[[int], None]


def _expectations(
    shipped: ShipState | None, expect_seq: int | None, witness: WitnessCopy | None, *,
    head_checkpoint: bool,
) -> Expectations:
    last, source = None, ""
    points: dict[int, str] = {}
    sources: dict[int, str] = {}
    if shipped is not None and shipped.seq > 0:
        last, source, points = shipped.seq, "the shipper (acknowledged)", {shipped.seq:
                                                                            shipped.hash}
    if witness is not None:
        for point in witness.points:
            points.setdefault(point.seq, point.hash)
            sources.setdefault(point.seq, f"{witness.source} witnessed")
        top = witness.last
        if top is not None and (last is None or top.seq > last):
            last, source = top.seq, f"{witness.source} (checkpoint signed by key {top.key_id})"
    if expect_seq is not None and (last is None or expect_seq > last):
        last, source = expect_seq, "the auditor (--expect-seq)"
    return Expectations(last, source, points, sources, head_checkpoint,
                        retention_explains_start=not head_checkpoint)


PARALLEL_BYTES = 32 * 1024 * 1024
"""Journals this big are first walked on every core (see :mod:`.parallel_verify`)."""


def verify_journal(
    path: Path, verifier: CheckpointVerifier | None, *, shipped: ShipState | None = None,
    expect_seq: int | None = None, witness: WitnessCopy | None = None,
    progress: Progress | None = None, workers: int | None = None,
) -> ChainReport:
    expect = _expectations(shipped, expect_seq, witness, head_checkpoint=True)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    report: ChainReport | None = None
    if workers > 1 and path.stat().st_size >= PARALLEL_BYTES:
        keys = verifier.raw_keys() if verifier is not None else []
        report = verify_in_parallel(path, keys, expect, workers=workers)
    if report is None:
        report = verify_trail(journal_file_items(path), verifier=verifier, expect=expect,
                              progress=progress)
    return _with_seals(path, verifier, report)


def _with_seals(
    path: Path, verifier: CheckpointVerifier | None, report: ChainReport
) -> ChainReport:
    """Lines after the journal's last seal were never acknowledged (added while Guardian was
    stopped, or a crash mid-write): named as inserted; quarantine files are noted."""
    notes = [f"{lines} line(s) set aside after the journal's last signature when it was "
             f"opened: {file}" for file, lines in quarantined(path)]
    report = replace(report, notes=report.notes + tuple(notes))
    tail = unsigned_tail(path, verifier) if verifier is not None and report.ok else None
    if tail is None:
        return report
    lines, first = tail
    return replace(report, problem=Break.INSERTED, broken_at=first or 0, detail=(
        f"{lines} line(s) from event {first} on follow the journal's last seal: never "
        "acknowledged (added while Guardian was stopped, or a crash mid-write); the next "
        "start sets them aside"))


def verify_index(
    index: AuditIndex, verifier: CheckpointVerifier | None, *,
    shipped: ShipState | None = None, expect_seq: int | None = None,
    witness: WitnessCopy | None = None, progress: Progress | None = None,
    settle_s: float = 2.0,
) -> ChainReport:
    """Walk the index; ``settle_s``: how long new documents may take to become searchable."""

    def items() -> Iterator[Item]:
        for stored in index.events_in_order():
            yield f"document {stored.doc_id}", stored.doc_id, None, stored.event

    def copies() -> Iterator[tuple[str, object]]:
        for stored in index.checkpoints():
            yield stored.doc_id, stored.event

    expect = _expectations(shipped, expect_seq, witness, head_checkpoint=False)
    return verify_trail(items(), verifier=verifier, expect=expect, checkpoint_docs=copies,
                        settle=lambda: time.sleep(settle_s), progress=progress)


def index_witness(index: AuditIndex, verifier: CheckpointVerifier | None) -> WitnessCopy:
    """The index's checkpoint stream as a witness (``audit verify --witness index``)."""
    return witness_points((stored.event for stored in index.checkpoints()), verifier,
                          "the index's checkpoint stream")

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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from guardian.audit.chains import verify_chains
from guardian.audit.checkpoints import CheckpointVerifier
from guardian.audit.queries import MAX_PAGE, AuditQuery
from guardian.audit.verdict import Break, ChainReport, TrailVerdict
from guardian.audit.verifier import (
    RETENTION_ACTION,
    Expectations,
    Item,
    journal_file_items,
    verify_trail,
)
from guardian.audit.writers import label, writer_of
from guardian.errors import ConfigurationError
from guardian.journal.parallel_walk import verify_in_parallel
from guardian.journal.recovery import quarantined, unsigned_tail
from guardian.journal.ship_state import ShipState
from guardian.journal.witness import WitnessCopy, witness_points
from guardian.ports import AuditIndex

Progress = Callable[[int], None]
ExpectSeq = int | Mapping[str, int] | None
"""``--expect-seq``: a number (the trail's only chain must reach it), or one per writer."""


def _expectations(
    shipped: ShipState | None, expect_seq: int | None, witness: WitnessCopy | None, *,
    head_checkpoint: bool, retained: tuple[tuple[int, str], ...] = (),
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
                        retention_explains_start=not head_checkpoint, retained=retained)


PARALLEL_BYTES = 32 * 1024 * 1024
"""Journals this big are first walked on every core (see :mod:`.parallel_verify`)."""


def verify_journal(
    path: Path, verifier: CheckpointVerifier | None, *, shipped: ShipState | None = None,
    expect_seq: int | None = None, witness: WitnessCopy | None = None,
    progress: Progress | None = None, workers: int | None = None,
) -> ChainReport:
    if witness is not None:
        witness = witness.of(journal_writer(path))
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


def journal_writer(path: Path) -> str:
    """The writer of a journal's chain: the writer its first event names."""
    for _label, _doc, _raw, event in journal_file_items(path, chunk=64 * 1024):
        if event is not None:
            return writer_of(event)
    return ""


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
    shipped: ShipState | Sequence[ShipState] | None = None, expect_seq: ExpectSeq = None,
    witness: WitnessCopy | None = None, progress: Progress | None = None,
    settle_s: float = 2.0,
) -> TrailVerdict:
    """Walk every writer's chain in the index; ``shipped``: what the shippers of the journals
    here saw acknowledged (each for its writer); ``settle_s``: how long new documents may take
    to become searchable."""

    def items() -> Iterator[Item]:
        for stored in index.events_in_order():
            yield f"document {stored.doc_id}", stored.doc_id, None, stored.event

    def copies() -> Iterator[tuple[str, object]]:
        for stored in index.checkpoints():
            yield stored.doc_id, stored.event

    states = [shipped] if isinstance(shipped, ShipState) else list(shipped or ())
    retained = _retained(index)
    by_writer = {state.writer: state for state in states}
    per_writer = expect_seq if isinstance(expect_seq, Mapping) else {}

    def expect_for(writer: str) -> Expectations:
        seq = per_writer.get(writer) if per_writer else expect_seq
        assert seq is None or isinstance(seq, int)
        return _expectations(by_writer.get(writer), seq,
                             witness.of(writer) if witness is not None else None,
                             head_checkpoint=False, retained=tuple(retained.get(writer, ())))

    verdict = verify_chains(items(), verifier=verifier, expect_for=expect_for,
                            checkpoint_docs=copies, settle=lambda: time.sleep(settle_s),
                            progress=progress)
    return _with_missing_writers(verdict, verifier, expect_for, set(by_writer) | set(per_writer)
                                 | (witness.writers if witness is not None else set()),
                                 several_expected=isinstance(expect_seq, int))


def _retained(index: AuditIndex) -> dict[str, list[tuple[int, str]]]:
    """What retention events (of any chain) say they removed, per writer whose range it was:
    the leader journals the removal of every writer's oldest events in its own chain."""
    found: dict[str, list[tuple[int, str]]] = {}
    query = AuditQuery(action=RETENTION_ACTION, size=MAX_PAGE)
    while True:
        page = index.search(query)
        for event in page.events:
            removed = event.get("guardian", {}).get("retention")
            if isinstance(removed, Mapping) and isinstance(removed.get("last_seq"), int):
                found.setdefault(str(removed.get("writer", "")), []).append(
                    (int(removed["last_seq"]), str(event.get("@timestamp", ""))[:10]))
        if page.next_cursor is None:
            return found
        query = replace(query, after=page.next_cursor)


def _with_missing_writers(
    verdict: TrailVerdict, verifier: CheckpointVerifier | None,
    expect_for: Callable[[str], Expectations], known: set[str], *, several_expected: bool,
) -> TrailVerdict:
    """A writer known elsewhere (a shipper, the auditor, the witness) with no event in the
    index lost its whole chain; a bare ``--expect-seq`` must name the writer when the trail
    holds several chains."""
    if several_expected and len(verdict.chains) > 1:
        writers = ", ".join(label(c.writer) for c in verdict.chains)
        raise ConfigurationError(f"the trail holds the chains of several writers ({writers}): "
                                 "give --expect-seq as WRITER=SEQ")
    walked = {c.writer for c in verdict.chains}
    if not walked and not known:
        known = {""}  # an empty trail is still held to what is expected of it
    missing = [verify_trail((), verifier=verifier, expect=expect_for(w), writer=w)
               for w in sorted(known - walked)]
    if not missing:
        return verdict
    return TrailVerdict(tuple(sorted((*verdict.chains, *missing), key=lambda c: c.writer)))


def index_witness(index: AuditIndex, verifier: CheckpointVerifier | None) -> WitnessCopy:
    """The index's checkpoint stream as a witness (``audit verify --witness index``)."""
    return witness_points((stored.event for stored in index.checkpoints()), verifier,
                          "the index's checkpoint stream")

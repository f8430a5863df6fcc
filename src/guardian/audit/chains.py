"""Verifying a trail of several writers: each writer's chain walked on its own, side by side.

Every worker and replica journals into its own hash chain (:mod:`guardian.audit.writers`), and
an index holds them all. The index hands its events over sorted by (writer, seq); each run of
one writer is walked by the one verifier (:func:`~guardian.audit.verifier.verify_trail`) with
what is known about that writer (its shipper's acknowledgement, the auditor's ``--expect-seq``,
the witness's checkpoints of that writer), and checked against that writer's part of the
checkpoint index. A writer known only from the checkpoint index has lost its whole chain
(*truncated*). The verdict lists every chain and names the writer of any break.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from guardian.audit.checkpoints import CheckpointVerifier
from guardian.audit.verdict import Break, ChainReport, TrailVerdict
from guardian.audit.verifier import Expectations, Item, verify_trail
from guardian.audit.writers import label, writer_of


class _Copies:
    """The checkpoint index, read once (again after ``settle``) and split by writer."""

    def __init__(self, read: Callable[[], Iterable[tuple[str, Any]]],
                 settle: Callable[[], None] | None) -> None:
        self._read, self._settle = read, settle
        self._by_writer: dict[str, list[tuple[str, Any]]] | None = None
        self._settled = False

    def writers(self) -> set[str]:
        return set(self._load())

    def of(self, writer: str) -> Callable[[], Iterable[tuple[str, Any]]]:
        return lambda: list(self._load().get(writer, ()))

    def settle(self) -> None:
        if self._settled or self._settle is None:
            return  # one wait for the whole trail, not one per chain
        self._settle()
        self._settled = True
        self._by_writer = None

    def _load(self) -> dict[str, list[tuple[str, Any]]]:
        if self._by_writer is None:
            grouped: dict[str, list[tuple[str, Any]]] = {}
            for doc_id, event in self._read():
                grouped.setdefault(writer_of(event), []).append((doc_id, event))
            self._by_writer = grouped
        return self._by_writer


def _runs(items: Iterable[Item]) -> Iterator[tuple[str, Iterator[Item]]]:
    """Consecutive items of one writer; an unreadable item stays with the run it is in."""
    current = [""]

    def key(item: Item) -> str:
        event = item[3]
        if type(event) is dict and type(event.get("guardian")) is dict:
            current[0] = writer_of(event)
        return current[0]

    yield from itertools.groupby(items, key)


def verify_chains(
    items: Iterable[Item], *, verifier: CheckpointVerifier | None,
    expect_for: Callable[[str], Expectations] = lambda _w: Expectations(),
    checkpoint_docs: Callable[[], Iterable[tuple[str, Any]]] | None = None,
    settle: Callable[[], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> TrailVerdict:
    """Walk every writer's chain of ``items`` (sorted by writer, then seq); see the module."""
    copies = _Copies(checkpoint_docs, settle) if checkpoint_docs is not None else None
    reports: dict[str, ChainReport] = {}
    done = 0

    def counted(n: int) -> None:
        if progress is not None:
            progress(done + n)

    for writer, run in _runs(items):
        if writer in reports:
            reports[writer] = _out_of_order(reports[writer])
            continue
        report = verify_trail(run, verifier=verifier, expect=expect_for(writer),
                              checkpoint_docs=copies.of(writer) if copies else None,
                              settle=copies.settle if copies else None,
                              progress=counted, writer=writer)
        reports[writer] = report
        done += report.events
    known = set(copies.writers()) if copies is not None else set()
    for writer in sorted(known - set(reports)):
        assert copies is not None
        reports[writer] = verify_trail((), verifier=verifier, expect=expect_for(writer),
                                       checkpoint_docs=copies.of(writer), writer=writer)
    return TrailVerdict(tuple(reports[w] for w in sorted(reports)))


def _out_of_order(report: ChainReport) -> ChainReport:
    if not report.ok:
        return report
    at = (report.last_seq or 0) + 1
    return ChainReport(report.events, report.first_seq, report.last_seq, report.last_hash, at,
                       Break.REORDERED, f"events of writer {label(report.writer)} come after "
                       "another writer's: documents were moved", checkpoints=report.checkpoints,
                       writer=report.writer)

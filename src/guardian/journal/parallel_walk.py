"""Verifying a large journal on every core: slices walked in parallel, then stitched together.

The journal is cut at line boundaries into one slice per worker process; each walks its slice
with the same checks as a single walk (hashes, links, places, checkpoint signatures). The
slices hold together if each one starts with the sequence number after the previous slice's
last and hangs from (``prev_hash``) the previous slice's last hash. This only says "intact"
quickly: if any slice or seam is wrong, the caller walks the whole journal once more in one
process, which names the first problem precisely.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from guardian.audit.checkpoints import CheckpointVerifier
from guardian.audit.verdict import ChainReport, merge_key_uses
from guardian.audit.verifier import (
    NOT_CHECKED,
    Expectations,
    journal_file_items,
    verify_trail,
)


def slices(path: Path, parts: int) -> list[tuple[int, int]]:
    """Byte ranges of ``path`` cut at line boundaries, about equal in size."""
    size = path.stat().st_size
    cuts = [0]
    with path.open("rb") as handle:
        for k in range(1, parts):
            handle.seek(max(cuts[-1], size * k // parts))
            handle.readline()  # to the end of the line the cut fell in
            position = handle.tell()
            if cuts[-1] < position < size:
                cuts.append(position)
    cuts.append(size)
    return list(itertools.pairwise(cuts))


def _walk_slice(path: str, start: int, end: int, keys: Sequence[bytes],
                expect: Expectations) -> ChainReport:
    verifier = CheckpointVerifier(Ed25519PublicKey.from_public_bytes(k) for k in keys)
    return verify_trail(journal_file_items(Path(path), start=start, end=end),
                        verifier=verifier if keys else None, expect=expect)


def verify_in_parallel(
    path: Path, keys: Sequence[bytes], expect: Expectations, *, workers: int | None = None
) -> ChainReport | None:
    """The report of an intact journal, or ``None`` when anything is wrong (walk it again in
    one process to name the problem)."""
    workers = workers or os.cpu_count() or 1
    parts = slices(path, workers)
    if len(parts) < 2:
        return None
    later = Expectations(points=expect.points, point_sources=expect.point_sources)
    try:
        with ProcessPoolExecutor(len(parts), mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_walk_slice, str(path), start, end, list(keys),
                                   Expectations(head_checkpoint=expect.head_checkpoint,
                                                points=expect.points,
                                                point_sources=expect.point_sources)
                                   if i == 0 else later)
                       for i, (start, end) in enumerate(parts)]
            reports = [f.result() for f in futures]
    except (OSError, RuntimeError, BrokenProcessPool):
        return None  # no worker processes here: one walk will do
    if not all(r.ok and r.events for r in reports):
        return None
    for before, after in itertools.pairwise(reports):
        if before.last_seq is None or after.first_seq != before.last_seq + 1 \
                or after.start_hash != before.last_hash:
            return None
    first, last = reports[0], reports[-1]
    if expect.last_seq is not None and (last.last_seq or 0) < expect.last_seq:
        return None
    checkpoints = [r.last_checkpoint_seq for r in reports if r.last_checkpoint_seq is not None]
    last_checkpoint = max(checkpoints) if checkpoints else None
    notes = list(first.notes[:1]) if first.first_seq not in (None, 1) else []
    if not keys:
        notes.append(NOT_CHECKED)
    elif last.last_seq is not None and last_checkpoint != last.last_seq:
        unsigned = last.last_seq - (last_checkpoint or (first.first_seq or 1) - 1)
        notes.append(f"{unsigned} event(s) after the last checkpoint are not signed yet")
    return ChainReport(sum(r.events for r in reports), first.first_seq, last.last_seq,
                       last.last_hash, checkpoints=sum(r.checkpoints for r in reports),
                       last_checkpoint_seq=last_checkpoint, notes=tuple(notes),
                       start_hash=first.start_hash,
                       keys=merge_key_uses(r.keys for r in reports), writer=first.writer)

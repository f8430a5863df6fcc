"""Several writers' chains in one trail: each walked on its own and reported in writer order;
a break names its writer and leaves the others' verdicts alone; a writer whose events come
back after another's was moved; a writer known only from the checkpoint index lost its whole
chain; the index that makes checkpoints visible late is waited for once per trail."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from audit_support import decision, journal, signer, verifier_for
from guardian.audit.chains import verify_chains
from guardian.audit.checkpoints import CheckpointVerifier
from guardian.audit.records import JournalRecord
from guardian.audit.verdict import Break
from guardian.audit.verifier import Expectations, Item

Trail = dict[str, list[JournalRecord]]


@pytest.fixture
def keyed(tmp_path: Path) -> tuple[Trail, CheckpointVerifier]:
    """Writers ``a`` and ``b``: five decisions each, a checkpoint after the third (seq 4)."""
    key = signer()
    trail: Trail = {}
    for writer in ("a", "b"):
        j = journal(tmp_path / f"{writer}.jsonl", key, every=3, writer=writer)
        for n in range(5):
            j.append(decision(n))
        trail[writer] = j.read_records(0, 100)
        j.close()
    return trail, verifier_for(key)


def _items(records: Sequence[JournalRecord]) -> list[Item]:
    return [(f"document {r.doc_id}", r.doc_id, None, r.event) for r in records]


def _copies(records: Sequence[JournalRecord]) -> list[tuple[str, Any]]:
    return [(r.doc_id, r.event) for r in records if r.is_checkpoint]


def test_every_writer_s_chain_is_walked_and_reported_in_writer_order(
        keyed: tuple[Trail, CheckpointVerifier]) -> None:
    trail, verifier = keyed
    both = trail["a"] + trail["b"]

    verdict = verify_chains(_items(both), verifier=verifier, checkpoint_docs=lambda: _copies(both))

    assert verdict.ok and verdict.writer is None
    assert [(c.writer, c.events, c.first_seq, c.last_seq, c.checkpoints)
            for c in verdict.chains] == [("a", 6, 1, 6, 1), ("b", 6, 1, 6, 1)]
    assert [c.last_hash for c in verdict.chains] == [trail["a"][-1].hash, trail["b"][-1].hash]


def test_a_modified_event_breaks_its_writer_s_chain_only(
        keyed: tuple[Trail, CheckpointVerifier]) -> None:
    trail, verifier = keyed
    forged = [copy.deepcopy(dict(r.event)) for r in trail["b"]]
    forged[1]["user"]["id"] = "mallory"
    items = _items(trail["a"]) + [(f"document b:{seq}", f"b:{seq}", None, event)
                                  for seq, event in enumerate(forged, 1)]

    verdict = verify_chains(items, verifier=verifier)

    assert not verdict.ok and verdict.writer == "b"
    assert verdict.problem is Break.MODIFIED and verdict.broken_at == 2
    assert verdict.doc_id == "b:2"
    assert verdict.chains[0].ok and verdict.chains[0].events == 6


def test_a_writer_whose_events_come_back_after_another_s_was_moved(
        keyed: tuple[Trail, CheckpointVerifier]) -> None:
    trail, verifier = keyed
    interleaved = trail["a"][:3] + trail["b"] + trail["a"][3:]

    verdict = verify_chains(_items(interleaved), verifier=verifier)

    a, b = verdict.chains
    assert (a.writer, a.problem, a.broken_at) == ("a", Break.REORDERED, 4)
    assert "writer a come after another writer's" in a.detail
    assert b.ok and verdict.writer == "a"


def test_a_writer_known_only_from_the_checkpoint_index_is_truncated(
        keyed: tuple[Trail, CheckpointVerifier]) -> None:
    trail, verifier = keyed
    copies = _copies(trail["a"] + trail["b"])

    verdict = verify_chains(_items(trail["a"]), verifier=verifier, checkpoint_docs=lambda: copies)

    assert [c.writer for c in verdict.chains] == ["a", "b"]
    assert verdict.chains[0].ok
    lost = verdict.chains[1]
    assert (lost.problem, lost.events, lost.doc_id) == (Break.TRUNCATED, 0, "b:4")


def test_each_writer_gets_its_own_expectations(
        keyed: tuple[Trail, CheckpointVerifier]) -> None:
    trail, verifier = keyed
    asked: list[str] = []

    def expect_for(writer: str) -> Expectations:
        asked.append(writer)
        return Expectations(last_seq=20) if writer == "b" else Expectations()

    verdict = verify_chains(_items(trail["a"] + trail["b"]), verifier=verifier,
                            expect_for=expect_for)

    assert asked == ["a", "b"]
    assert verdict.chains[0].ok
    assert (verdict.writer, verdict.problem) == ("b", Break.TRUNCATED)


def test_the_checkpoint_index_is_settled_once_for_the_whole_trail(
        keyed: tuple[Trail, CheckpointVerifier]) -> None:
    trail, verifier = keyed
    settled: list[int] = []
    reads: list[int] = []

    def nothing_indexed_yet() -> list[tuple[str, Any]]:
        reads.append(1)
        return []

    verdict = verify_chains(_items(trail["a"] + trail["b"]), verifier=verifier,
                            checkpoint_docs=nothing_indexed_yet,
                            settle=lambda: settled.append(1))

    assert settled == [1]
    assert len(reads) == 2  # once before the wait, once after it: not once per chain
    assert [c.problem for c in verdict.chains] == [Break.CHECKPOINT_INVALID] * 2
    assert "missing from the checkpoint index" in verdict.detail


def test_an_empty_trail_has_no_chains() -> None:
    verdict = verify_chains([], verifier=None)

    assert verdict.chains == () and verdict.ok

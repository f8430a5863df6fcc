"""Rollover and retention by Guardian's job on a real OpenSearch node without ISM: the write
alias rolled over by age, old indices deleted (journalled first), newer ones kept, and
``audit verify --source opensearch`` passing from the oldest checkpoint kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit_support import verifier_for
from guardian.audit.records import is_checkpoint
from guardian.audit.verdict import Break
from guardian.audit.verifier import RETENTION_ACTION
from guardian.journal.verification import verify_index
from opensearch_support import OpenSearchTamper, opensearch_index
from retention_support import DAY_S, T0, aged_trail

pytestmark = pytest.mark.integration


def _backing(index: object) -> list[str]:
    names = index.design.names  # type: ignore[attr-defined]
    return sorted(index.client.indices.get_alias(name=names.events_alias))  # type: ignore[attr-defined]


def test_guardian_rolls_over_deletes_old_indices_and_verification_starts_after_them(
        opensearch_url: str, tmp_path: Path) -> None:
    with opensearch_index(opensearch_url, "retention") as index:
        index.setup()
        assert not index.retention_managed()  # no ISM on this build: Guardian does the work
        trail = aged_trail(tmp_path, index)
        names = index.design.names
        first, second = names.first_events_index, f"{names.prefix}-events-000002"
        assert trail.rolled_at_40_days == first  # block A's index was 40 days old
        assert _backing(index) == [first, second]

        trail.clock.t = T0 + 380 * DAY_S
        plan = trail.job.apply(dry_run=True)
        assert [r.target for r in plan.removals] == [first] and plan.rolled_over == second
        assert _backing(index) == [first, second]  # a dry run changes nothing

        result = trail.job.apply()
        trail.ship()
        index.client.indices.refresh(index=f"{names.events_pattern},{names.checkpoints}")

        third = f"{names.prefix}-events-000003"
        (removal,) = result.removals
        assert (removal.kind, removal.target) == ("index", first)
        assert (removal.first_seq, removal.last_seq) == (1, trail.young_seqs[0] - 1)
        assert removal.events == trail.young_seqs[0] - 1
        assert result.rolled_over == second
        assert _backing(index) == [second, third]  # old gone, newer kept, a new write index
        kept = [int(e.doc_id) for e in index.events_in_order()]
        assert kept[0] == trail.young_seqs[0] and set(trail.young_seqs) <= set(kept)
        journalled = [e.event for e in index.events_in_order()
                      if e.event["event"]["action"] == RETENTION_ACTION]
        assert journalled[0]["guardian"]["retention"]["target"] == first
        assert journalled[0]["guardian"]["retention"]["last_seq"] == removal.last_seq

        report = verify_index(index, verifier_for(trail.key), shipped=trail.shipper.state,
                              settle_s=0.5)
        first_checkpoint = next(int(e.doc_id) for e in index.events_in_order()
                                if is_checkpoint(e.event))
        assert report.ok, report.detail
        assert report.first_seq == trail.young_seqs[0]
        assert report.notes[0] == (f"verified from checkpoint seq {first_checkpoint} (earlier "
                                   "events removed by retention on 2026-01-16)")
        trail.close()


def test_an_index_deleted_without_a_journalled_retention_is_a_break(
        opensearch_url: str, tmp_path: Path) -> None:
    with opensearch_index(opensearch_url, "retention-cut") as index:
        index.setup()
        trail = aged_trail(tmp_path, index)
        index.client.indices.delete(index=index.design.names.first_events_index)
        OpenSearchTamper(index).refresh()

        report = verify_index(index, verifier_for(trail.key), settle_s=0.5)

        assert report.problem is Break.REMOVED
        assert "no journalled retention event explains the gap" in report.detail
        trail.close()

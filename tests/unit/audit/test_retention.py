"""The retention job on the embedded (SQLite) index: rows past retention deleted, journalled
first, and verification starting from the oldest checkpoint kept — but only a gap a journalled
retention event explains is accepted."""

from __future__ import annotations

from pathlib import Path

from audit_support import SqliteTamper, sqlite_index, verifier_for
from guardian.audit.events import AuditAction
from guardian.audit.records import is_checkpoint
from guardian.audit.retention import RetentionJob, RetentionPolicy
from guardian.audit.verdict import Break
from guardian.audit.verifier import RETENTION_ACTION
from guardian.journal.verification import verify_index
from retention_support import DAY_S, T0, aged_trail


def _seqs(index: object) -> list[int]:
    return [int(e.doc_id) for e in index.events_in_order()]  # type: ignore[attr-defined]


def test_the_retention_action_is_the_one_the_verifier_looks_for() -> None:
    assert AuditAction.RETENTION_APPLIED.value == RETENTION_ACTION


def test_nothing_is_deleted_before_retention_and_a_dry_run_changes_nothing(
        tmp_path: Path) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = aged_trail(tmp_path, index)
    before = _seqs(index)
    assert trail.rolled_at_40_days is None  # nothing to roll over in one table

    trail.clock.t = T0 + 380 * DAY_S
    plan = trail.job.apply(dry_run=True)

    assert [r.kind for r in plan.removals] == ["rows"]
    assert _seqs(index) == before
    assert trail.journal.last_seq == before[-1]  # a dry run journals nothing
    trail.close()


def test_rows_past_retention_are_deleted_after_being_journalled(tmp_path: Path) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = aged_trail(tmp_path, index)
    trail.clock.t = T0 + 380 * DAY_S  # block A (T0) is past 365 days, block B (T0+40) is not

    result = trail.job.apply()
    trail.ship()

    (removal,) = result.removals
    kept = _seqs(index)
    assert (removal.first_seq, removal.last_seq) == (1, trail.young_seqs[0] - 1)
    assert removal.events == trail.young_seqs[0] - 1
    assert removal.target == "events 2025-01-01..2025-01-01"
    assert kept[0] == trail.young_seqs[0]
    assert set(trail.young_seqs) <= set(kept)
    journalled = [r.event for r in trail.journal.read_records(0, 10_000)
                  if r.event["event"]["action"] == RETENTION_ACTION]
    assert journalled[-1]["guardian"]["retention"] == {
        "kind": "rows", "target": removal.target, "events": removal.events, "first_seq": 1,
        "last_seq": removal.last_seq, "oldest": "2025-01-01T00:00:00.000Z",
        "newest": "2025-01-01T00:00:00.000Z", "cutoff": "2025-01-16T00:00:00.000Z",
        "retention_days": 365}
    assert journalled[-1]["guardian"]["seq"] > kept[-2]  # journalled after what it removes
    assert trail.job.apply().removals == ()  # a second run deletes nothing more
    trail.close()


def test_verification_starts_from_the_oldest_checkpoint_kept(tmp_path: Path) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = aged_trail(tmp_path, index)
    trail.clock.t = T0 + 380 * DAY_S
    trail.job.apply()
    trail.ship()
    first_checkpoint = next(int(e.doc_id) for e in index.events_in_order()
                            if is_checkpoint(e.event))

    report = verify_index(index, verifier_for(trail.key), shipped=trail.shipper.state,
                          settle_s=0)

    assert report.ok, report.detail
    assert report.first_seq == trail.young_seqs[0]
    assert report.notes[0] == (f"verified from checkpoint seq {first_checkpoint} (earlier "
                               "events removed by retention on 2026-01-16)")
    trail.close()


def test_a_gap_no_retention_event_explains_is_still_a_break(tmp_path: Path) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = aged_trail(tmp_path, index)
    tamper = SqliteTamper(index.path)
    for seq in range(1, 4):
        tamper.delete(str(seq))  # the head cut by hand, with no retention event

    report = verify_index(index, verifier_for(trail.key), settle_s=0)

    assert report.problem is Break.REMOVED
    assert "no journalled retention event explains the gap" in report.detail
    trail.close()


def test_events_removed_beyond_what_retention_journalled_are_a_break(tmp_path: Path) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = aged_trail(tmp_path, index)
    trail.clock.t = T0 + 380 * DAY_S
    trail.job.apply()
    trail.ship()
    tamper = SqliteTamper(index.path)
    tamper.delete(str(trail.young_seqs[0]))  # one more, past the journalled range

    report = verify_index(index, verifier_for(trail.key), settle_s=0)

    assert report.problem is Break.REMOVED
    trail.close()


def test_the_job_does_nothing_where_the_index_enforces_retention(tmp_path: Path) -> None:
    class Managed:
        def retention_managed(self) -> bool:
            return True

        def prepare(self) -> None:
            raise AssertionError("ISM needs nothing")

        def roll_over(self, *args: object, **kwargs: object) -> str | None:
            raise AssertionError("ISM rolls over")

        def expired(self, cutoff_ms: int) -> list[object]:
            raise AssertionError("ISM deletes")

        def remove(self, removal: object) -> int:
            raise AssertionError("ISM deletes")

    index = sqlite_index(tmp_path / "index.db")
    trail = aged_trail(tmp_path, index)
    job = RetentionJob(Managed(), trail.journal, trail.clock,  # type: ignore[arg-type]
                       RetentionPolicy(365, 30, 1 << 40))

    result = job.apply()

    assert result.managed_by == "ism" and result.removals == ()
    trail.close()


def test_one_writer_journals_the_removal_of_anothers_oldest_events(tmp_path: Path) -> None:
    index = sqlite_index(tmp_path / "index.db")
    leader = aged_trail(tmp_path, index, writer="srv-w1")
    other = aged_trail(tmp_path, index, writer="srv-w2")
    leader.clock.t = T0 + 380 * DAY_S
    result = leader.job.apply()  # the leader (w1) removes both writers' oldest rows
    leader.ship()

    assert sorted(r.writer for r in result.removals) == ["srv-w1", "srv-w2"]
    report = verify_index(index, verifier_for(leader.key, other.key),
                          shipped=[leader.shipper.state, other.shipper.state], settle_s=0)
    assert report.ok, report.chains
    assert [c.first_seq for c in report.chains] == [leader.young_seqs[0], other.young_seqs[0]]
    leader.close()
    other.close()

"""Every way of tampering with the (SQLite) audit index is named by verification, precisely."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from audit_support import SqliteTamper, sqlite_index, verifier_for
from guardian.audit.queries import AuditQuery
from guardian.audit.verdict import Break
from guardian.journal.verification import index_witness, verify_index, verify_journal
from guardian.journal.witness import WitnessCopy, witness_points
from tamper_cases import (
    CASES,
    FORGED_CUSTOMER,
    JOURNAL_CASES,
    WRITERS,
    Case,
    JournalCase,
    cut_back_index,
    cut_back_journal,
    move_to_other_writer,
    remove_from_second_writer,
    resign_index,
    resign_journal,
    secret_derived_key,
    ship_trail,
    ship_two_writers,
    witnessed,
)


def test_an_untouched_index_verifies_with_every_checkpoint(tmp_path: Path) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = ship_trail(tmp_path, index)

    report = verify_index(index, verifier_for(trail.key), shipped=trail.shipped)

    assert report.ok, report.detail
    assert (report.first_seq, report.last_seq) == (1, trail.last_seq)
    assert report.checkpoints == len(trail.checkpoints) == 6
    assert report.last_checkpoint_seq == trail.last_seq


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_tampering_is_named(tmp_path: Path, case: Case) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = ship_trail(tmp_path, index)
    case.apply(SqliteTamper(index.path), trail)

    report = verify_index(index, verifier_for(trail.key))

    assert (report.problem, report.broken_at) == (case.problem, case.at(trail)), report.detail
    if case.doc_id(trail) is not None:
        assert report.doc_id == case.doc_id(trail)


def test_a_cut_tail_after_the_last_checkpoint_is_caught_by_what_was_acknowledged(
    tmp_path: Path,
) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = ship_trail(tmp_path, index)
    tamper = SqliteTamper(index.path)
    tamper.delete(str(trail.last_seq))           # the final checkpoint, in the chain
    tamper.delete(str(trail.last_seq), "checkpoints")  # and its copy

    without = verify_index(index, verifier_for(trail.key))
    with_state = verify_index(index, verifier_for(trail.key), shipped=trail.shipped)

    assert without.ok  # nothing left in the index itself shows it
    assert (with_state.problem, with_state.broken_at) == (Break.TRUNCATED, trail.last_seq)


def test_a_key_the_auditor_does_not_trust_fails_every_checkpoint(tmp_path: Path) -> None:
    from audit_support import signer

    index = sqlite_index(tmp_path / "index.db")
    trail = ship_trail(tmp_path, index)

    report = verify_index(index, verifier_for(signer()))

    assert report.problem is Break.CHECKPOINT_INVALID
    assert report.broken_at == trail.checkpoints[0]
    assert "not a trusted key" in report.detail


# -- an insider on the host: cut back with the state file gone, re-signed with another key --


def _witness(trail_dir: Path) -> WitnessCopy:
    return witness_points(witnessed(trail_dir / "journal.jsonl"), None, "the witness")


def test_a_journal_cut_back_with_its_state_file_deleted_is_caught_by_a_witness(
    tmp_path: Path,
) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = ship_trail(tmp_path, index)
    copy = _witness(tmp_path)
    path = tmp_path / "journal.jsonl"
    kept = cut_back_journal(path, trail)

    alone = verify_journal(path, verifier_for(trail.key))
    with_file = verify_journal(path, verifier_for(trail.key), witness=copy)
    with_index = verify_journal(path, verifier_for(trail.key),
                                witness=index_witness(index, verifier_for(trail.key)))

    # The index's checkpoint stream holds every checkpoint the journal signed (a witness).
    assert [int(c.doc_id) for c in index.checkpoints()] == trail.checkpoints
    assert alone.ok and alone.last_seq == kept  # nothing on the host shows it
    for report in (with_file, with_index):
        assert (report.problem, report.broken_at) == (Break.TRUNCATED, kept + 1), report.detail
    assert "witness" in with_file.detail


def test_an_index_cut_back_with_the_state_file_deleted_is_caught_by_a_witness(
    tmp_path: Path,
) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = ship_trail(tmp_path, index)
    copy = _witness(tmp_path)
    kept = cut_back_index(SqliteTamper(index.path), trail)

    alone = verify_index(index, verifier_for(trail.key))
    with_witness = verify_index(index, verifier_for(trail.key), witness=copy)

    assert alone.ok and alone.last_seq == kept
    assert (with_witness.problem, with_witness.broken_at) == (Break.TRUNCATED, kept + 1)


def test_a_journal_re_signed_with_the_secret_derived_key_is_caught_by_the_trust_file(
    tmp_path: Path,
) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = ship_trail(tmp_path, index)
    copy = _witness(tmp_path)
    path = tmp_path / "journal.jsonl"
    insider = secret_derived_key()
    resign_journal(path, insider)

    host_key = verify_journal(path, verifier_for(insider))
    pinned = verify_journal(path, verifier_for(trail.key))
    witness_only = verify_journal(path, None, witness=copy)

    assert host_key.ok  # consistent in itself: only the pinned key tells
    assert (pinned.problem, pinned.broken_at) == (Break.CHECKPOINT_INVALID, trail.checkpoints[0])
    assert insider.key_id in pinned.detail and "not a trusted key" in pinned.detail
    assert [(u.key_id, u.first_seq) for u in pinned.keys] == [(insider.key_id,
                                                               trail.checkpoints[0])]
    assert (witness_only.problem, witness_only.broken_at) == (Break.MODIFIED,
                                                              trail.checkpoints[0] - 1)


def test_an_index_re_signed_with_the_secret_derived_key_is_caught_by_the_trust_file(
    tmp_path: Path,
) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = ship_trail(tmp_path, index)
    insider = secret_derived_key()
    resign_index(SqliteTamper(index.path), trail, insider)

    host_key = verify_index(index, verifier_for(insider))
    pinned = verify_index(index, verifier_for(trail.key))

    assert host_key.ok, host_key.detail
    assert (pinned.problem, pinned.broken_at) == (Break.CHECKPOINT_INVALID, trail.checkpoints[0])
    assert pinned.doc_id == str(trail.checkpoints[0]) and insider.key_id in pinned.detail


@pytest.mark.parametrize("case", JOURNAL_CASES, ids=[c.name for c in JOURNAL_CASES])
def test_tampering_with_the_journal_never_reaches_the_index(
    tmp_path: Path, case: JournalCase
) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = case.attack(tmp_path, index)

    report = verify_index(index, verifier_for(trail.key), shipped=trail.shipped)
    on_journal = verify_journal(trail.journal, verifier_for(trail.key), shipped=trail.shipped)
    forged = index.search(AuditQuery(customer_id=FORGED_CUSTOMER)).events
    users = {e["user"]["id"] for e in index.search(AuditQuery(size=500)).events if "user" in e}

    assert report.ok, report.detail
    assert on_journal.ok, on_journal.detail
    assert report.last_seq is not None and report.last_seq >= max(trail.acknowledged)
    assert trail.shipped.seq == report.last_seq
    assert forged == [] and "mallory" not in users
    assert set(case.alarms) <= set(trail.alarms)


def test_two_writers_chains_verify_side_by_side_in_one_index(tmp_path: Path) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = ship_two_writers(tmp_path, index)

    report = verify_index(index, verifier_for(trail.key), shipped=trail.shipped)

    assert report.ok, report.detail
    assert [c.writer for c in report.chains] == list(WRITERS)
    assert all(c.first_seq == 1 and c.checkpoints >= 3 for c in report.chains)
    assert {d.doc_id for d in index.events_in_order()} >= {f"{WRITERS[0]}:1", f"{WRITERS[1]}:1"}


@pytest.mark.parametrize("tamper", [remove_from_second_writer, move_to_other_writer],
                         ids=["removed", "moved_between_writers"])
def test_a_break_in_one_writers_chain_names_that_writer(
    tmp_path: Path, tamper: Callable[[SqliteTamper], set[str]]
) -> None:
    index = sqlite_index(tmp_path / "index.db")
    trail = ship_two_writers(tmp_path, index)
    broken = tamper(SqliteTamper(tmp_path / "index.db"))

    report = verify_index(index, verifier_for(trail.key), shipped=trail.shipped, settle_s=0)

    assert not report.ok and report.writer in broken, report.chains
    assert {c.writer for c in report.chains if not c.ok} == broken
    assert {c.writer for c in report.chains} == set(WRITERS)

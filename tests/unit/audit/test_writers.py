"""Writer ids: sealed into every event and checkpoint, the index document id, legacy chains."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit_support import decision, journal, signer, sqlite_index, verifier_for
from guardian.adapters.files.writer_id import stable_writer_id
from guardian.audit.records import is_checkpoint
from guardian.audit.writers import checked, doc_id, worker_writer
from guardian.errors import ConfigurationError
from guardian.journal.verification import verify_index, verify_journal


def test_every_event_and_checkpoint_of_a_writer_names_it(tmp_path: Path) -> None:
    key = signer()
    j = journal(tmp_path / "j.jsonl", key, every=3, writer="srv-w1")
    for n in range(5):
        j.append(decision(n))
    records = j.read_records(0, 100)
    j.close()

    assert all(r.event["guardian"]["writer"] == "srv-w1" for r in records)
    checkpoints = [r for r in records if is_checkpoint(r.event)]
    assert checkpoints and checkpoints[0].event["guardian"]["checkpoint"]["writer"] == "srv-w1"
    assert records[0].doc_id == "srv-w1:1"
    assert verify_journal(tmp_path / "j.jsonl", verifier_for(key)).writer == "srv-w1"


def test_a_journal_from_before_writer_ids_keeps_its_chain_without_one(tmp_path: Path) -> None:
    key = signer()
    old = journal(tmp_path / "j.jsonl", key)
    old.append(decision(1))
    old.close()
    reopened = journal(tmp_path / "j.jsonl", key, writer="srv")
    reopened.append(decision(2))
    records = reopened.read_records(0, 100)
    index = sqlite_index(tmp_path / "index.db")
    index.index_events(records)
    index.index_checkpoints([r for r in records if r.is_checkpoint])
    reopened.close()

    assert reopened.writer == "" and all("writer" not in r.event["guardian"] for r in records)
    assert [r.doc_id for r in records][:1] == ["1"]
    report = verify_index(index, verifier_for(key), settle_s=0)
    assert report.ok, report.detail
    assert [c.writer for c in report.chains] == [""]


def test_a_checkpoint_signed_for_one_writer_does_not_verify_as_anothers(tmp_path: Path) -> None:
    key = signer()
    j = journal(tmp_path / "j.jsonl", key, every=2, writer="a")
    j.append_many([decision(1), decision(2)])
    cp = next(r.event for r in j.read_records(0, 10) if r.is_checkpoint)
    j.close()
    moved = {**cp, "guardian": {**cp["guardian"], "checkpoint": {
        **cp["guardian"]["checkpoint"], "writer": "b"}}}

    assert verifier_for(key).check(cp)[0] is not None
    assert verifier_for(key).check(moved)[0] is None


def test_writer_ids_and_document_ids() -> None:
    assert worker_writer("g-1a2b", 2) == "g-1a2b-w2"
    assert doc_id("g-1a2b-w2", 7) == "g-1a2b-w2:7" and doc_id("", 7) == "7"
    for bad in ("", "a:b", "-x", "x" * 65, "é"):
        with pytest.raises(ConfigurationError):
            checked(bad)


def test_the_writer_id_is_made_once_and_kept_in_the_data_folder(tmp_path: Path) -> None:
    first = stable_writer_id(tmp_path)

    assert first == stable_writer_id(tmp_path) and first != stable_writer_id(tmp_path / "other")
    assert (tmp_path / "writer-id").read_text().strip() == first

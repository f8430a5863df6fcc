"""Signed checkpoints: when the journal writes them, what they vouch for, and what breaks them;
verifying a journal (trimmed or not) with them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from audit_support import Ticks, decision, journal, signer, verifier_for
from guardian.audit.checkpoints import CheckpointVerifier, load_public_pem, public_pem
from guardian.audit.records import is_checkpoint, is_seal_line
from guardian.audit.verdict import Break
from guardian.audit.verifier import journal_file_items
from guardian.errors import ConfigurationError
from guardian.journal.verification import verify_journal
from guardian.journal.writer import read_events


def _events(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(raw) for _, raw in read_events(path)]


def test_a_checkpoint_follows_every_n_events_and_signs_the_event_before_it(
    tmp_path: Path,
) -> None:
    key = signer()
    j = journal(tmp_path / "j.jsonl", key, every=5)
    for n in range(12):
        j.append(decision(n))
    j.close()

    events = _events(tmp_path / "j.jsonl")
    checkpoints = [e for e in events if is_checkpoint(e)]
    assert [e["guardian"]["seq"] for e in checkpoints] == [6, 12, 15]  # 15: signed on close
    for cp in checkpoints:
        body = cp["guardian"]["checkpoint"]
        before = events[cp["guardian"]["seq"] - 2]
        assert (body["seq"], body["hash"]) == (before["guardian"]["seq"],
                                                before["guardian"]["hash"])
        assert body["key_id"] == key.key_id
        point, why = verifier_for(key).check(cp)
        assert point is not None and why == ""
    assert verify_journal(tmp_path / "j.jsonl", None).ok  # still one plain chain


def test_a_batch_keeps_consecutive_numbers_and_is_followed_by_its_checkpoint(
    tmp_path: Path,
) -> None:
    j = journal(tmp_path / "j.jsonl", signer(), every=3)
    receipts = j.append_many([decision(n) for n in range(7)])
    assert [r.seq for r in receipts] == list(range(1, 8))
    assert j.last_seq == 8 and is_checkpoint(_events(tmp_path / "j.jsonl")[-1])
    j.close()


def test_a_checkpoint_is_due_by_time_only_when_events_came_since(tmp_path: Path) -> None:
    ticks = Ticks()
    j = journal(tmp_path / "j.jsonl", signer(), every=1000, ticks=ticks)
    ticks.now += 120
    assert not j.checkpoint_if_due()  # nothing to sign
    j.append(decision(1))
    assert j.checkpoint_if_due()  # the period since the last checkpoint is over
    j.append(decision(2))
    assert not j.checkpoint_if_due()  # a new period started with that checkpoint
    ticks.now += 61
    assert j.checkpoint_if_due()
    assert not j.checkpoint_if_due()  # nothing new to sign
    assert j.last_seq == 4
    j.close()


def test_reopening_a_journal_with_an_unsigned_tail_signs_it_at_the_first_occasion(
    tmp_path: Path,
) -> None:
    key = signer()
    plain = journal(tmp_path / "j.jsonl", key, every=1000)
    plain.append(decision(1))
    plain._checkpointer = None  # a crash: no checkpoint on the way out
    plain.close()

    j = journal(tmp_path / "j.jsonl", key, every=1000)
    assert j.checkpoint_if_due()
    j.close()
    assert is_checkpoint(_events(tmp_path / "j.jsonl")[-1])


def test_a_forged_or_foreign_signature_does_not_verify(tmp_path: Path) -> None:
    key, other = signer(), signer()
    j = journal(tmp_path / "j.jsonl", key, every=2)
    j.append_many([decision(1), decision(2)])
    j.close()
    cp = next(e for e in _events(tmp_path / "j.jsonl") if is_checkpoint(e))

    assert verifier_for(other).check(cp)[0] is None
    forged = {**cp, "guardian": {**cp["guardian"], "checkpoint": {
        **cp["guardian"]["checkpoint"], "seq": 1}}}
    assert verifier_for(key).check(forged) == (None, "the checkpoint's signature does not verify")
    assert verifier_for(key).check({"guardian": {}})[1] == "the checkpoint is malformed"


def test_the_public_key_round_trips_as_pem_for_auditors() -> None:
    key = signer()
    loaded = load_public_pem(public_pem(key.public_key).encode())
    assert CheckpointVerifier([loaded]).key_ids == (key.key_id,)
    with pytest.raises(ConfigurationError):
        load_public_pem(b"not a key")


def test_a_trust_file_holds_rotated_keys_with_comments_and_checked_key_ids() -> None:
    from guardian.audit.checkpoints import parse_trust, trust_entry

    old, new = signer(), signer()
    text = ("# keys pinned by the audit team, 2026-12\n" + trust_entry(old.public_key)
            + "\n" + public_pem(new.public_key))  # the second without a key-id line

    keys = parse_trust(text)

    assert CheckpointVerifier(keys).key_ids == (old.key_id, new.key_id)
    wrong = trust_entry(old.public_key).replace(old.key_id, new.key_id)
    with pytest.raises(ConfigurationError, match="does not match"):
        parse_trust(wrong)
    with pytest.raises(ConfigurationError, match="holds no PEM public key"):
        parse_trust("# nothing pinned\n")


def test_the_signer_never_shows_its_private_key() -> None:
    key = signer()
    assert "PRIVATE" not in repr(key) and key.key_id in repr(key)


def test_a_journal_verifies_with_every_signature_and_names_a_rewritten_stretch(
    tmp_path: Path,
) -> None:
    from audit_support import rehash

    key = signer()
    j = journal(tmp_path / "j.jsonl", key, every=5)
    for n in range(10):
        j.append(decision(n))
    j.close()
    path = tmp_path / "j.jsonl"
    report = verify_journal(path, verifier_for(key))
    assert report.ok and report.checkpoints == 2

    # An attacker rewrites event 3 and re-chains everything after it, checkpoints included.
    events = _events(path)
    events[2]["user"]["id"] = "mallory"
    prev = events[1]["guardian"]["hash"]
    for event in events[2:]:
        event["guardian"]["prev_hash"] = prev
        prev = rehash(event)["guardian"]["hash"]
    path.write_bytes(b"".join(orjson.dumps(e, option=orjson.OPT_SORT_KEYS) + b"\n"
                              for e in events))

    assert verify_journal(path, None).ok  # the bare chain is fooled...
    broken = verify_journal(path, verifier_for(key))  # ...the signatures are not
    assert (broken.problem, broken.broken_at) == (Break.CHECKPOINT_INVALID, 6)
    assert "events 1..5 were rewritten" in broken.detail


def test_a_journal_whose_head_was_cut_without_a_checkpoint_is_refused(tmp_path: Path) -> None:
    key = signer()
    j = journal(tmp_path / "j.jsonl", key, every=5)
    for n in range(8):
        j.append(decision(n))
    j.close()
    path = tmp_path / "j.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[2:]))

    report = verify_journal(path, verifier_for(key))

    assert (report.problem, report.broken_at) == (Break.REMOVED, 1)


@pytest.mark.parametrize(("change", "problem", "at"), [
    ("swap", Break.REORDERED, 3),
    ("drop", Break.REMOVED, 3),
    ("duplicate", Break.INSERTED, 3),
])
def test_journal_lines_moved_dropped_or_repeated_are_named(
    tmp_path: Path, change: str, problem: Break, at: int
) -> None:
    key = signer()
    j = journal(tmp_path / "j.jsonl", key, every=100)
    for n in range(6):
        j.append(decision(n))
    j.close()
    lines = [line for line in (tmp_path / "j.jsonl").read_bytes().splitlines(keepends=True)
             if not is_seal_line(line)]
    if change == "swap":
        lines[2], lines[3] = lines[3], lines[2]
    elif change == "drop":
        del lines[2]
    else:
        lines.insert(3, lines[2])
    from guardian.audit.verifier import verify_trail

    (tmp_path / "edited.jsonl").write_bytes(b"".join(lines))
    report = verify_trail(journal_file_items(tmp_path / "edited.jsonl"),
                          verifier=verifier_for(key))

    assert (report.problem, report.broken_at) == (problem, at), report.detail

"""The journal against an insider: every group commit sealed before it is acknowledged, what
follows the last seal quarantined on opening, a journal unlinked or replaced while open refused,
and a chain that never goes backwards."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from audit_support import decision, journal, signer, verifier_for
from guardian.audit.chain import seal
from guardian.audit.checkpoints import CheckpointSigner
from guardian.audit.records import is_checkpoint, is_seal_line
from guardian.audit.verdict import Break
from guardian.errors import AuditUnavailable
from guardian.journal.verification import verify_journal
from guardian.journal.writer import FileJournal


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def _events(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in _lines(path) if not is_seal_line(line)]


def _assert_every_event_sealed(path: Path, key: CheckpointSigner) -> None:
    """Each run of events is followed by a seal over its last event, and the file ends with one."""
    lines = _lines(path)
    assert is_seal_line(lines[-1])
    verifier = verifier_for(key)
    last: dict[str, Any] | None = None
    for line in lines:
        if is_seal_line(line):
            assert last is not None
            point = verifier.check_seal(line)
            assert point is not None
            assert (point.seq, point.hash) == (last["guardian"]["seq"], last["guardian"]["hash"])
            last = None
        else:
            last = orjson.loads(line)
    assert last is None


def append_while_stopped(path: Path, users: list[str], customer: str = "C-1005") -> list[int]:
    """What an insider does with the public hash rule: correctly chained lines at the end."""
    last = _events(path)[-1]["guardian"]
    seq, prev = last["seq"], last["hash"]
    seqs: list[int] = []
    with path.open("ab") as handle:
        for n, user in enumerate(users):
            seq += 1
            sealed, prev = seal(decision(900 + n, user=user, customer=customer), seq, prev)
            handle.write(orjson.dumps(sealed, option=orjson.OPT_SORT_KEYS) + b"\n")
            seqs.append(seq)
    return seqs


def test_each_group_commit_carries_its_seal_in_the_same_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = signer()
    path = tmp_path / "j.jsonl"
    j = journal(path, key, every=100)
    writes: list[bytes] = []
    real_write = os.write

    def spy(fd: int, data: Any) -> int:
        writes.append(bytes(data))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spy)
    receipts = j.append_many([decision(1), decision(2), decision(3)])
    monkeypatch.undo()

    assert len(writes) == 1  # the events and their seal: one write, then one fsync
    lines = writes[0].splitlines()
    assert len(lines) == 4 and is_seal_line(lines[-1])
    point = verifier_for(key).check_seal(lines[-1])
    assert point is not None and (point.seq, point.hash) == (receipts[-1].seq, receipts[-1].hash)
    assert verifier_for(signer()).check_seal(lines[-1]) is None  # another key: not a seal
    j.close()
    _assert_every_event_sealed(path, key)


def test_every_async_group_is_sealed_before_its_appenders_are_answered(tmp_path: Path) -> None:
    key = signer()
    path = tmp_path / "j.jsonl"
    j = journal(path, key, every=7)
    seen_sealed: list[bool] = []

    async def one(n: int) -> None:
        receipt = (await j.append_many_async([decision(n)]))[0]
        lines = _lines(path)  # what is on disk when this appender is answered
        covered = [verifier_for(key).check_seal(x) for x in lines if is_seal_line(x)]
        seen_sealed.append(any(p is not None and p.seq >= receipt.seq for p in covered))

    async def many() -> None:
        await asyncio.gather(*(one(n) for n in range(60)))

    asyncio.run(many())
    j.close()

    assert seen_sealed == [True] * 60
    _assert_every_event_sealed(path, key)
    assert verify_journal(path, verifier_for(key)).ok


def test_lines_appended_while_stopped_are_quarantined_and_never_signed(tmp_path: Path) -> None:
    key = signer()
    path = tmp_path / "j.jsonl"
    j = journal(path, key, every=100)
    for n in range(5):
        j.append(decision(n))
    j.close()  # 5 events and a checkpoint, sealed
    signed_end = path.stat().st_size
    forged = append_while_stopped(path, ["mallory", "mallory"])

    j = journal(path, key, every=100)
    health = j.health()
    after = j.append(decision(9))
    j.close()

    assert j.quarantine is not None
    assert (j.quarantine.lines, j.quarantine.first_seq, j.quarantine.last_seq) == (
        2, forged[0], forged[-1])
    quarantined = Path(j.quarantine.file)
    assert quarantined.parent == tmp_path and quarantined.name.startswith("j.jsonl.quarantine-")
    assert [orjson.loads(x)["guardian"]["seq"] for x in _lines(quarantined)] == forged
    assert path.read_bytes()[:signed_end] == path.read_bytes()[:signed_end]
    assert after.seq == forged[0]  # the chain continues from the last signed event
    assert all(e["user"]["id"] != "mallory" for e in _events(path) if not is_checkpoint(e))
    assert health["status"] == "alarm"
    assert [a["code"] for a in health["alarms"]] == ["tail_quarantined"]
    assert health["quarantine"]["lines"] == 2
    assert verify_journal(path, verifier_for(key)).ok
    _assert_every_event_sealed(path, key)


def test_a_forged_seal_does_not_cover_lines_appended_while_stopped(tmp_path: Path) -> None:
    key = signer()
    path = tmp_path / "j.jsonl"
    j = journal(path, key)
    j.append(decision(1))
    j.close()
    seq = append_while_stopped(path, ["mallory"])[0]
    last = _events(path)[-1]["guardian"]
    with path.open("ab") as handle:  # a seal signed with another key, then a copied real one
        handle.write(signer().seal_line(seq, last["hash"]))
        handle.write(_lines(path)[2] + b"\n")

    j = journal(path, key)
    j.close()

    assert j.quarantine is not None and j.quarantine.lines == 3
    assert j.last_seq == seq - 1  # the chain continues before the forged event
    assert all(e["user"]["id"] != "mallory" for e in _events(path) if "user" in e)


def test_a_torn_group_without_its_seal_is_set_aside(tmp_path: Path) -> None:
    key = signer()
    path = tmp_path / "j.jsonl"
    j = journal(path, key)
    j.append(decision(1))
    j._close_quietly()  # a crash: no clean stop
    with path.open("ab") as handle:
        sealed, _ = seal(decision(2), 2, _events(path)[-1]["guardian"]["hash"])
        handle.write(orjson.dumps(sealed, option=orjson.OPT_SORT_KEYS) + b"\n{\"@times")

    j = journal(path, key)
    receipt = j.append(decision(3))
    j.close()

    assert j.quarantine is not None and j.quarantine.lines == 2
    assert receipt.seq == 2
    assert verify_journal(path, verifier_for(key)).ok


@pytest.mark.parametrize("how", ["unlinked", "replaced"])
def test_a_journal_unlinked_or_replaced_while_open_refuses_every_commit(
    tmp_path: Path, how: str
) -> None:
    key = signer()
    path = tmp_path / "j.jsonl"
    j = journal(path, key)
    first = j.append(decision(1))
    if how == "unlinked":
        path.unlink()
    else:
        (tmp_path / "other").write_bytes(b"")
        os.replace(tmp_path / "other", path)

    with pytest.raises(AuditUnavailable):
        j.append(decision(2))
    with pytest.raises(AuditUnavailable):
        asyncio.run(j.append_many_async([decision(3)]))
    with pytest.raises(AuditUnavailable):
        j.append(decision(4))  # not reopened: a new file would restart the chain

    health = j.health()
    j.close()
    assert health["status"] == "alarm"
    assert [a["code"] for a in health["alarms"]] == ["journal_replaced"]
    assert health["last_seq"] == first.seq
    rescued = list(tmp_path.glob("j.jsonl.unlinked-*"))
    assert len(rescued) == 1 and _events(rescued[0])[-1]["guardian"]["seq"] == first.seq
    if how == "replaced":
        assert path.read_bytes() == b""  # nothing was written into the impostor


def test_a_restart_after_the_journal_was_unlinked_restores_it_never_reusing_a_seq(
    tmp_path: Path,
) -> None:
    key = signer()
    path = tmp_path / "j.jsonl"
    j = journal(path, key)
    receipts = [j.append(decision(n)) for n in range(4)]
    path.unlink()
    with pytest.raises(AuditUnavailable):
        j.append(decision(5))
    j.close()

    j = journal(path, key)
    health = j.health()
    after = j.append(decision(6))
    j.close()

    assert after.seq == receipts[-1].seq + 1
    assert [a["code"] for a in health["alarms"]] == ["chain_regressed"]
    assert [e["guardian"]["decision_id"] for e in _events(path)[:4]] == [
        f"D{n:06d}" for n in range(4)]
    assert verify_journal(path, verifier_for(key)).ok


def test_a_journal_cut_back_while_stopped_continues_from_what_the_index_acknowledged(
    tmp_path: Path,
) -> None:
    key = signer()
    path = tmp_path / "j.jsonl"
    j = journal(path, key)
    receipts = [j.append(decision(n)) for n in range(8)]
    j.close()
    path.write_bytes(b"".join(x + b"\n" for x in _lines(path)[:4]))  # cut back, state kept

    j = FileJournal(path, fsync=False, checkpointer=journal(tmp_path / "x", key).checkpointer,
                    known=(receipts[-1].seq, receipts[-1].hash))
    health = j.health()
    after = j.append(decision(9))
    j.close()

    assert after.seq > receipts[-1].seq  # never seq 1, never a seq already acknowledged
    assert [a["code"] for a in health["alarms"]] == ["chain_regressed"]
    events = _events(path)
    head = events[0]["guardian"]
    assert head["checkpoint"]["seq"] == receipts[-1].seq  # signed, it hangs from seq 8
    assert head["prev_hash"] == receipts[-1].hash
    assert events[1]["event"]["action"] == "audit.chain_regressed"
    assert list(tmp_path.glob("j.jsonl.regressed-*"))
    assert verify_journal(path, verifier_for(key)).ok


def test_verify_names_lines_after_the_last_seal_and_then_the_quarantine(tmp_path: Path) -> None:
    key = signer()
    path = tmp_path / "j.jsonl"
    j = journal(path, key)
    for n in range(3):
        j.append(decision(n))
    j.close()
    forged = append_while_stopped(path, ["mallory", "mallory", "mallory"])

    before = verify_journal(path, verifier_for(key))  # while stopped: not yet set aside
    journal(path, key).close()
    after = verify_journal(path, verifier_for(key))

    assert (before.problem, before.broken_at) == (Break.INSERTED, forged[0]), before.detail
    assert "never acknowledged" in before.detail
    assert after.ok, after.detail
    assert any("3 line(s) set aside" in note and "quarantine-" in note for note in after.notes)


def test_a_rotated_key_keeps_the_journal_signed_when_the_earlier_key_is_trusted(
    tmp_path: Path,
) -> None:
    old, new = signer(), signer()
    path = tmp_path / "j.jsonl"
    j = journal(path, old)
    j.append(decision(1))
    j.close()
    checkpointer = journal(tmp_path / "x", new).checkpointer

    rotated = FileJournal(path, fsync=False, checkpointer=checkpointer,
                          earlier_keys=[old.public_key])
    rotated.close()

    assert rotated.quarantine is None and rotated.last_seq == 2
    stranger = FileJournal(path, fsync=False, checkpointer=checkpointer)  # old key unknown
    stranger.close()
    assert stranger.quarantine is not None  # nothing it can trust: set aside, not signed

"""The ways an attacker with write access to the audit index can tamper with it, and what
verification must say about each; run against the SQLite index (unit) and OpenSearch
(integration). A tamper object offers get/put/delete by document id and refresh."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from audit_support import decision, journal, rehash, signer
from guardian.audit.chain import seal
from guardian.audit.checkpoints import CheckpointSigner, checkpoint_event
from guardian.audit.records import is_checkpoint, is_seal_line
from guardian.audit.verdict import Break
from guardian.errors import AuditUnavailable
from guardian.journal.ship_state import ShipState, load_state
from guardian.journal.shipper import Shipper, ShipperConfig
from guardian.journal.writer import FileJournal

EVENTS = 60
EVERY = 10


class Tamper(Protocol):
    def get(self, doc_id: str, table: str = "events") -> dict[str, Any]: ...

    def put(self, doc_id: str, event: dict[str, Any], table: str = "events") -> None: ...

    def delete(self, doc_id: str, table: str = "events") -> None: ...

    def refresh(self) -> None: ...


@dataclass
class Trail:
    """A shipped trail: 60 decisions with a checkpoint after every 10, and a final one."""

    key: CheckpointSigner
    last_seq: int
    checkpoints: list[int]
    shipped: ShipState


def ship_trail(tmp_path: Path, index: Any) -> Trail:
    key = signer()
    j = journal(tmp_path / "journal.jsonl", key, every=EVERY)
    for n in range(EVENTS):
        j.append(decision(n))
    j.close()  # a clean stop signs the tail
    j = journal(tmp_path / "journal.jsonl", key, every=EVERY)
    shipper = Shipper(j, index, tmp_path / "journal.jsonl.shipped", ShipperConfig(fsync=False),
                      lambda: 1_790_000_000.0)
    result = shipper.drain(max_wait_s=5)
    assert result.caught_up
    checkpoints = [r.seq for r in j.read_records(0, 10_000) if is_checkpoint(r.event)]
    last = j.last_seq
    j.close()
    return Trail(key, last, checkpoints, shipper.state)


def _modify(t: Tamper, trail: Trail) -> None:
    event = t.get("5")
    event["user"]["id"] = "mallory"
    t.put("5", event)


def _modify_and_rehash(t: Tamper, trail: Trail) -> None:
    t.put("5", rehash(_with(t.get("5"), lambda e: e["user"].update(id="mallory"))))


def _remove(t: Tamper, trail: Trail) -> None:
    t.delete("7")


def _insert(t: Tamper, trail: Trail) -> None:
    forged = rehash(_with(t.get("7"), lambda e: e["user"].update(id="mallory")))
    t.put("7-forged", forged)


def _reorder(t: Tamper, trail: Trail) -> None:
    eight, nine = t.get("8"), t.get("9")
    t.put("8", nine)
    t.put("9", eight)


def _truncate(t: Tamper, trail: Trail) -> None:
    for seq in range(trail.last_seq - 4, trail.last_seq + 1):
        t.delete(str(seq))


def _replace_checkpoint_copy(t: Tamper, trail: Trail) -> None:
    cp = trail.checkpoints[1]
    forged = t.get(str(cp), "checkpoints")
    impostor = signer()
    body = checkpoint_event(impostor, cp - 1, forged["guardian"]["checkpoint"]["hash"],
                            1_790_000_000.0)
    forged["guardian"]["checkpoint"] = body["guardian"]["checkpoint"]
    t.put(str(cp), rehash(forged), "checkpoints")


def _replace_checkpoint_in_chain(t: Tamper, trail: Trail) -> None:
    cp = trail.checkpoints[0]
    forged = t.get(str(cp))
    forged["guardian"]["checkpoint"]["signature"] = forged["guardian"]["checkpoint"][
        "signature"][::-1]
    t.put(str(cp), rehash(forged))


def _with(event: dict[str, Any], change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    out = copy.deepcopy(event)
    change(out)
    return out


@dataclass(frozen=True)
class Case:
    name: str
    apply: Callable[[Tamper, Trail], None]
    problem: Break
    at: Callable[[Trail], int]
    doc_id: Callable[[Trail], str | None]


CASES = [
    Case("modified", _modify, Break.MODIFIED, lambda t: 5, lambda t: "5"),
    Case("modified_with_new_hash", _modify_and_rehash, Break.MODIFIED, lambda t: 5,
         lambda t: "5"),
    Case("removed", _remove, Break.REMOVED, lambda t: 7, lambda t: "8"),
    Case("inserted", _insert, Break.INSERTED, lambda t: 7, lambda t: "7-forged"),
    Case("reordered", _reorder, Break.REORDERED, lambda t: 8, lambda t: "9"),
    Case("truncated_tail", _truncate, Break.TRUNCATED, lambda t: t.last_seq - 4,
         lambda t: None),
    Case("replaced_checkpoint_copy", _replace_checkpoint_copy, Break.CHECKPOINT_INVALID,
         lambda t: t.checkpoints[1], lambda t: str(t.checkpoints[1])),
    Case("replaced_checkpoint_in_chain", _replace_checkpoint_in_chain,
         Break.CHECKPOINT_INVALID, lambda t: t.checkpoints[0],
         lambda t: str(t.checkpoints[0])),
]


# -- an insider on the host: caught only by a witness or by pinned keys ----------------------
# (Not in CASES: these change the journal and the shipper's state file too, and are verified
# with what the auditors hold — a witness's copy of the checkpoints, a trust file.)

CUT_AT = 2
"""Cut back to the third checkpoint of the trail."""


def secret_derived_key() -> CheckpointSigner:
    """The key an insider derives from the server's secret key (what the verifier once
    trusted by default)."""
    from guardian.adapters.files.keys import load_signer
    from support import TEST_SECRET_KEY

    return load_signer(None, TEST_SECRET_KEY)


def witnessed(journal_path: Path) -> list[dict[str, Any]]:
    """The checkpoints as a witness received them (read before anything is tampered with)."""
    import orjson

    events = [orjson.loads(line) for line in journal_path.read_bytes().splitlines()
              if not is_seal_line(line)]
    return [e for e in events if is_checkpoint(e)]


def rewritten(events: list[dict[str, Any]], key: CheckpointSigner,
              from_seq: int = 5) -> list[dict[str, Any]]:
    """The chain rewritten from event ``from_seq`` (mallory instead of alice), hashed again and
    every later checkpoint signed again with ``key``: consistent in itself."""
    from guardian.audit.chain import seal

    out: list[dict[str, Any]] = []
    prev = ""
    for event in events:
        e = copy.deepcopy(event)
        seq = int(e["guardian"]["seq"])
        if seq < from_seq:
            out.append(e)
            prev = e["guardian"]["hash"]
            continue
        if seq == from_seq:
            e["user"]["id"] = "mallory"
        if is_checkpoint(e):
            e["guardian"]["checkpoint"] = checkpoint_event(
                key, seq - 1, prev, 1_790_000_000.0)["guardian"]["checkpoint"]
        sealed, prev = seal(e, seq, prev)
        out.append(sealed)
    return out


def cut_back_journal(journal_path: Path, trail: Trail) -> int:
    """Cut the journal back to a checkpoint and delete the shipper's state file; the seq cut
    to."""
    import orjson

    keep = trail.checkpoints[CUT_AT]
    lines = [line for line in journal_path.read_bytes().splitlines(keepends=True)
             if not is_seal_line(line)]  # an insider's cut keeps the seals up to it
    seals = {orjson.loads(line)["seal"]["seq"]: line for line in
             journal_path.read_bytes().splitlines(keepends=True) if is_seal_line(line)}
    journal_path.write_bytes(b"".join(
        line + seals.get(orjson.loads(line)["guardian"]["seq"], b"") for line in lines
        if orjson.loads(line)["guardian"]["seq"] <= keep))
    journal_path.with_name(journal_path.name + ".shipped").unlink()
    return keep


def resign_journal(journal_path: Path, key: CheckpointSigner) -> None:
    import orjson

    from guardian.audit.chain import canonical

    events = [orjson.loads(line) for line in journal_path.read_bytes().splitlines()
              if not is_seal_line(line)]
    journal_path.write_bytes(b"".join(canonical(e) + b"\n" for e in rewritten(events, key)))


def cut_back_index(t: Tamper, trail: Trail) -> int:
    """The same cut in the index: later events and their checkpoint copies deleted."""
    keep = trail.checkpoints[CUT_AT]
    for seq in range(keep + 1, trail.last_seq + 1):
        t.delete(str(seq))
    for seq in trail.checkpoints[CUT_AT + 1:]:
        t.delete(str(seq), "checkpoints")
    return keep


def resign_index(t: Tamper, trail: Trail, key: CheckpointSigner) -> None:
    events = [t.get(str(seq)) for seq in range(1, trail.last_seq + 1)]
    for event in rewritten(events, key):
        seq = str(event["guardian"]["seq"])
        t.put(seq, event)
        if is_checkpoint(event):
            t.put(seq, event, "checkpoints")


# -- tampering with the journal itself (an insider on the server's files) -------------------
# Kept apart from the index cases above: the attack happens before shipping, and what is
# checked is that nothing of it reaches the index and that nothing acknowledged is lost.

FORGED_CUSTOMER = "C-1005"


@dataclass
class JournalTrail:
    """A trail after a journal attack, shipped: what was acknowledged, what was forged."""

    key: CheckpointSigner
    acknowledged: list[int]
    forged: list[int]
    shipped: ShipState
    journal: Path
    alarms: tuple[str, ...]


def _ship(j: FileJournal, index: Any, tmp_path: Path) -> ShipState:
    shipper = Shipper(j, index, tmp_path / "journal.jsonl.shipped", ShipperConfig(fsync=False),
                      lambda: 1_790_000_000.0)
    result = shipper.drain(max_wait_s=5)
    assert result.caught_up and not result.conflicts, result
    return shipper.state


def _shipped_state(tmp_path: Path) -> tuple[int, str] | None:
    state = load_state(tmp_path / "journal.jsonl.shipped")
    return (state.seq, state.hash) if state.seq else None


def appended_while_stopped(tmp_path: Path, index: Any) -> JournalTrail:
    """Correctly chained permits for another customer appended to a stopped journal."""
    key = signer()
    path = tmp_path / "journal.jsonl"
    j = journal(path, key, every=EVERY)
    acknowledged = [j.append(decision(n)).seq for n in range(EVENTS)]
    j.close()
    lines = [x for x in path.read_bytes().splitlines() if not is_seal_line(x)]
    last = orjson.loads(lines[-1])["guardian"]
    seq, prev, forged = last["seq"], last["hash"], []
    with path.open("ab") as handle:
        for n in range(3):
            seq += 1
            sealed, prev = seal(decision(500 + n, user="mallory", customer=FORGED_CUSTOMER),
                                seq, prev)
            handle.write(orjson.dumps(sealed, option=orjson.OPT_SORT_KEYS) + b"\n")
            forged.append(seq)
    j = journal(path, key, every=EVERY)
    alarms = tuple(a.code for a in j.alarms)
    acknowledged.append(j.append(decision(EVENTS)).seq)
    shipped = _ship(j, index, tmp_path)
    j.close()
    return JournalTrail(key, acknowledged, forged, shipped, path, alarms)


def deleted_while_serving(tmp_path: Path, index: Any) -> JournalTrail:
    """The journal file deleted while Guardian runs, after part of it was shipped."""
    key = signer()
    path = tmp_path / "journal.jsonl"
    j = journal(path, key, every=EVERY)
    acknowledged = [j.append(decision(n)).seq for n in range(EVENTS // 2)]
    _ship(j, index, tmp_path)
    acknowledged += [j.append(decision(n)).seq for n in range(EVENTS // 2, EVENTS)]
    path.unlink()
    refused = 0
    for n in range(3):
        try:
            j.append(decision(700 + n, user="mallory", customer=FORGED_CUSTOMER))
        except AuditUnavailable:
            refused += 1
    assert refused == 3  # every commit after the deletion is refused
    alarms = tuple(a.code for a in j.alarms)
    j.close()
    j = FileJournal(path, fsync=False, checkpointer=journal(tmp_path / "x", key).checkpointer,
                    known=_shipped_state(tmp_path))
    alarms += tuple(a.code for a in j.alarms)
    acknowledged.append(j.append(decision(EVENTS)).seq)
    shipped = _ship(j, index, tmp_path)
    j.close()
    return JournalTrail(key, acknowledged, [], shipped, path, alarms)


@dataclass(frozen=True)
class JournalCase:
    name: str
    attack: Callable[[Path, Any], JournalTrail]
    alarms: tuple[str, ...]


JOURNAL_CASES = [
    JournalCase("appended_while_stopped", appended_while_stopped, ("tail_quarantined",)),
    JournalCase("journal_deleted_while_serving", deleted_while_serving,
                ("journal_replaced", "chain_regressed")),
]


WRITERS = ("srv-w1", "srv-w2")


@dataclass
class TwoWriters:
    """Two workers' chains shipped into one index: 30 decisions each, checkpoints every 10."""

    key: CheckpointSigner
    shipped: list[ShipState]


def ship_two_writers(tmp_path: Path, index: Any) -> TwoWriters:
    key = signer()
    states = []
    for writer in WRITERS:
        path = tmp_path / f"journal-{writer}.jsonl"
        j = journal(path, key, every=EVERY, writer=writer)
        for n in range(EVENTS // 2):
            j.append(decision(n))
        shipper = Shipper(j, index, path.with_name(path.name + ".shipped"),
                          ShipperConfig(fsync=False), lambda: 1_790_000_000.0)
        assert shipper.drain(max_wait_s=5).caught_up
        j.close()
        assert shipper.drain(max_wait_s=5).caught_up  # the closing checkpoint
        states.append(shipper.state)
    return TwoWriters(key, states)


def remove_from_second_writer(t: Tamper) -> set[str]:
    """Delete event 7 of the second writer; the break is in that writer's chain only."""
    t.delete(f"{WRITERS[1]}:7")
    t.refresh()
    return {WRITERS[1]}


def move_to_other_writer(t: Tamper) -> set[str]:
    """Copy event 5 of the first writer over event 5 of the second (same seq, other chain):
    the second writer's chain lost its event 5, the first one holds an intruder."""
    t.put(f"{WRITERS[1]}:5", t.get(f"{WRITERS[0]}:5"))
    t.refresh()
    return set(WRITERS)

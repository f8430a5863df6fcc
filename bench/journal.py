"""Audit journal throughput: events/s appended with fsync group commit, and µs added per decision.

    python bench/journal.py [--events 100000] [--json]

Three ways of appending the same decision-shaped event to a FileJournal in a temporary folder
on the work tree's disk (fsync on): batches of 100 (the batch endpoint), 16 threads appending one
event each (synchronous callers), and 500 concurrent asyncio appends (the HTTP endpoints). Then
the cost a journal adds to a decision: DecisionPipeline.decide_many over batches of 100 with a
journal that records nothing, and again with the file journal. Ends by verifying the written chains.

The journals sign as the server's do (an Ed25519 key; a checkpoint every 1 000 events, and, where
the journal seals its group commits, a seal per group); ``--unsigned`` measures a journal
without a key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from guardian.adapters.files.policy import load_policy
from guardian.adapters.memory.ports import MemoryConsents, MemoryDirectory, MemoryGrants
from guardian.audit.checkpoints import Checkpointer, CheckpointSigner
from guardian.audit.records import AuditReceipt
from guardian.clock import SystemClock
from guardian.identity.principal import Principal
from guardian.identity.tokens import TokenSigner
from guardian.identity.vocabulary import AuthMethod
from guardian.journal.verification import verify_journal
from guardian.journal.writer import FileJournal
from guardian.policy.model import DecisionRequest
from guardian.policy.pipeline import CompiledPolicy, DecisionPipeline
from guardian.policy.vocabulary import Action
from guardian.ports import AuditJournal

ROOT = Path(__file__).resolve().parent.parent
EVENT: dict[str, Any] = {
    "@timestamp": "2026-11-23T03:40:38.072Z",
    "event": {"action": "access.decision", "category": ["iam"], "kind": "event",
              "outcome": "success"},
    "guardian": {"action": "read", "category": "contact", "customer_ids": ["C-1001"],
                 "database": "crm", "decision": "permit",
                 "decision_id": "01M837VKSRNDKM08YVRH8CA4D3",
                 "policy_version": "sha256:" + "3" * 64,
                 "purpose": "customer-care", "reasons": ["permitted"]},
    "user": {"id": "alice", "roles": ["customer-care"]},
}


SIGNED = True


def open_journal(path: Path) -> FileJournal:
    """A journal as the server opens it: signing with a key of its own (unless --unsigned)."""
    if not SIGNED:
        return FileJournal(path)
    signer = CheckpointSigner(Ed25519PrivateKey.generate(), "bench")
    return FileJournal(path, checkpointer=Checkpointer(signer, time.time, every_events=1000,
                                                       every_s=60.0))


class NullJournal:
    """Acknowledges without recording: the baseline a real journal's cost is measured against."""

    def append(self, event: Mapping[str, Any]) -> AuditReceipt:
        return AuditReceipt(0, "")

    def append_many(self, events: Sequence[Mapping[str, Any]]) -> list[AuditReceipt]:
        return [AuditReceipt(0, "")] * len(events)

    async def append_many_async(
        self, events: Sequence[Mapping[str, Any]]
    ) -> list[AuditReceipt]:
        return self.append_many(events)

    def close(self) -> None:
        return None


def batches(path: Path, events: int) -> float:
    journal = open_journal(path)
    start = time.perf_counter()
    for _ in range(events // 100):
        journal.append_many([EVENT] * 100)
    elapsed = time.perf_counter() - start
    journal.close()
    return events / elapsed


def threads(path: Path, events: int, count: int = 16) -> float:
    journal = open_journal(path)
    each = events // count

    def run() -> None:
        for _ in range(each):
            journal.append(EVENT)

    workers = [threading.Thread(target=run) for _ in range(count)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    journal.close()
    return each * count / elapsed


def concurrent_async(path: Path, events: int, width: int = 500) -> float:
    journal = open_journal(path)

    async def run() -> float:
        start = time.perf_counter()
        for _ in range(events // width):
            await asyncio.gather(*(journal.append_many_async([EVENT]) for _ in range(width)))
        return time.perf_counter() - start

    elapsed = asyncio.run(run())
    journal.close()
    return events / elapsed


def per_decision_us(journal: AuditJournal, rounds: int) -> float:
    clock = SystemClock()
    signer = TokenSigner(b"k" * 32)
    now = clock.now()
    token, _ = signer.issue("alice", (AuthMethod.PASSWORD, AuthMethod.OTP), now, now, 3600)
    pipeline = DecisionPipeline(
        CompiledPolicy.of(load_policy(ROOT / "policies")),
        MemoryDirectory([Principal("alice", "Alice", frozenset({"customer-care"}))]),
        MemoryGrants(), MemoryConsents(), signer, journal, clock)
    request = DecisionRequest("alice", Action.READ, "crm", "contact", "customer-care",
                              ("C-1001",), token)
    batch = [request] * 100
    start = time.perf_counter()
    for _ in range(rounds):
        pipeline.decide_many(batch)
    return (time.perf_counter() - start) / (rounds * 100) * 1e6


def seal_cost_us(path: Path, rounds: int = 2000) -> float | None:
    """CPU a group commit spends on its seal: the signature line and the two file identity
    checks (``None`` where the journal does not seal its commits)."""
    signer = CheckpointSigner(Ed25519PrivateKey.generate(), "bench")
    try:
        from guardian.journal.files import identity_problem
        seal_line = signer.seal_line
    except (ImportError, AttributeError):
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        start = time.perf_counter()
        for n in range(rounds):
            seal_line(n, "0" * 64)
            identity_problem(fd, path)
            identity_problem(fd, path)
        return round((time.perf_counter() - start) / rounds * 1e6, 1)
    finally:
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--unsigned", action="store_true", help="journals without a key")
    args = parser.parse_args()
    global SIGNED
    SIGNED = not args.unsigned
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:
        folder = Path(tmp)
        result: dict[str, Any] = {
            "events": args.events,
            "signed": SIGNED,
            "batch100_events_per_s": round(batches(folder / "b.jsonl", args.events)),
            "threads16_events_per_s": round(threads(folder / "t.jsonl", args.events // 4)),
            "async500_events_per_s": round(concurrent_async(folder / "a.jsonl", args.events)),
        }
        rounds = max(1, args.events // 500)
        memory_us = per_decision_us(NullJournal(), rounds)
        file_journal = open_journal(folder / "p.jsonl")
        file_us = per_decision_us(file_journal, rounds)
        file_journal.close()
        result.update({
            "decision_no_journal_us": round(memory_us, 2),
            "decision_file_journal_us": round(file_us, 2),
            "journal_added_us_per_decision": round(file_us - memory_us, 2),
        })
        result["seal_us_per_group_commit"] = seal_cost_us(folder / "b.jsonl")
        start = time.perf_counter()
        report = verify_journal(folder / "b.jsonl", None, workers=1)
        result["verify_events_per_s"] = round(report.events / (time.perf_counter() - start))
        result["chains_ok"] = all(
            verify_journal(folder / name, None, workers=1).ok
            for name in ("b.jsonl", "t.jsonl", "a.jsonl", "p.jsonl"))
    for key, value in result.items():
        print(f"{key:34} {value:>12,}" if isinstance(value, int) and not isinstance(value, bool)
              else f"{key:34} {value!s:>12}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

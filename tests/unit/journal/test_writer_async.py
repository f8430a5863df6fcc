"""Asynchronous appends: the event loop never blocks, groups are fsynced together, failures refuse."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from guardian.errors import AuditUnavailable
from guardian.journal.verification import verify_journal
from guardian.journal.writer import FileJournal


def test_concurrent_async_appends_form_one_verifiable_chain_with_grouped_fsyncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = FileJournal(tmp_path / "j.jsonl")
    real_fsync = os.fsync
    calls: list[int] = []

    def counting_fsync(fd: int) -> None:
        calls.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)

    async def run() -> list[int]:
        results = await asyncio.gather(*(
            journal.append_many_async([{"n": i}]) for i in range(500)))
        return [r[0].seq for r in results]

    seqs = asyncio.run(run())
    journal.close()
    assert sorted(seqs) == list(range(1, 501))
    report = verify_journal(tmp_path / "j.jsonl", None)
    assert report.ok and report.events == 500
    assert len(calls) < 500


def test_an_async_append_on_an_unwritable_journal_raises_audit_unavailable() -> None:
    journal = FileJournal(Path("/dev/full"))

    async def run() -> None:
        await journal.append_many_async([{"n": 1}])

    with pytest.raises(AuditUnavailable):
        asyncio.run(run())
    journal.close()


def test_close_writes_what_was_queued_before_acknowledging(tmp_path: Path) -> None:
    journal = FileJournal(tmp_path / "j.jsonl")

    async def run() -> None:
        task = asyncio.ensure_future(journal.append_many_async([{"n": 1}, {"n": 2}]))
        await asyncio.sleep(0)
        await task

    asyncio.run(run())
    journal.close()
    assert verify_journal(tmp_path / "j.jsonl", None).events == 2

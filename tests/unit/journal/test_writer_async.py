"""Asynchronous appends: the loop writes each iteration's appends in one group and the syncer
fsyncs it while the loop goes on; blocking callers never wait on the loop; failures refuse."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest

from guardian.errors import AuditUnavailable
from guardian.journal.syncer import ThreadSyncer
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


def _recording_fsync(monkeypatch: pytest.MonkeyPatch, delay_s: float = 0.0) -> list[str]:
    """Patch ``os.fsync`` to note the thread of every call (and to take ``delay_s``); the
    Python syncer is used, whose fsync the patch sees."""
    monkeypatch.setattr("guardian.journal.writer.new_syncer", ThreadSyncer)
    real_fsync = os.fsync
    threads: list[str] = []

    def fsync(fd: int) -> None:
        threads.append(threading.current_thread().name)
        if delay_s:
            time.sleep(delay_s)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return threads


def test_the_loop_writes_each_iterations_appends_in_one_group_synced_off_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = FileJournal(tmp_path / "j.jsonl")
    threads = _recording_fsync(monkeypatch)

    async def run() -> list[int]:
        results = await asyncio.gather(*(
            journal.append_many_async([{"n": i}]) for i in range(200)))
        return [r[0].seq for r in results]

    seqs = asyncio.run(run())
    journal.close()
    assert sorted(seqs) == list(range(1, 201))
    assert threads and set(threads) == {"journal-sync"}
    assert len(threads) < 10  # 200 appends of one iteration: one group, not 200 syncs
    assert verify_journal(tmp_path / "j.jsonl", None).events == 200


def test_the_loop_keeps_running_while_a_slow_disk_syncs_and_groups_grow_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = FileJournal(tmp_path / "j.jsonl")
    threads = _recording_fsync(monkeypatch, delay_s=0.02)

    async def run() -> tuple[int, list[int]]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        async def appender(n: int) -> list[int]:
            seqs = []
            for i in range(5):
                seqs.append((await journal.append_many_async([{"n": n, "i": i}]))[0].seq)
            return seqs

        ticking = asyncio.ensure_future(ticker())
        results = await asyncio.gather(*(appender(n) for n in range(10)))
        ticking.cancel()
        return ticks, [s for r in results for s in r]

    ticks, seqs = asyncio.run(run())
    journal.close()
    assert sorted(seqs) == list(range(1, 51))
    assert ticks >= 20  # five or more 20 ms syncs on the syncer: the loop ticked meanwhile
    assert len(threads) <= 7  # ten appenders at a time: each sync covered all of them
    assert verify_journal(tmp_path / "j.jsonl", None).events == 50


def test_a_blocking_append_on_the_loop_thread_ends_the_loops_own_sync_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = FileJournal(tmp_path / "j.jsonl")
    _recording_fsync(monkeypatch, delay_s=0.05)

    async def run() -> tuple[int, int]:
        pending = asyncio.ensure_future(journal.append_many_async([{"n": "async"}]))
        await asyncio.sleep(0.01)  # its group is written and syncing on the syncer
        assert journal._flight is not None
        receipt = journal.append({"n": "blocking"})  # must not wait for the loop it blocks
        return receipt.seq, (await pending)[0].seq

    blocking, async_seq = asyncio.run(asyncio.wait_for(run(), timeout=10))
    journal.close()
    assert (async_seq, blocking) == (1, 2)
    assert verify_journal(tmp_path / "j.jsonl", None).events == 2


def test_a_failed_sync_refuses_the_group_and_the_chain_continues_from_the_last_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = FileJournal(tmp_path / "j.jsonl")
    monkeypatch.setattr("guardian.journal.writer.new_syncer", ThreadSyncer)
    real_fsync = os.fsync
    failing = threading.Event()

    def fsync(fd: int) -> None:
        if failing.is_set():
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)

    async def run() -> tuple[int, BaseException | None, int]:
        first = (await journal.append_many_async([{"n": 1}]))[0].seq
        failing.set()
        refused: BaseException | None = None
        try:
            await journal.append_many_async([{"n": 2}])
        except AuditUnavailable as exc:
            refused = exc
        failing.clear()
        journal._open_error = None  # the operator fixed the disk; the next append reopens
        third = (await journal.append_many_async([{"n": 3}]))[0].seq
        return first, refused, third

    first, refused, third = asyncio.run(run())
    journal.close()
    assert first == 1 and isinstance(refused, AuditUnavailable) and third == 2
    report = verify_journal(tmp_path / "j.jsonl", None)
    assert report.ok and report.events == 2


def test_appends_sealed_while_another_thread_commits_are_not_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = FileJournal(tmp_path / "j.jsonl")
    _recording_fsync(monkeypatch, delay_s=0.0)
    started = threading.Event()
    real_fsync = os.fsync

    def slow_once(fd: int) -> None:  # the other thread's commit takes 100 ms
        if threading.current_thread().name == "sync-appender" and not started.is_set():
            started.set()
            time.sleep(0.1)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_once)
    other = threading.Thread(target=lambda: journal.append_many([{"n": "sync"}]),
                             name="sync-appender")
    other.start()
    assert started.wait(5)

    async def run() -> list[int]:  # sealed while the other commit is in progress
        results = await asyncio.wait_for(asyncio.gather(*(
            journal.append_many_async([{"n": i}]) for i in range(20))), timeout=10)
        return [r[0].seq for r in results]

    seqs = asyncio.run(run())
    other.join(5)
    journal.close()
    assert sorted(seqs) == list(range(2, 22))
    assert verify_journal(tmp_path / "j.jsonl", None).events == 21

"""Asynchronous appends: groups are fsynced together (by the loop itself on a fast disk, by the
flusher thread on a slow one, never waiting for another thread's commit), failures refuse."""

from __future__ import annotations

import asyncio
import os
import threading
import time
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


def _recording_fsync(monkeypatch: pytest.MonkeyPatch, delay_s: float = 0.0) -> list[int]:
    """Patch ``os.fsync`` to note the thread of every call (and to take ``delay_s``)."""
    real_fsync = os.fsync
    threads: list[int] = []

    def fsync(fd: int) -> None:
        threads.append(threading.get_ident())
        if delay_s:
            time.sleep(delay_s)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return threads


def test_on_a_fast_disk_the_loop_commits_each_iterations_appends_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = FileJournal(tmp_path / "j.jsonl")
    threads = _recording_fsync(monkeypatch)

    async def run() -> tuple[int, list[int]]:
        results = await asyncio.gather(*(
            journal.append_many_async([{"n": i}]) for i in range(200)))
        return threading.get_ident(), [r[0].seq for r in results]

    loop_thread, seqs = asyncio.run(run())
    journal.close()
    assert sorted(seqs) == list(range(1, 201))
    assert journal._flusher is None  # no thread was needed
    assert threads and set(threads) == {loop_thread}
    assert len(threads) < 10  # 200 appends of one iteration: one group, not 200 syncs
    assert verify_journal(tmp_path / "j.jsonl", None).events == 200


def test_on_a_slow_disk_the_flusher_thread_commits_and_the_loop_keeps_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = FileJournal(tmp_path / "j.jsonl")
    threads = _recording_fsync(monkeypatch, delay_s=0.02)

    async def run() -> tuple[int, int]:
        await journal.append_many_async([{"n": 0}])  # measured slow: later groups go to the thread
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        ticking = asyncio.ensure_future(ticker())
        for n in range(1, 6):
            await journal.append_many_async([{"n": n}])
        ticking.cancel()
        return threading.get_ident(), ticks

    loop_thread, ticks = asyncio.run(run())
    journal.close()
    assert threads[0] == loop_thread
    assert journal._flusher is None or all(t != loop_thread for t in threads[1:6])
    assert any(t != loop_thread for t in threads[1:6])
    assert ticks >= 20  # five 20 ms syncs elsewhere: the loop ticked meanwhile
    assert verify_journal(tmp_path / "j.jsonl", None).events == 6


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

"""The syncers: one fsync at a time in the background, its end readable on a descriptor, its
errno reported once; the native one (when built) and the Python one behave the same."""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from guardian.journal.syncer import Syncer, ThreadSyncer, new_syncer


@pytest.fixture(params=["python", "default"])
def syncer(request: pytest.FixtureRequest) -> Iterator[Syncer]:
    made: Syncer = ThreadSyncer() if request.param == "python" else new_syncer()
    yield made
    made.close()


def _readable(fd: int, timeout_s: float) -> bool:
    return bool(select.select([fd], [], [], timeout_s)[0])


def test_a_sync_ends_readable_and_reports_success_once(syncer: Syncer, tmp_path: Path) -> None:
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.write(fd, b"x" * 100)
        assert syncer.result() is None  # nothing asked yet
        syncer.request(fd)
        assert _readable(syncer.fileno(), 5)
        assert syncer.result() == 0
        assert syncer.result() is None  # taken once
        assert not _readable(syncer.fileno(), 0)  # and no longer signalled
        syncer.request(fd)  # the next one may start
        syncer.wait()
        assert syncer.result() == 0
    finally:
        os.close(fd)


def test_a_failed_sync_reports_its_errno(syncer: Syncer) -> None:
    syncer.request(987_654)  # not an open descriptor
    syncer.wait()
    assert syncer.result() == 9  # EBADF


def test_wait_without_a_sync_returns_at_once(syncer: Syncer) -> None:
    done = threading.Event()

    def waiter() -> None:
        syncer.wait()
        done.set()

    threading.Thread(target=waiter, daemon=True).start()
    assert done.wait(5)


def test_the_python_syncer_runs_fsync_on_its_own_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names: list[str] = []
    real: Callable[[int], None] = os.fsync

    def fsync(fd: int) -> None:
        names.append(threading.current_thread().name)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    syncer = ThreadSyncer()
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        syncer.request(fd)
        with pytest.raises(RuntimeError):
            syncer.request(fd)  # one at a time
        syncer.wait()
        assert syncer.result() == 0
    finally:
        os.close(fd)
        syncer.close()
    assert names == ["journal-sync"]

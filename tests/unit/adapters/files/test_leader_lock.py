"""The embedded default's leader lock: one holder per job across the processes of a host."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

from guardian.adapters.files.leader_lock import FileLeaderLock


def _hold(folder: str, ready: multiprocessing.synchronize.Event) -> None:
    lock = FileLeaderLock(Path(folder))
    assert lock.try_acquire("reports")
    ready.set()
    time.sleep(60)


def test_one_holder_per_job_and_release_hands_it_on(tmp_path: Path) -> None:
    one, two = FileLeaderLock(tmp_path), FileLeaderLock(tmp_path)

    assert one.try_acquire("reports") and one.try_acquire("reports") and one.held("reports")
    assert not two.try_acquire("reports") and not two.held("reports")
    assert two.try_acquire("retention")  # another job, another lock
    one.release("reports")
    assert two.try_acquire("reports") and not one.held("reports")


def test_a_killed_holder_in_another_process_hands_leadership_on(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    holder = context.Process(target=_hold, args=(str(tmp_path), ready))
    holder.start()
    try:
        assert ready.wait(30)
        here = FileLeaderLock(tmp_path)
        assert not here.try_acquire("reports")
        assert holder.pid is not None
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(10)
        assert here.try_acquire("reports")
    finally:
        if holder.is_alive():
            holder.kill()
            holder.join()

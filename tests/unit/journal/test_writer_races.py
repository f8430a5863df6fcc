"""Group commit under failure: a waiter whose event a failed flush discarded is never acknowledged,
and a second writer on the same journal file is refused."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from guardian.errors import AuditUnavailable
from guardian.journal.verification import verify_journal
from guardian.journal.writer import FileJournal, read_events


def test_a_discarded_event_is_not_acknowledged_even_if_its_seq_is_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.jsonl"
    journal = FileJournal(path)
    in_fsync, fail_now, gate = threading.Event(), threading.Event(), threading.Event()
    real_fsync = os.fsync
    calls: list[int] = []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:  # A's flush blocks, then fails
            in_fsync.set()
            fail_now.wait()
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)

    class Descheduled(threading.Condition):
        """B, once notified, is not scheduled again until `gate` opens."""

        def wait(self, timeout: float | None = None) -> bool:
            if threading.current_thread().name == "B":
                self.release()
                gate.wait()
                self.acquire()
                return True
            return super().wait(timeout)

    journal._cond = Descheduled(threading.Lock())
    out: dict[str, Any] = {}

    def run(name: str) -> None:
        try:
            out[name] = journal.append({"who": name})
        except AuditUnavailable as exc:
            out[name] = exc

    a = threading.Thread(target=run, args=("A",), name="A")
    a.start()
    in_fsync.wait()
    b = threading.Thread(target=run, args=("B",), name="B")
    b.start()
    while not journal._pending:
        pass
    fail_now.set()
    a.join()
    out["C"] = journal.append_many([{"who": "C1"}, {"who": "C2"}])  # reuses seq 1 and 2
    gate.set()
    b.join()
    assert isinstance(out["A"], AuditUnavailable)
    assert isinstance(out["B"], AuditUnavailable)
    assert [r.seq for r in out["C"]] == [1, 2]
    written = [line for _, line in read_events(path)]
    assert [b'"C1"' in written[0], b'"C2"' in written[1]] == [True, True]
    assert verify_journal(path, None).ok


def test_a_second_writer_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    first = FileJournal(path)
    first.append({"n": 1})
    second = FileJournal(path)
    with pytest.raises(AuditUnavailable, match="another writer"):
        second.append({"n": 2})
    first.close()
    assert second.append({"n": 2}).seq == 2

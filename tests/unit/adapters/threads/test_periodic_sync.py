"""The background directory sync thread: first sync at start, carries on through failures."""

from __future__ import annotations

import threading
import time

from guardian.adapters.threads.periodic_sync import PeriodicSync
from guardian.clock import ManualClock
from guardian.errors import DirectoryUnavailable
from guardian.identity.directory_sync import SyncedDirectory
from guardian.identity.principal import Principal

ALICE = Principal("alice", "Alice", frozenset({"customer-care"}))


class FlakySource:
    name = "ldap://fake"
    warnings: list[str] = []

    def __init__(self) -> None:
        self.calls = 0
        self.fail_on = {2, 3}
        self.crash_on = {4}

    def fetch(self) -> list[Principal]:
        self.calls += 1
        if self.calls in self.fail_on:
            raise DirectoryUnavailable("LDAP unavailable")
        if self.calls in self.crash_on:
            raise RuntimeError("surprise")
        return [ALICE]

    def close(self) -> None:
        pass


def wait_for(condition: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.01)
    return False


def test_start_returns_after_the_first_sync_so_the_server_decides_on_current_data() -> None:
    directory = SyncedDirectory(FlakySource(), ManualClock())
    sync = PeriodicSync(directory, interval_s=60)
    sync.start()
    try:
        assert directory.get("alice") == ALICE
    finally:
        sync.stop()


def test_the_thread_keeps_syncing_through_failures_and_stops_when_asked() -> None:
    source = FlakySource()
    directory = SyncedDirectory(source, ManualClock())
    sync = PeriodicSync(directory, interval_s=0.02)
    sync.start()
    try:
        assert wait_for(lambda: source.calls >= 6)
    finally:
        sync.stop()
    assert not any(t.name == "guardian-directory-sync" for t in threading.enumerate())
    calls = source.calls
    time.sleep(0.1)
    assert source.calls == calls
    assert directory.get("alice") == ALICE
    assert directory.status().last_error is None


def test_stopping_a_sync_that_never_started_does_nothing() -> None:
    sync = PeriodicSync(SyncedDirectory(FlakySource(), ManualClock()), interval_s=5)
    sync.stop()
    assert sync.syncs == 0


def test_a_sync_that_changed_the_snapshot_is_published_one_that_did_not_is_not() -> None:
    from guardian.changes import Change, ChangeKind, LocalChanges

    feed = LocalChanges()
    sync = PeriodicSync(SyncedDirectory(FlakySource(), ManualClock()), 3600, changes=feed)
    sync._sync_once()  # alice appears: a change
    sync.directory._source.fail_on = set()  # type: ignore[attr-defined]
    sync._sync_once()  # nothing new
    assert feed.published == [Change(ChangeKind.DIRECTORY, "ldap://fake")]

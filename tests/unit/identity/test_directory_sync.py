"""SyncedDirectory on in-memory fakes: serving a snapshot, syncing, dry runs, failures, age."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from guardian.clock import ManualClock
from guardian.errors import DirectoryUnavailable, StoreUnavailable
from guardian.identity.directory_snapshot import DirectorySnapshot
from guardian.identity.directory_sync import SyncedDirectory
from guardian.identity.principal import Principal

ALICE = Principal("alice", "Alice", frozenset({"customer-care"}))
BOB = Principal("bob", "Bob", frozenset({"billing"}))


class FakeSource:
    name = "ldap://fake"

    def __init__(self, principals: Sequence[Principal] = ()) -> None:
        self.people = list(principals)
        self.down = False
        self.fetches = 0
        self.closed = False

    def fetch(self) -> list[Principal]:
        self.fetches += 1
        if self.down:
            raise DirectoryUnavailable("LDAP unavailable while reading the directory: SocketOpenError")
        return list(self.people)

    @property
    def warnings(self) -> Sequence[str]:
        return ["uid=x: skipped"] if self.people else []

    def close(self) -> None:
        self.closed = True


class MemoryStore:
    def __init__(self, snapshot: DirectorySnapshot | None = None) -> None:
        self.snapshot = snapshot
        self.saves = 0
        self.broken = False

    def load(self) -> DirectorySnapshot | None:
        return self.snapshot

    def save(self, snapshot: DirectorySnapshot) -> None:
        if self.broken:
            raise StoreUnavailable("disk full")
        self.saves += 1
        self.snapshot = snapshot


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=10_000.0)


def test_a_directory_never_synced_knows_nobody_and_is_infinitely_old(clock: ManualClock) -> None:
    directory = SyncedDirectory(FakeSource([ALICE]), clock, MemoryStore())
    assert directory.get("alice") is None
    assert directory.age_s(clock.now()) == math.inf
    status = directory.status()
    assert status.stale and status.last_sync_at is None and status.age_s is None


def test_a_sync_serves_the_new_people_and_persists_them(clock: ManualClock) -> None:
    store = MemoryStore()
    directory = SyncedDirectory(FakeSource([ALICE, BOB]), clock, store)
    result = directory.sync()
    assert result.applied and result.users == 2 and [p.uid for p in result.diff.added] == [
        "alice", "bob"]
    assert result.warnings == ("uid=x: skipped",)
    assert directory.get("bob") == BOB
    assert store.saves == 1 and store.snapshot is not None and len(store.snapshot) == 2
    clock.advance(42)
    assert directory.age_s(clock.now()) == 42


def test_a_dry_run_shows_the_changes_but_serves_and_persists_the_old_snapshot(
        clock: ManualClock) -> None:
    source = FakeSource([ALICE])
    store = MemoryStore()
    directory = SyncedDirectory(source, clock, store)
    directory.sync()
    source.people = [Principal("alice", "Alice", frozenset(), active=False)]
    clock.advance(30)
    result = directory.sync(dry_run=True)
    assert not result.applied
    assert [str(c) for c in result.diff.changed] == [
        "~ alice: roles: [customer-care] -> []; active: True -> False"]
    assert directory.get("alice") == ALICE
    assert store.saves == 1
    assert directory.age_s(clock.now()) == 30


def test_a_failed_sync_keeps_the_last_snapshot_and_reports_the_error(clock: ManualClock) -> None:
    source = FakeSource([ALICE])
    directory = SyncedDirectory(source, clock, MemoryStore(), max_age_s=100)
    directory.sync()
    source.down = True
    clock.advance(60)
    with pytest.raises(DirectoryUnavailable):
        directory.sync()
    assert directory.get("alice") == ALICE
    status = directory.status()
    assert status.age_s == 60 and not status.stale
    assert status.last_error is not None and "SocketOpenError" in status.last_error
    assert status.last_attempt_at == clock.now()
    clock.advance(41)
    assert directory.status().stale


def test_a_sync_after_an_outage_clears_the_error_and_the_age(clock: ManualClock) -> None:
    source = FakeSource([ALICE])
    directory = SyncedDirectory(source, clock, MemoryStore())
    source.down = True
    with pytest.raises(DirectoryUnavailable):
        directory.sync()
    source.down = False
    clock.advance(5)
    directory.sync()
    assert directory.status().last_error is None
    assert directory.age_s(clock.now()) == 0


def test_a_restart_serves_the_persisted_snapshot_before_any_sync(clock: ManualClock) -> None:
    store = MemoryStore(DirectorySnapshot.of([BOB], clock.now() - 120, "ldap://fake"))
    source = FakeSource([ALICE])
    source.down = True
    directory = SyncedDirectory(source, clock, store)
    assert directory.get("bob") == BOB and directory.get("alice") is None
    assert directory.age_s(clock.now()) == 120
    assert source.fetches == 0


def test_a_snapshot_that_cannot_be_written_is_still_applied_and_reported(
        clock: ManualClock) -> None:
    store = MemoryStore()
    store.broken = True
    directory = SyncedDirectory(FakeSource([ALICE]), clock, store)
    result = directory.sync()
    assert directory.get("alice") == ALICE
    assert result.persist_error == "snapshot not persisted: disk full"
    assert directory.status().last_error == "snapshot not persisted: disk full"


def test_an_unexpected_source_failure_becomes_directory_unavailable(clock: ManualClock) -> None:
    class Broken(FakeSource):
        def fetch(self) -> list[Principal]:
            raise RuntimeError("password=hunter2 leaked in a message")

    directory = SyncedDirectory(Broken(), clock)
    with pytest.raises(DirectoryUnavailable):
        directory.sync()
    assert directory.status().last_error == "RuntimeError while reading the directory"


def test_closing_the_directory_closes_its_source(clock: ManualClock) -> None:
    source = FakeSource()
    SyncedDirectory(source, clock).close()
    assert source.closed


def _people(count: int) -> list[Principal]:
    return [Principal(f"u{i:03d}", f"User {i}", frozenset({"customer-care"})) for i in range(count)]


def test_a_sync_removing_most_people_is_refused_and_keeps_the_snapshot(
    clock: ManualClock,
) -> None:
    source = FakeSource(_people(20))
    directory = SyncedDirectory(source, clock, MemoryStore())
    directory.sync()
    source.people = _people(5)  # e.g. a wrong base DN: 15 of 20 would vanish
    clock.advance(60)
    with pytest.raises(DirectoryUnavailable, match="remove 15 of 20"):
        directory.sync()
    assert directory.get("u019") is not None
    assert directory.status().last_error is not None
    assert directory.age_s(clock.now()) == 60


def test_a_forced_sync_applies_a_mass_removal(clock: ManualClock) -> None:
    source = FakeSource(_people(20))
    directory = SyncedDirectory(source, clock, MemoryStore())
    directory.sync()
    source.people = _people(5)
    result = directory.sync(force=True)
    assert result.applied and len(result.diff.removed) == 15
    assert directory.get("u019") is None


def test_removing_half_or_a_small_directory_is_applied_without_force(clock: ManualClock) -> None:
    source = FakeSource(_people(20))
    directory = SyncedDirectory(source, clock, MemoryStore())
    directory.sync()
    source.people = _people(10)
    assert directory.sync().applied
    small = SyncedDirectory(FakeSource([ALICE, BOB]), clock, MemoryStore())
    small.sync()
    small._source.people = []  # type: ignore[attr-defined]
    assert small.sync().applied


def test_another_process_s_newer_snapshot_is_reloaded_an_older_one_is_not(
        clock: ManualClock) -> None:
    saved = MemoryStore()
    worker = SyncedDirectory(FakeSource([ALICE]), clock, saved)
    syncer = SyncedDirectory(FakeSource([ALICE, BOB]), clock, saved)
    assert worker.get("bob") is None and not worker.reload_snapshot()

    syncer.sync()  # the other process syncs and saves; the change feed tells this one

    assert worker.reload_snapshot()
    assert worker.get("bob") == BOB
    assert not worker.reload_snapshot()  # the same snapshot again: nothing new

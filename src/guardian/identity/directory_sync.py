"""A directory served from a local snapshot that a sync refreshes from its source (LDAP).

:class:`SyncedDirectory` answers ``get`` with a dictionary look-up in the current snapshot, so
a decision never waits on a network round trip. :meth:`SyncedDirectory.sync` reads every
principal from the source, diffs the result against the current snapshot, then (unless it is a
dry run) swaps the new snapshot in and persists it, so that a restart while the source is down
still decides on the last data read. A failed sync leaves the snapshot alone and is remembered
for ``/v1/health``; how old the snapshot is (:meth:`SyncedDirectory.age_s`) lets the decision
pipeline deny once it is older than the configured maximum.

A sync that would remove more than half of a directory of some size (a wrong base DN, an
emptied group, a half-answered search) is refused rather than applied: the last good snapshot
stays, the refusal shows in health, and an operator applies it on purpose with ``--force``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from guardian.errors import DirectoryUnavailable, GuardianError
from guardian.identity.directory_snapshot import DirectorySnapshot, SnapshotDiff, diff_snapshots
from guardian.identity.principal import Principal
from guardian.ports import Clock, DirectorySource, SnapshotStore

MASS_REMOVAL_SHARE = 0.5
"""A sync removing more than this share of the current users is refused unless forced..."""
MASS_REMOVAL_MIN_USERS = 10
"""...once the directory holds at least this many users."""


@dataclass(frozen=True, slots=True)
class SyncResult:
    diff: SnapshotDiff
    users: int
    applied: bool
    duration_s: float
    persist_error: str | None = None
    """The snapshot was applied in memory but could not be written to disk."""
    warnings: tuple[str, ...] = ()
    """Entries the source skipped or read the strict way."""


@dataclass(frozen=True, slots=True)
class DirectoryStatus:
    """What ``/v1/health`` shows about the directory; never a secret."""

    source: str
    users: int
    last_sync_at: float | None
    """When the snapshot in use was read from the source (``None``: never)."""
    age_s: float | None
    last_attempt_at: float | None
    last_error: str | None
    stale: bool


class SyncedDirectory:
    """Implements ``Directory`` and ``DirectoryFreshness`` over a snapshot of ``source``."""

    def __init__(
        self,
        source: DirectorySource,
        clock: Clock,
        store: SnapshotStore | None = None,
        max_age_s: float = 3600.0,
    ) -> None:
        self._source = source
        self._clock = clock
        self._store = store
        self.max_age_s = max_age_s
        self._snapshot: DirectorySnapshot | None = store.load() if store is not None else None
        self._by_uid: Mapping[str, Principal] = (
            self._snapshot.principals if self._snapshot is not None else {})
        self._sync_lock = threading.Lock()
        self._last_attempt_at: float | None = None
        self._last_error: str | None = None

    def close(self) -> None:
        self._source.close()

    @property
    def source_name(self) -> str:
        return self._source.name

    @property
    def snapshot(self) -> DirectorySnapshot | None:
        return self._snapshot

    # -- Directory: the decision path, a dict look-up and nothing else -----------------------
    def get(self, uid: str) -> Principal | None:
        return self._by_uid.get(uid)

    def principals(self) -> Iterable[Principal]:
        return list(self._by_uid.values())

    # -- DirectoryFreshness --------------------------------------------------------------------
    def age_s(self, now: float) -> float:
        snapshot = self._snapshot
        if snapshot is None:
            return math.inf
        return max(0.0, now - snapshot.taken_at)

    def reload_snapshot(self) -> bool:
        """Take the snapshot saved in the store if it is newer than the one served (another
        process synced: the change feed says so); whether it was. Blocking (a file read)."""
        if self._store is None:
            return False
        with self._sync_lock:
            saved = self._store.load()
            if saved is None or (self._snapshot is not None
                                 and saved.taken_at <= self._snapshot.taken_at):
                return False
            self._snapshot = saved
            self._by_uid = saved.principals
            return True

    # -- the sync ------------------------------------------------------------------------------
    def sync(self, *, dry_run: bool = False, force: bool = False) -> SyncResult:
        """Read the source, diff, and apply unless ``dry_run``; ``DirectoryUnavailable`` when the
        source cannot be read or, unless ``force``, when it would remove more than half of the
        users (the current snapshot is kept either way)."""
        with self._sync_lock:
            started = self._clock.now()
            t0 = time.perf_counter()
            self._last_attempt_at = started
            try:
                principals = self._source.fetch()
            except GuardianError as exc:
                self._last_error = exc.message
                raise
            except Exception as exc:
                self._last_error = f"{type(exc).__name__} while reading the directory"
                raise DirectoryUnavailable(self._last_error) from exc
            # The data is as old as the moment we started reading it.
            fresh = DirectorySnapshot.of(principals, started, self._source.name)
            diff = diff_snapshots(self._snapshot, fresh)
            warnings = tuple(self._source.warnings)
            if dry_run:
                self._last_error = None
                return SyncResult(diff, len(fresh), False, time.perf_counter() - t0,
                                  warnings=warnings)
            if not force:
                self._refuse_mass_removal(diff)
            self._snapshot = fresh
            self._by_uid = fresh.principals  # one reference swap: readers see old or new
            persist_error = self._persist(fresh)
            self._last_error = persist_error
            return SyncResult(diff, len(fresh), True, time.perf_counter() - t0, persist_error,
                              warnings)

    def _refuse_mass_removal(self, diff: SnapshotDiff) -> None:
        current = len(self._by_uid)
        if current >= MASS_REMOVAL_MIN_USERS and len(diff.removed) > current * MASS_REMOVAL_SHARE:
            self._last_error = (
                f"sync refused: it would remove {len(diff.removed)} of {current} users; check the "
                "directory settings, then `guardian directory sync --force` to apply it")
            raise DirectoryUnavailable(self._last_error)

    def _persist(self, snapshot: DirectorySnapshot) -> str | None:
        if self._store is None:
            return None
        try:
            self._store.save(snapshot)
        except GuardianError as exc:
            return f"snapshot not persisted: {exc.message}"
        return None

    def status(self, now: float | None = None) -> DirectoryStatus:
        now = self._clock.now() if now is None else now
        snapshot = self._snapshot
        age = self.age_s(now)
        return DirectoryStatus(
            source=self._source.name,
            users=len(self._by_uid),
            last_sync_at=snapshot.taken_at if snapshot is not None else None,
            age_s=None if math.isinf(age) else round(age, 3),
            last_attempt_at=self._last_attempt_at,
            last_error=self._last_error,
            stale=age > self.max_age_s,
        )

"""The SQL store on a SQLite file: consents, one-time-code claims, failure counts, grants."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from guardian.adapters.sql_store import SqlStore, TemporaryGrant, make_engine, seed_consents
from guardian.errors import StoreUnavailable

AT = 1_790_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> SqlStore:
    store = SqlStore(make_engine("sqlite:///" + str(tmp_path / "s.db")))
    store.create_schema()
    return store


def _grant(gid: str, role: str, starts_at: float, expires_at: float) -> TemporaryGrant:
    return TemporaryGrant(gid, "alice", role, starts_at, expires_at, "INC-1", "ivan")


def test_without_consent_returns_the_unconsented_customers_in_order_once_each(
    store: SqlStore,
) -> None:
    seed_consents(store, [("C-1", "marketing"), ("C-3", "marketing"), ("C-2", "billing")], AT)

    missing = store.without_consent(["C-2", "C-1", "C-4", "C-2", "C-3", "C-5", "C-4"],
                                    "marketing")

    assert missing == ("C-2", "C-4", "C-5")


def test_without_consent_is_empty_when_all_consented_or_none_asked(store: SqlStore) -> None:
    seed_consents(store, [("C-1", "marketing"), ("C-2", "marketing")], AT)

    assert store.without_consent(["C-1", "C-2", "C-1"], "marketing") == ()
    assert store.without_consent([], "marketing") == ()


def test_a_consent_counts_only_for_its_purpose(store: SqlStore) -> None:
    store.record_consent("C-1", "marketing", AT)

    assert store.without_consent(["C-1"], "profiling") == ("C-1",)


def test_recording_a_consent_twice_is_harmless(store: SqlStore) -> None:
    assert not store.has_consents()

    store.record_consent("C-1", "marketing", AT)
    store.record_consent("C-1", "marketing", AT + 1)

    assert store.has_consents()
    assert store.without_consent(["C-1", "C-2"], "marketing") == ("C-2",)


def test_a_time_step_can_be_claimed_once_per_user(store: SqlStore) -> None:
    assert store.claim("alice", 100, AT)
    assert not store.claim("alice", 100, AT + 1)
    assert store.claim("alice", 101, AT + 1)
    assert store.claim("bob", 100, AT + 1)


def test_a_claim_is_still_refused_while_its_code_could_be_valid(store: SqlStore) -> None:
    store.claim("alice", 100, AT)

    assert not store.claim("alice", 100, AT + 300)


def test_failures_are_counted_per_user_with_the_time_of_the_last_one(store: SqlStore) -> None:
    assert store.failures("alice") == (0, 0.0)

    counts = [store.record_failure("alice", AT + n) for n in range(3)]
    store.record_failure("bob", AT + 10)

    assert counts == [1, 2, 3]
    assert store.failures("alice") == (3, AT + 2)
    assert store.failures("bob") == (1, AT + 10)


def test_resetting_failures_starts_the_count_again(store: SqlStore) -> None:
    store.record_failure("alice", AT)
    store.record_failure("alice", AT + 1)

    store.reset_failures("alice")

    assert store.failures("alice") == (0, 0.0)
    assert store.record_failure("alice", AT + 2) == 1
    store.reset_failures("nobody")  # resetting a user without failures is harmless


def test_a_temporary_grant_is_active_from_its_start_until_just_before_its_expiry(
    store: SqlStore,
) -> None:
    # The grant snapshot keeps grants unexpired by the wall clock, so the window lies ahead of it.
    start = time.time() + 3600
    store.add_grant(_grant("g1", "billing", start, start + 600))

    assert store.active_roles("alice", start - 0.001) == frozenset()
    assert store.active_roles("alice", start) == {"billing"}
    assert store.active_roles("alice", start + 599.999) == {"billing"}
    assert store.active_roles("alice", start + 600) == frozenset()
    assert store.active_roles("bob", start) == frozenset()


def test_overlapping_grants_give_every_role_active_at_the_time(store: SqlStore) -> None:
    start = time.time() + 3600
    store.add_grant(_grant("g1", "billing", start, start + 600))
    store.add_grant(_grant("g2", "fraud-analyst", start + 300, start + 900))

    assert store.active_roles("alice", start + 100) == {"billing"}
    assert store.active_roles("alice", start + 400) == {"billing", "fraud-analyst"}
    assert store.active_roles("alice", start + 700) == {"fraud-analyst"}


def test_a_grant_written_by_another_replica_is_seen_after_the_refresh_period(
    store: SqlStore,
) -> None:
    reader = SqlStore(store.engine, grants_refresh_s=0.0)
    start = time.time() + 3600
    assert reader.active_roles("alice", start) == frozenset()

    store.add_grant(_grant("g1", "billing", start, start + 600))

    assert reader.active_roles("alice", start) == {"billing"}


def test_an_unreachable_database_is_store_unavailable(tmp_path: Path) -> None:
    store = SqlStore(make_engine("sqlite:///" + str(tmp_path / "missing" / "dir" / "s.db")))

    with pytest.raises(StoreUnavailable):
        store.create_schema()


def test_a_store_without_its_schema_is_store_unavailable(tmp_path: Path) -> None:
    store = SqlStore(make_engine("sqlite:///" + str(tmp_path / "empty.db")))

    with pytest.raises(StoreUnavailable):
        store.failures("alice")
    with pytest.raises(StoreUnavailable):
        store.without_consent(["C-1"], "marketing")


def test_parallel_failed_sign_ins_are_all_counted(store: SqlStore) -> None:
    import threading

    barrier = threading.Barrier(8)

    def fail() -> None:
        barrier.wait()
        store.record_failure("alice", 1.0)

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.record_failure("alice", 2.0)
    assert store.failures("alice") == (9, 2.0)


def test_grants_are_judged_at_the_time_asked_not_the_wall_clock(store: SqlStore) -> None:
    past_start = 1_700_000_000.0  # 2023: long expired by the wall clock
    store.add_grant(_grant("g-old", "billing", past_start, past_start + 3600))
    assert store.active_roles("alice", past_start + 60) == frozenset({"billing"})

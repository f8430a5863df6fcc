"""The PostgreSQL leader lock on the real server: one leader among holders on separate
connections, leadership handed over on release and lost with the connection, and two
replicas' report schedules on one database making each month's report exactly once."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from guardian.adapters.sql.leader_lock import PostgresLeaderLock, lock_key
from guardian.adapters.sql.store import make_engine
from guardian.adapters.threads.report_schedule import ReportSchedule
from guardian.bootstrap import build
from guardian.clock import ManualClock
from guardian.reports.schedule import last_month
from support import real_settings

pytestmark = pytest.mark.integration




def _name() -> str:
    return f"test-{uuid.uuid4().hex}"  # advisory locks are server-wide: each test its own


def test_one_holder_leads_and_release_hands_over(database_url: str) -> None:
    name = _name()
    first, second = PostgresLeaderLock(make_engine(database_url)), \
        PostgresLeaderLock(make_engine(database_url))
    try:
        assert first.try_acquire(name) and first.try_acquire(name)
        assert not second.try_acquire(name) and not second.held(name)
        assert first.held(name)
        first.release(name)
        assert not first.held(name)
        assert second.try_acquire(name) and not first.try_acquire(name)
    finally:
        first.close()
        second.close()
        first.engine.dispose()
        second.engine.dispose()


def test_a_lost_connection_is_lost_leadership(database_url: str) -> None:
    name = _name()
    admin = make_engine(database_url)
    first, second = PostgresLeaderLock(make_engine(database_url)), \
        PostgresLeaderLock(make_engine(database_url))
    try:
        assert first.try_acquire(name)
        with admin.begin() as conn:  # the leader's session is cut, as by a network failure
            killed = conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND ((classid::bigint << 32) | objid::bigint) = :key"),
                {"key": lock_key(name)}).scalars().all()
        assert killed == [True]

        assert not first.held(name)
        assert second.try_acquire(name)
        assert not first.try_acquire(name)  # it asks again, on a new connection: a follower
    finally:
        first.close()
        second.close()
        for engine in (admin, first.engine, second.engine):
            engine.dispose()


def test_two_schedulers_on_one_database_make_each_report_once(
    schema_url: str, tmp_path: Path
) -> None:
    clock = ManualClock(start=1_764_633_600.0)  # 2025-12-02: November's report is due
    apps = [build(real_settings(tmp_path / name, database_url=schema_url,
                                reports_schedule="monthly", audit_retention_schedule="off"),
                  clock=clock, prepare=True) for name in ("a", "b")]
    schedules = [next(t for t in g.background if isinstance(t, ReportSchedule)) for g in apps]
    barrier = threading.Barrier(len(schedules))

    def run(schedule: ReportSchedule) -> None:
        for _ in range(3):
            barrier.wait()
            schedule.check_once()

    try:
        threads = [threading.Thread(target=run, args=(s,)) for s in schedules]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        made = apps[0].reports.list()
        leaders = [s for s in schedules if s.followed == 0]
        assert [(r.period_from, r.period_to) for r in made] == [last_month(clock.now())]
        assert len(leaders) == 1 and sum(s.followed for s in schedules) == 3
        assert sum(s.failures for s in schedules) == 0

        leaders[0].stop()  # the leader stops (a deploy): the other takes over next month
        clock.advance(31 * 86400)
        follower = next(s for s in schedules if s is not leaders[0])
        follower.check_once()
        assert len(apps[1].reports.list()) == 2
    finally:
        for g in apps:
            g.close()

"""Two Guardians on one PostgreSQL database (two replicas): what one changes, the other honours
within a second through LISTEN/NOTIFY — with the periodic refreshes set far beyond that, so
only the feed can deliver it; and the listener reconnects when its connection is killed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from change_feed_support import LIMIT_S, changes_reach_instance_two, wait_for
from guardian.adapters.sql.changes_notify import PostgresChangeFeed, channel_of
from guardian.adapters.sql.store import SqlStore, make_engine
from guardian.api import create_app
from guardian.bootstrap import build
from guardian.changes import Change, ChangeKind
from support import real_settings

pytestmark = pytest.mark.integration




def test_a_grant_a_revoked_key_and_a_withdrawal_reach_the_other_replica_within_a_second(
        schema_url: str, tmp_path: Path) -> None:
    apps = [build(real_settings(tmp_path / name, database_url=schema_url,
                                consent_refresh_interval_s=60, views_refresh_interval_s=3600), prepare=True)
            for name in ("replica-1", "replica-2")]
    try:
        with TestClient(create_app(apps[1])) as two:
            def post(path: str, headers: dict[str, str], body: dict[str, Any]
                     ) -> tuple[int, Any]:
                response = two.post(path, headers=headers, json=body)
                return response.status_code, response.json()

            waited = changes_reach_instance_two(apps[0], post)
    finally:
        for g in apps:
            g.close()
    print("seconds until instance 2 honoured it:", waited)
    assert all(s <= LIMIT_S for s in waited.values()), waited


def test_the_listener_reconnects_and_resyncs_after_its_connection_is_killed(
        schema_url: str) -> None:
    store = SqlStore(make_engine(schema_url))
    store.create_schema()
    here = PostgresChangeFeed(store.engine, schema_url, max_backoff_s=0.5)
    there = PostgresChangeFeed(store.engine, schema_url)
    heard: list[Change] = []
    for kind in (ChangeKind.GRANT, ChangeKind.KEY):
        here.subscribe(kind, heard.append)
    here.start()
    try:
        assert here.connected.is_set() and heard == [Change(ChangeKind.GRANT, ""),
                                                     Change(ChangeKind.KEY, "")]
        heard.clear()
        there.publish(ChangeKind.GRANT, "g1")
        here.publish(ChangeKind.GRANT, "own")  # a process does not hear itself
        assert wait_for(lambda: Change(ChangeKind.GRANT, "g1") in heard) <= LIMIT_S
        with store.engine.begin() as conn:
            killed = conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE :q AND pid <> pg_backend_pid()"),
                {"q": f'LISTEN "{channel_of(schema_url)}"%'}).scalars().all()
        assert killed == [True]
        assert wait_for(lambda: here.reconnects > 0 and here.connected.is_set()) < 10
        assert Change(ChangeKind.KEY, "") in heard  # the resync after reconnecting
        heard.clear()
        time.sleep(0.1)
        there.publish(ChangeKind.KEY, "k1")
        assert wait_for(lambda: Change(ChangeKind.KEY, "k1") in heard) <= LIMIT_S
        assert Change(ChangeKind.GRANT, "own") not in heard
    finally:
        here.stop()
        store.engine.dispose()

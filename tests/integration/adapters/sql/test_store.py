"""The store on PostgreSQL: the whole store contract (tests/store_contract.py), each test in a
schema of its own that is dropped afterwards, plus what only a shared server shows — replicas
migrating at once, and two Guardians (two workers) on one database refusing a code replayed
from one to the other and locking an account together."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guardian.adapters.sql import alembic_runner as sql_migrations
from guardian.adapters.sql.store import make_engine
from guardian.api import create_app
from guardian.bootstrap import build
from guardian.clock import ManualClock
from guardian.identity.totp import code_at
from store_contract import StoreContract
from support import demo_secret, real_settings

pytestmark = pytest.mark.integration




class TestPostgresqlStore(StoreContract):
    @pytest.fixture
    def store_url(self, schema_url: str) -> str:
        return schema_url


def test_replicas_starting_at_once_migrate_the_database_once(schema_url: str) -> None:
    engines = [make_engine(schema_url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    reached: list[str | None] = []
    errors: list[BaseException] = []

    def start(engine_index: int) -> None:
        barrier.wait()
        try:
            reached.append(sql_migrations.upgrade(engines[engine_index]))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for engine in engines:
        engine.dispose()
    assert errors == []
    assert reached == [sql_migrations.head()] * len(engines)


def test_two_guardians_on_one_database_share_replay_refusal_and_lockout(
    schema_url: str, tmp_path: Path
) -> None:
    clock = ManualClock(start=1_790_000_010.0)
    apps = [build(real_settings(tmp_path / name, database_url=schema_url), clock=clock, prepare=True)
            for name in ("worker-1", "worker-2")]
    try:
        with TestClient(create_app(apps[0])) as one, TestClient(create_app(apps[1])) as two:
            code = code_at(demo_secret("bob"), clock.now())
            body = {"user": "bob", "password": "bob-demo-pass", "otp": code}
            assert one.post("/v1/sessions", json=body).status_code == 201
            replayed = two.post("/v1/sessions", json=body)
            assert replayed.status_code == 401

            wrong = {"user": "carol", "password": "wrong", "otp": "000000"}
            statuses = [c.post("/v1/sessions", json=wrong).status_code
                        for c in (one, two, one, two, one)]
            clock.advance(30)
            right = {"user": "carol", "password": "carol-demo-pass",
                     "otp": code_at(demo_secret("carol"), clock.now())}
            locked = [c.post("/v1/sessions", json=right) for c in (one, two)]
    finally:
        for g in apps:
            g.close()
    assert statuses == [401] * 5
    assert [r.status_code for r in locked] == [429, 429]
    assert locked[1].json()["error"]["code"] == "account_locked"


def test_a_withdrawal_on_one_replica_denies_on_the_other_within_its_refresh_interval(
    schema_url: str, tmp_path: Path
) -> None:
    import time

    from guardian.governance.consent import ConsentCaller
    from guardian.policy.model import DecisionRequest
    from guardian.policy.vocabulary import Action

    clock = ManualClock(start=1_790_000_010.0)
    apps = [build(real_settings(tmp_path / name, database_url=schema_url,
                                consent_refresh_interval_s=0.2), clock=clock, prepare=True)
            for name in ("replica-1", "replica-2")]
    request = DecisionRequest(subject_id="dave", action=Action.READ, database="crm",
                              category="contact", purpose="marketing",
                              customer_ids=("C-1001",))
    try:
        for g in apps:
            g.start_background()
        before = [r.code for r in apps[1].pipeline.evaluate(request, clock.now()).reasons]
        assert "consent_missing" not in before  # seeded: C-1001 consented
        apps[0].consent.record("C-1001", "marketing", False, "preference-centre",
                               ConsentCaller("consent-hub", "consent-hub", "k1"))
        started = time.monotonic()
        while time.monotonic() - started < 5:
            codes = [r.code for r in apps[1].pipeline.evaluate(request, clock.now()).reasons]
            if "consent_missing" in codes:
                break
            time.sleep(0.05)
        waited = time.monotonic() - started
    finally:
        for g in apps:
            g.close()
    assert "consent_missing" in codes
    assert waited < 1.5

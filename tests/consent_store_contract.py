"""The consent part of the store's contract (tests/store_contract.py mixes it in), run against
SQLite and PostgreSQL: the history is kept whole, the state is the latest change by (at, id),
and a view following the store from another engine (another replica) sees every change."""

from __future__ import annotations

from sqlalchemy import Engine, text

from guardian.adapters.sql import alembic_runner as sql_migrations
from guardian.adapters.sql.consents import SqlConsents
from guardian.adapters.sql.store import make_engine
from guardian.governance.consent_records import ConsentChange, ConsentState
from guardian.governance.consent_view import ConsentFollower, ConsentView

AT = 1_790_000_000.0


def change(customer: str, granted: bool, at: float = AT, purpose: str = "marketing",
           source: str = "web-form") -> ConsentChange:
    return ConsentChange(customer, purpose, granted, at, source, "consent-app", "k1", at + 1)


class ConsentStoreContract:
    def test_every_change_is_kept_in_order_and_the_latest_is_the_state(
        self, engine: Engine
    ) -> None:
        store = SqlConsents(engine)
        first = store.record_change(change("C-1", True, AT))
        second = store.record_change(change("C-1", False, AT + 10, source="call-centre"))
        store.record_change(change("C-2", True, AT))

        assert 0 < first.change_id < second.change_id
        assert [(c.granted, c.source, c.actor, c.key_id) for c in store.history("C-1")] == [
            (True, "web-form", "consent-app", "k1"), (False, "call-centre", "consent-app", "k1")]
        assert store.history("C-1")[1] == second
        assert sorted((s.customer_id, s.granted) for s in store.consent_states()) == [
            ("C-1", False), ("C-2", True)]
        assert store.last_change_id() == second.change_id + 1

    def test_an_older_change_recorded_late_is_history_but_not_the_state(
        self, engine: Engine
    ) -> None:
        store = SqlConsents(engine)
        store.record_change(change("C-1", False, AT + 100))
        late = store.record_change(change("C-1", True, AT))

        assert [s.granted for s in store.consent_states()] == [False]
        assert store.history("C-1")[-1] == late

    def test_a_consent_counts_only_for_its_purpose_and_customer(self, engine: Engine) -> None:
        store = SqlConsents(engine)
        store.record_change(change("C-1", True))
        view = ConsentView(store.consent_states())

        assert view.without_consent(["C-1", "C-2", "C-1"], "marketing") == ("C-2",)
        assert view.without_consent(["C-1"], "profiling") == ("C-1",)
        assert view.without_consent([], "marketing") == ()

    def test_changes_after_an_id_and_the_ids_asked_again(self, engine: Engine) -> None:
        store = SqlConsents(engine)
        ids = [store.record_change(change(f"C-{n}", True)).change_id for n in range(5)]

        assert [c.change_id for c in store.changes_after(ids[2], [], 10)] == ids[3:]
        assert [c.change_id for c in store.changes_after(ids[3], [ids[0]], 10)] == [
            ids[0], ids[4]]
        assert [c.change_id for c in store.changes_after(0, [], 2)] == ids[:2]
        assert store.has_consents()

    def test_a_view_on_another_replica_follows_changes_after_its_load(
        self, engine: Engine, worker2: Engine
    ) -> None:
        here, there = SqlConsents(engine), SqlConsents(worker2)
        here.record_change(change("C-1", True))
        follower = ConsentFollower(there, ConsentView(), batch=2)
        assert follower.load() == 1
        assert follower.view.without_consent(["C-1"], "marketing") == ()

        here.record_change(change("C-1", False, AT + 5))
        for n in range(5):  # more than a batch: every one is read
            here.record_change(change(f"C-{10 + n}", True, AT + 5))
        assert follower.view.without_consent(["C-1"], "marketing") == ()  # not yet read

        assert follower.refresh() >= 6
        assert follower.view.without_consent(["C-1", "C-14"], "marketing") == ("C-1",)
        assert follower.refresh() == 0

    def test_consents_seeded_before_the_consent_history_survive_the_migration(
        self, store_url: str
    ) -> None:
        engine = make_engine(store_url)
        try:
            sql_migrations.upgrade(engine, "0005_reports")
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO consents (customer_id, purpose, granted_at) "
                                  "VALUES ('C-9', 'marketing', 5.0)"))
            sql_migrations.upgrade(engine)
            store = SqlConsents(engine)
            assert store.consent_states() == [
                ConsentState("C-9", "marketing", True, 5.0, store.last_change_id())]
            assert [(c.source, c.granted) for c in store.history("C-9")] == [
                ("migrated", True)]
        finally:
            engine.dispose()

"""The SQL store on SQLite files: the whole store contract (tests/store_contract.py), plus what
only the embedded default meets — a missing folder, a file without schema, a database made
before migrations existed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from guardian.adapters.sql import alembic_runner as sql_migrations
from guardian.adapters.sql.consents import SqlConsents
from guardian.adapters.sql.store import SqlStore, make_engine, metadata
from guardian.errors import StoreUnavailable
from guardian.governance.consent_view import ConsentView
from guardian.identity.lockout import LockoutPolicy
from store_contract import StoreContract


class TestSqliteStore(StoreContract):
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return "sqlite:///" + str(tmp_path / "s.db")


def test_an_unreachable_database_is_store_unavailable(tmp_path: Path) -> None:
    store = SqlStore(make_engine("sqlite:///" + str(tmp_path / "missing" / "dir" / "s.db")))

    with pytest.raises(StoreUnavailable):
        store.create_schema()


def test_a_store_without_its_schema_is_store_unavailable(tmp_path: Path) -> None:
    store = SqlStore(make_engine("sqlite:///" + str(tmp_path / "empty.db")))

    with pytest.raises(StoreUnavailable):
        store.attempts("user:alice", 0.0, LockoutPolicy())
    with pytest.raises(StoreUnavailable):
        SqlConsents(store.engine).consent_states()


def test_create_schema_applies_the_migrations_from_scratch(tmp_path: Path) -> None:
    engine = make_engine("sqlite:///" + str(tmp_path / "new.db"))
    assert sql_migrations.current(engine) is None

    SqlStore(engine).create_schema()

    assert sql_migrations.current(engine) == sql_migrations.head()
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())


def test_a_database_made_before_migrations_is_stamped_then_upgraded_keeping_its_data(
    tmp_path: Path,
) -> None:
    engine = make_engine("sqlite:///" + str(tmp_path / "old.db"))
    sql_migrations.upgrade(engine, "0001")  # the tables of those days, in their shape then
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    old = SqlStore(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO consents (customer_id, purpose, granted_at) "
                          "VALUES ('C-1', 'marketing', 1.0)"))

    old.create_schema()

    assert sql_migrations.current(engine) == sql_migrations.head()
    view = ConsentView(SqlConsents(engine).consent_states())
    assert view.without_consent(["C-1", "C-2"], "marketing") == ("C-2",)
    assert "api_keys" in inspect(engine).get_table_names()

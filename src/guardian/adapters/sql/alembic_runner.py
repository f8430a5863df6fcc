"""Schema migrations of the store with Alembic: upgrade to the latest revision, read the current.

The Alembic environment ships inside the package (``migrations/``), so an installed Guardian
migrates its own database: at start-up (:meth:`SqlStore.create_schema`) and with
``guardian db upgrade``. On PostgreSQL an advisory lock serialises replicas starting at once.
A database made before migrations existed (tables, no ``alembic_version``) is stamped at the
first revision, then upgraded.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from guardian.adapters.sql.errors import translated

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"
_LOCK_KEY = 0x6775617264  # "guard": one lock id for every Guardian replica on the database


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The latest revision this Guardian knows."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def current(engine: Engine) -> str | None:
    """The revision the database is at, ``None`` for a database never migrated."""
    with translated(), engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Apply every migration up to ``revision``; return the revision reached."""
    with translated(), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        config = _config(conn)
        if MigrationContext.configure(conn).get_current_revision() is None \
                and inspect(conn).has_table("grants"):
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, revision)
        return MigrationContext.configure(conn).get_current_revision()

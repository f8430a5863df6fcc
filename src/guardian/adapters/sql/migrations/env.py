"""Alembic environment of Guardian's store: runs on the connection handed over by
``guardian.adapters.sql.alembic_runner`` (or on ``sqlalchemy.url`` when run by the alembic tool)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from guardian.adapters.sql.store import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given: Connection | None = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Guardian's migrations run online only")
run_migrations_online()

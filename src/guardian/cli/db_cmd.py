"""``guardian db upgrade`` and ``guardian db current``: the store's schema migrations (Alembic).

The server also upgrades at start-up; these are for doing it ahead of a deployment and for
checking where a database stands (``current`` exits 1 when it is behind).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from guardian.cli.common import fail, settings_from
from guardian.errors import GuardianError

app = typer.Typer(no_args_is_help=True, help="The store's schema (GUARDIAN_DATABASE_URL).")
console = Console(soft_wrap=True)


@app.command()
def upgrade(
    revision: Annotated[str, typer.Option(help="Target revision")] = "head",
) -> None:
    """Apply the migrations the database lacks."""
    from guardian.bootstrap import migrate

    settings = settings_from()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        before, after = migrate(settings, revision)
    except GuardianError as exc:
        fail(f"{exc.code}: {exc.message}")
    console.print(f"[green]database at {after}[/] (was {before or 'empty'})")


@app.command()
def current() -> None:
    """The database's revision and the latest one; exit 1 if it is behind."""
    from guardian.bootstrap import migrate

    try:
        revision, head = migrate(settings_from(), None)
    except GuardianError as exc:
        fail(f"{exc.code}: {exc.message}")
    if revision == head:
        console.print(f"{revision} (head)")
        return
    console.print(f"[yellow]{revision or 'empty'}[/] (head is {head}: run `guardian db upgrade`)")
    raise typer.Exit(1)

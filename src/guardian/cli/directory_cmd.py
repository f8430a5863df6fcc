"""``guardian directory sync [--dry-run]``: read LDAP now, show what changes, apply it.

Applying writes the snapshot in the data folder (the one a server loads when it starts, and
``guardian check`` and ``guardian users`` read) and tells running servers on the change feed,
which reload it at once; they also keep syncing on their own interval. ``--dry-run`` reads
LDAP and shows the changes against that snapshot, writing nothing.
Exit codes: 0 done, 2 configuration error or directory unreachable.
"""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape

from guardian.cli.common import err, fail, settings_from
from guardian.cli.output import Column, Output, OutputOption, render
from guardian.errors import GuardianError

app = typer.Typer(no_args_is_help=True, help="The directory: sync its snapshot from LDAP.")


@app.command()
def sync(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the changes, apply nothing")]
    = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Apply even a sync that removes more than half of the users")] = False,
    output: OutputOption = Output.TABLE,
) -> None:
    """Read every user and group from LDAP, print the changes, and apply them."""
    from guardian.bootstrap import build_synced_directory

    try:
        directory = build_synced_directory(settings_from())
    except ValidationError as exc:
        fail(f"configuration: {exc}")
    except GuardianError as exc:
        fail(exc.message)
    try:
        result = directory.sync(dry_run=dry_run, force=force)
    except GuardianError as exc:
        fail(exc.message)
    finally:
        directory.close()
    mode = "dry run, nothing applied" if dry_run else "applied"
    err.print(f"[bold]directory sync[/] from {escape(directory.source_name)}: "
              f"{result.users} users; {result.diff.summary()} ({mode}, "
              f"{result.duration_s:.2f} s)")
    render([_change(line) for line in result.diff.lines()], CHANGE_COLUMNS, output,
           empty="no change")
    for warning in result.warnings:
        err.print(f"  [yellow]warning:[/] {escape(warning)}")
    if result.persist_error:
        fail(result.persist_error)
    if result.applied and not result.diff.empty:
        from guardian.bootstrap import publish_change
        from guardian.changes import ChangeKind

        publish_change(settings_from(), ChangeKind.DIRECTORY, directory.source_name)


CHANGE_COLUMNS = (
    Column("change", styles={"added": "green", "removed": "red", "changed": "yellow"}),
    Column("uid", whole=True), Column("detail"),
)
_CHANGE = {"+": "added", "-": "removed", "~": "changed"}


def _change(line: str) -> dict[str, str]:
    """A line of the diff (``+ uid: what``) as a row."""
    uid, _, detail = line[2:].partition(": ")
    return {"change": _CHANGE[line[0]], "uid": uid, "detail": detail}

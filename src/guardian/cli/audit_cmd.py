"""``guardian audit verify``: re-walk the journal's hash chain, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from guardian.cli.common import fail, settings_from

app = typer.Typer(no_args_is_help=True, help="Verify the audit trail.")
console = Console(soft_wrap=True)


@app.command()
def verify(
    journal: Annotated[Path | None, typer.Option(help="Journal file (default: from settings)")]
    = None,
) -> None:
    """Check every event's hash and link; name the first event modified, removed or reordered."""
    from guardian.audit.journal import read_events
    from guardian.audit.verify import verify_lines

    path = journal or settings_from().journal_file
    if not path.is_file():
        fail(f"no journal at {path}")
    total = path.stat().st_size
    with Progress(TextColumn("verifying"), BarColumn(), TextColumn("{task.completed:,} events"),
                  TimeElapsedColumn(), console=console, transient=True,
                  disable=total < 5_000_000) as progress:
        task = progress.add_task("verify", total=None)
        report = verify_lines(read_events(path),
                              progress=lambda n: progress.update(task, completed=n))
    if report.ok:
        last = report.last_seq if report.last_seq is not None else 0
        console.print(f"[green]chain intact[/]: {report.events:,} events, seq "
                      f"{report.first_seq or 0}..{last}, last hash {report.last_hash[:16]}…")
        return
    assert report.problem is not None
    console.print(f"[red]chain broken[/] at {report.broken_at}: {report.problem.value} — "
                  + escape(report.detail))
    console.print(f"{report.events:,} events verified before it.")
    raise typer.Exit(1)

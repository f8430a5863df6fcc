"""``guardian consent``: import customers' consent from a CSV file, show a customer's consent.

``import FILE`` reads ``customer_id,purpose,granted,source[,at]`` lines (a first line naming the
columns is skipped; ``granted`` is ``true``/``false``, also ``yes``/``no``/``1``/``0``; ``at``
an ISO 8601 instant, default now). Each line is one change recorded by the same service as
``PUT /v1/customers/{id}/consents/{purpose}``: checked, journalled, stored. A bad line is
reported with its number and skipped, the others are imported (each change is journalled on
its own, so a file cannot be taken back as a whole); the command then exits 1. The journal must
be writable: while a server holds it, send the changes over HTTP instead.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from guardian.cli.common import built, fail
from guardian.errors import GuardianError
from guardian.governance.consent import ConsentCaller

app = typer.Typer(no_args_is_help=True, help="Customers' consent (from the consent system).")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n"}
MAX_REPORTED = 50


class BadLine(Exception):
    """A line of the file that cannot be a consent change (its number, what is wrong)."""


def parse_line(fields: list[str]) -> tuple[str, str, bool, str, float | None]:
    """``customer_id, purpose, granted, source[, at]`` of one CSV line; :class:`BadLine` else."""
    if len(fields) not in (4, 5):
        raise BadLine(f"expected 4 or 5 columns, found {len(fields)}")
    customer_id, purpose, granted_text, source = (f.strip() for f in fields[:4])
    granted = granted_text.lower()
    if granted not in _TRUE | _FALSE:
        raise BadLine(f"granted must be true or false, not {granted_text[:20]!r}")
    at = fields[4].strip() if len(fields) == 5 else ""
    return customer_id, purpose, granted in _TRUE, source, _instant(at) if at else None


def _instant(text: str) -> float:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadLine(f"at is not an ISO 8601 instant: {text[:40]!r}") from None
    if parsed.tzinfo is None:
        raise BadLine("at needs a time zone (e.g. 2026-11-30T09:12:00Z)")
    return parsed.timestamp()


def read_lines(path: Path) -> list[tuple[int, list[str]]]:
    """Every non-empty line with its number, without a header line."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [(n, row) for n, row in enumerate(csv.reader(handle), start=1) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        fail(f"cannot read {path}: {exc}")
    if rows and rows[0][1] and rows[0][1][0].strip().lower() == "customer_id":
        rows = rows[1:]
    return rows


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV: customer_id,purpose,granted,source[,at]")],
    actor: Annotated[str, typer.Option("--actor", help="Who imports, for the audit trail")]
    = "cli",
) -> None:
    """Record every line of FILE as a consent change; bad lines are reported and skipped."""
    lines = read_lines(file)
    caller = ConsentCaller(actor)
    problems: list[tuple[int, str]] = []
    done = 0
    with built() as guardian, _progress() as progress:
        task = progress.add_task("consent changes", total=len(lines))
        for number, fields in lines:
            try:
                customer_id, purpose, granted, source, at = parse_line(fields)
                guardian.consent.record(customer_id, purpose, granted, source, caller, at=at)
                done += 1
            except BadLine as exc:
                problems.append((number, f"invalid_line: {exc}"))
            except GuardianError as exc:
                if exc.code in ("audit_unavailable", "store_unavailable"):
                    raise  # nothing after this line can be recorded either
                problems.append((number, f"{exc.code}: {exc.message}"))
            progress.advance(task)
    for number, problem in problems[:MAX_REPORTED]:
        err.print(f"[red]line {number}:[/] {escape(problem)}")
    if len(problems) > MAX_REPORTED:
        err.print(f"… and {len(problems) - MAX_REPORTED} more bad lines")
    console.print(f"[green]imported[/] {done} change(s) from {escape(str(file))}; "
                  f"{len(problems)} line(s) skipped")
    if problems:
        raise typer.Exit(1)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err, transient=False)


@app.command()
def show(
    customer_id: Annotated[str, typer.Argument(help="The customer, e.g. C-1001")],
    output: Annotated[Literal["table", "json"], typer.Option("--output", "-o",
                                                             help="table | json")] = "table",
) -> None:
    """A customer's consent per purpose, and every change with who recorded it."""
    with built() as guardian:
        consents = guardian.consent.consents_of(customer_id)
    if output == "json":
        print(orjson.dumps(consents.as_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    data = consents.as_dict()
    state = Table(*_columns("purpose", "granted", "since", "source"),
                  title=f"consent of {escape(consents.customer_id)}")
    for row in data["consents"]:
        state.add_row(row["purpose"], "[green]yes[/]" if row["granted"] else "[red]no[/]",
                      row["at"] or "-", escape(row["source"] or "-"))
    console.print(state)
    history = Table(*_columns("at", "purpose", "granted", "source", "recorded by", "key",
                              "recorded at"), title="history")
    for c in data["history"]:
        history.add_row(c["at"], c["purpose"], "yes" if c["granted"] else "no",
                        escape(c["source"]), escape(c["recorded_by"]), c["key_id"] or "-",
                        c["recorded_at"])
    console.print(history)


def _columns(*names: str) -> list[Column]:
    # Folded, never cut with an ellipsis: every value of the history must be readable whole.
    return [Column(name, overflow="fold") for name in names]

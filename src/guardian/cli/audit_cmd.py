"""``guardian audit``: set the index up, ship the journal, verify the trail, search it.

``init`` applies the index design (idempotent: a second run says nothing changed); ``ship``
drains the journal into the index once (for when no server runs); ``verify`` re-walks the
chain from the journal or from the index and checks every checkpoint signature, with a
progress bar on long runs; ``search`` is the auditors' search of ``GET /v1/audit/events``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from guardian.audit.verify import ChainReport
from guardian.cli.common import fail, settings_from
from guardian.errors import GuardianError

app = typer.Typer(no_args_is_help=True, help="Set up, ship, verify and search the audit trail.")
console = Console(soft_wrap=True)


class Source(StrEnum):
    JOURNAL = "journal"
    INDEX = "index"
    OPENSEARCH = "opensearch"


@contextmanager
def _guardian_errors() -> Iterator[None]:
    try:
        yield
    except GuardianError as exc:
        fail(f"{exc.code}: {exc.message}")


@app.command()
def init() -> None:
    """Create or update the index template, write alias, ISM policy and checkpoint index."""
    from guardian.bootstrap import build_audit_index

    settings = settings_from()
    with _guardian_errors():
        index = build_audit_index(settings)
        try:
            report = index.setup()
        finally:
            index.close()
    for step in report.steps:
        colour = {"created": "green", "updated": "yellow", "absent": "red"}.get(
            step.outcome.value, "dim")
        detail = f" — {escape(step.detail)}" if step.detail else ""
        console.print(f"  [{colour}]{step.outcome.value:9}[/] {escape(step.name)}{detail}")
    for note in report.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    if report.changed:
        console.print(f"[green]audit index ready[/] ({report.index})")
    else:
        console.print(f"nothing changed: the {report.index} audit index was already set up")


@app.command()
def ship(
    max_wait: Annotated[float, typer.Option(help="Seconds to keep retrying a failing index")]
    = 60.0,
) -> None:
    """Ship everything in the journal to the index now (when no server is running)."""
    from guardian.bootstrap import build_shipping

    settings = settings_from()
    with _guardian_errors():
        shipping = build_shipping(settings)
        try:
            result = shipping.trail.shipper.drain(max_wait_s=max_wait)
            stats = shipping.trail.shipper.stats()
        finally:
            shipping.close()
    console.print(f"shipped {result.shipped:,} event(s); index at seq {stats['shipped_seq']} "
                  f"of {stats['journal_seq']}, journal {stats['journal_bytes']:,} bytes "
                  f"({stats['trimmed_bytes_total']:,} trimmed)")
    for conflict in result.conflicts:
        console.print(f"[red]conflict[/] at seq {conflict.seq}: {escape(conflict.detail)} "
                      "(a different document holds it: tamper signal)")
    if result.held is not None:
        console.print(f"[red]held[/] at seq {result.held[0]}: {escape(result.held[1])}")
    if result.held is not None or result.conflicts:
        raise typer.Exit(1)


@app.command()
def verify(
    source: Annotated[Source, typer.Option(help="Walk the local journal or the audit index")]
    = Source.JOURNAL,
    journal: Annotated[Path | None, typer.Option(help="Journal file (default: from settings)")]
    = None,
    public_key: Annotated[list[Path] | None, typer.Option(
        help="Trusted public key (PEM); repeat for rotated keys. Default: the configured one")]
    = None,
    expect_seq: Annotated[int | None, typer.Option(
        help="The trail must reach this event (e.g. the last one you verified)")] = None,
) -> None:
    """Check every event's hash, link and place, and every checkpoint's signature; name the
    first event modified, removed, inserted or reordered, a replaced checkpoint or a cut tail."""
    from guardian.adapters.key_files import read_public_keys
    from guardian.audit.checkpoints import CheckpointVerifier, load_public_pem
    from guardian.audit.ship_state import load_state, state_path
    from guardian.audit.verification import verify_index, verify_journal
    from guardian.bootstrap import build_audit_index, build_checkpoint_signer

    settings = settings_from()
    with _guardian_errors():
        if public_key:
            keys = [load_public_pem(pem) for pem in read_public_keys(public_key)]
        else:
            keys = [build_checkpoint_signer(settings).public_key]
        verifier = CheckpointVerifier(keys)
        path = journal or settings.journal_file
        shipped = load_state(state_path(path)) if state_path(path).exists() else None
        with _progress(source is Source.JOURNAL and path.is_file()
                       and path.stat().st_size < 5_000_000) as tick:
            if source is Source.JOURNAL:
                if not path.is_file():
                    fail(f"no journal at {path}")
                report = verify_journal(path, verifier, shipped=shipped, progress=tick)
            else:
                if source is Source.OPENSEARCH and settings.audit_index != "opensearch":
                    fail("GUARDIAN_AUDIT_INDEX is not opensearch (use --source index)")
                index = build_audit_index(settings)
                try:
                    report = verify_index(index, verifier, shipped=shipped,
                                          expect_seq=expect_seq, progress=tick)
                finally:
                    index.close()
                mode = getattr(index, "walk_mode", None)
                if mode:
                    console.print(f"[dim]read with {mode}[/]")
    _print_report(report)


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[int], None]]:
    with Progress(TextColumn("verifying"), BarColumn(), TextColumn("{task.completed:,} events"),
                  TimeElapsedColumn(), console=console, transient=True,
                  disable=quiet) as progress:
        task = progress.add_task("verify", total=None)
        yield lambda n: progress.update(task, completed=n)


def _print_report(report: ChainReport) -> None:
    for note in report.notes:
        console.print(f"[dim]note: {escape(note)}[/]")
    if report.ok:
        last = report.last_seq if report.last_seq is not None else 0
        console.print(f"[green]chain intact[/]: {report.events:,} events, seq "
                      f"{report.first_seq or 0}..{last}, {report.checkpoints:,} checkpoint "
                      f"signature(s) verified, last hash {report.last_hash[:16]}…")
        return
    assert report.problem is not None
    where = f" (document {escape(report.doc_id)})" if report.doc_id else ""
    console.print(f"[red]chain broken[/] at {report.broken_at}: {report.problem.value}{where} — "
                  + escape(report.detail))
    console.print(f"{report.events:,} events verified before it.")
    raise typer.Exit(1)


@app.command()
def search(
    customer: Annotated[str | None, typer.Option(help="Customer id")] = None,
    user: Annotated[str | None, typer.Option(help="Employee (user id)")] = None,
    database: Annotated[str | None, typer.Option()] = None,
    category: Annotated[str | None, typer.Option()] = None,
    purpose: Annotated[str | None, typer.Option()] = None,
    decision: Annotated[str | None, typer.Option(help="permit or deny")] = None,
    reason: Annotated[str | None, typer.Option(help="Reason code, e.g. consent_missing")]
    = None,
    action: Annotated[str | None, typer.Option(help="event.action, e.g. session.failed")]
    = None,
    from_: Annotated[str | None, typer.Option("--from", help="ISO 8601 start (inclusive)")]
    = None,
    to: Annotated[str | None, typer.Option(help="ISO 8601 end (exclusive)")] = None,
    size: Annotated[int, typer.Option(help="Events per page")] = 50,
    cursor: Annotated[str | None, typer.Option(help="Next page (printed after a page)")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table")]
    = False,
) -> None:
    """Search the audit trail, newest first (the same search as GET /v1/audit/events)."""
    from guardian.audit.queries import AuditQuery, Cursor, iso_to_millis
    from guardian.bootstrap import build_audit_index

    settings = settings_from()
    with _guardian_errors():
        query = AuditQuery(
            customer_id=customer, user_id=user, database=database, category=category,
            purpose=purpose, decision=decision, reason=reason, action=action,
            since_ms=iso_to_millis(from_) if from_ else None,
            until_ms=iso_to_millis(to) if to else None,
            after=Cursor.decode(cursor) if cursor else None, size=size)
        index = build_audit_index(settings)
        try:
            page = index.search(query)
        finally:
            index.close()
    if as_json:
        for event in page.events:
            print(orjson.dumps(event).decode())
    else:
        table = Table("time", "seq", "action", "user", "decision", "data", "purpose",
                      "customers", "reasons")
        for e in page.events:
            g = e.get("guardian", {})
            table.add_row(*(escape(str(v)) for v in (
                e.get("@timestamp", ""), g.get("seq", ""), e.get("event", {}).get("action", ""),
                e.get("user", {}).get("id", ""), g.get("decision", ""),
                f"{g.get('database', '')}/{g.get('category', '')}".strip("/"),
                g.get("purpose", ""), ", ".join(g.get("customer_ids", [])),
                ", ".join(g.get("reasons", [])))))
        console.print(table)
    if page.next_cursor is not None:
        console.print(f"more: --cursor {page.next_cursor.encode()}", highlight=False)

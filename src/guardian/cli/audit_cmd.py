"""``guardian audit``: set the index up, ship the journal, verify the trail, search it.

``init`` applies the index design (idempotent: a second run says nothing changed); ``ship``
drains the journal into the index once (for when no server runs); ``verify`` re-walks the
chain from the journal or from the index and checks every checkpoint signature against the
auditors' pinned keys only (a trust file), compares with a witness's copy of the checkpoints,
with a progress bar on long runs; ``search`` is the auditors' search of
``GET /v1/audit/events``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from guardian.audit.verdict import ChainReport, TrailVerdict
from guardian.audit.writers import label
from guardian.cli.common import err, fail, settings_from
from guardian.cli.output import Column, Output, OutputOption, Page, render
from guardian.config import Settings
from guardian.errors import GuardianError

if TYPE_CHECKING:
    from guardian.audit.checkpoints import CheckpointVerifier
    from guardian.journal.ship_state import ShipState
    from guardian.journal.verification import ExpectSeq
    from guardian.journal.witness import WitnessCopy

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
def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would go; change nothing")]
    = False,
) -> None:
    """Delete the trail past GUARDIAN_AUDIT_RETENTION_DAYS where ISM does not (rolling the
    OpenSearch write alias over when due); each deletion is journalled first. The journal must
    be free (``guardian serve`` runs this job daily itself)."""
    from guardian.cli.common import built

    with built() as guardian:
        if guardian.retention is None:
            fail("this audit index has no retention job")
        guardian.audit.shipper.drain(max_wait_s=30.0)  # the index holds what is journalled
        result = guardian.retention.apply(dry_run=dry_run)
        if not dry_run:
            guardian.audit.shipper.drain(max_wait_s=30.0)  # and the retention events
    if result.managed_by is not None:
        console.print(f"nothing to do: {result.managed_by} enforces retention on this index")
        return
    verb = "would" if dry_run else "did"
    if result.rolled_over:
        console.print(f"rollover: {verb} roll {escape(result.rolled_over)} over")
    for r in result.removals:
        console.print(f"{'would delete' if dry_run else 'deleted'} {escape(r.target)}: "
                      f"{r.events:,} event(s), seq {r.first_seq}..{r.last_seq}")
    if not result.removals:
        console.print(f"nothing past retention (cutoff {result.cutoff})")


UNVERIFIED_EXIT = 3
"""``audit verify``: the chain holds together, but no signature was checked against a pinned
key, so nothing says it is the trail this deployment signed."""


@app.command()
def verify(
    source: Annotated[Source, typer.Option(help="Walk the local journal or the audit index")]
    = Source.JOURNAL,
    journal: Annotated[Path | None, typer.Option(help="Journal file (default: from settings)")]
    = None,
    trust: Annotated[list[Path] | None, typer.Option(
        "--trust", "--public-key",
        help="Trust file of pinned public keys (PEM, `guardian keys public`); repeatable. "
        "Default: GUARDIAN_AUDIT_TRUST_FILE")] = None,
    trust_demo_key: Annotated[bool, typer.Option(
        "--trust-demo-key", help="Demo mode only: trust the demo's public signing key")]
    = False,
    witness: Annotated[str | None, typer.Option(
        help="Compare with a witness: a JSON Lines file of the checkpoints it received, or "
        "`index` for the index's checkpoint stream")] = None,
    expect_seq: Annotated[list[str] | None, typer.Option(
        help="The trail must reach this event (e.g. the last one you verified): SEQ for a "
        "trail of one chain, WRITER=SEQ per writer otherwise; repeatable")] = None,
) -> None:
    """Check every event's hash, link and place, and every checkpoint's signature against the
    pinned keys; name the first event modified, removed, inserted or reordered, a replaced
    checkpoint or a cut tail. Exit 0: intact and signed with pinned keys; 1: broken; 3: the
    chain holds but no signature was checked against a pinned key."""
    from guardian.journal.files import journals_of
    from guardian.journal.ship_state import load_state, state_path

    settings = settings_from()
    with _guardian_errors():
        verifier = _trusted(settings, trust, trust_demo_key)
        expected = _expected_seqs(expect_seq or [])
        paths = [journal] if journal is not None else journals_of(settings.audit.journal_file)
        shipped = [load_state(state_path(p)) for p in paths if state_path(p).exists()]
        if source is Source.JOURNAL and not any(p.is_file() for p in paths):
            fail(f"no journal at {paths[0] if paths else settings.audit.journal_file}")
        if source is Source.OPENSEARCH and settings.audit.index != "opensearch":
            fail("GUARDIAN_AUDIT_INDEX is not opensearch (use --source index)")
        copy = _witness_copy(settings, witness, verifier)
        small = sum(p.stat().st_size for p in paths if p.is_file()) < 5_000_000
        with _progress(source is Source.JOURNAL and small) as tick:
            if source is Source.JOURNAL:
                report = _verify_journals(paths, verifier, expected, copy, tick)
            else:
                report = _verify_index(settings, verifier, shipped, expected, copy, tick)
    if copy is not None:
        for note in copy.notes:
            console.print(f"[dim]note: {escape(note)}[/]")
    _print_verdict(report, trusted=verifier is not None)
    if verifier is None:
        raise typer.Exit(UNVERIFIED_EXIT)


def _expected_seqs(given: list[str]) -> ExpectSeq:
    """``--expect-seq``: one bare SEQ, or WRITER=SEQ per writer."""
    if not given:
        return None
    per_writer: dict[str, int] = {}
    for item in given:
        writer, _, seq = item.rpartition("=")
        if not seq.isdigit() or (not writer and len(given) > 1):
            fail(f"--expect-seq {item!r}: give SEQ, or WRITER=SEQ for each writer")
        if not writer:
            return int(seq)
        per_writer[writer] = int(seq)
    return per_writer


def _verify_journals(
    paths: list[Path], verifier: CheckpointVerifier | None, expected: ExpectSeq,
    copy: WitnessCopy | None, tick: Callable[[int], None],
) -> TrailVerdict:
    """Each journal (one writer's chain each) walked on its own."""
    from guardian.journal.ship_state import load_state, state_path
    from guardian.journal.verification import journal_writer, verify_journal

    reports: list[ChainReport] = []
    for path in paths:
        writer = journal_writer(path)
        seq: int | None = None
        if isinstance(expected, Mapping):
            seq = expected.get(writer)
        elif expected is not None:
            if len(paths) > 1:
                fail("several journals (one per worker): give --expect-seq as WRITER=SEQ")
            seq = expected
        state = state_path(path)
        reports.append(verify_journal(path, verifier, shipped=load_state(state)
                                      if state.exists() else None, expect_seq=seq,
                                      witness=copy, progress=tick))
    return TrailVerdict(tuple(reports))


def _trusted(
    settings: Settings, trust: list[Path] | None, demo_key: bool
) -> CheckpointVerifier | None:
    """The pinned keys (never one derived from this host's secret key, except the demo's when
    asked explicitly), or ``None``: signatures are then not checked against anything."""
    from guardian.audit.checkpoints import CheckpointVerifier
    from guardian.bootstrap import build_checkpoint_signer, read_trust_files

    files = list(trust or ([settings.audit.trust_file] if settings.audit.trust_file else []))
    keys = read_trust_files(files) if files else []
    if demo_key:
        if not settings.demo:
            fail("--trust-demo-key is for demo mode only: outside it, pin the deployment's "
                 "public key in a trust file (--trust)")
        err.print("[yellow]warning:[/] trusting the demo's public signing key: anyone can sign "
                  "with it, so this says nothing about who wrote the trail")
        keys.append(build_checkpoint_signer(settings).public_key)
    if not keys:
        err.print("[yellow]warning:[/] no trust file (--trust or GUARDIAN_AUDIT_TRUST_FILE): "
                  "checkpoint signatures are NOT checked against pinned keys, so this cannot "
                  "say the trail is authentic")
        return None
    return CheckpointVerifier(keys)


def _witness_copy(
    settings: Settings, witness: str | None, verifier: CheckpointVerifier | None
) -> WitnessCopy | None:
    from guardian.bootstrap import build_audit_index
    from guardian.journal.verification import index_witness
    from guardian.journal.witness import read_witness_lines, witness_points

    if witness is None:
        return None
    if witness == "index":
        index = build_audit_index(settings)
        try:
            return index_witness(index, verifier)
        finally:
            index.close()
    path = Path(witness)
    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(f"cannot read the witness file {path}: {exc.strerror}")
    return witness_points(read_witness_lines(data, f"the witness file {path}"), verifier,
                          f"the witness file {path}")


def _verify_index(
    settings: Settings, verifier: CheckpointVerifier | None, shipped: list[ShipState],
    expect_seq: ExpectSeq, copy: WitnessCopy | None, tick: Callable[[int], None],
) -> TrailVerdict:
    from guardian.bootstrap import build_audit_index
    from guardian.journal.verification import verify_index

    index = build_audit_index(settings)
    try:
        report = verify_index(index, verifier, shipped=shipped, expect_seq=expect_seq,
                              witness=copy, progress=tick)
    finally:
        index.close()
    mode = getattr(index, "walk_mode", None)
    if mode:
        console.print(f"[dim]read with {mode}[/]")
    return report


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[int], None]]:
    with Progress(TextColumn("verifying"), BarColumn(), TextColumn("{task.completed:,} events"),
                  TimeElapsedColumn(), console=console, transient=True,
                  disable=quiet) as progress:
        task = progress.add_task("verify", total=None)
        yield lambda n: progress.update(task, completed=n)


def _print_verdict(verdict: TrailVerdict, *, trusted: bool) -> None:
    """Every writer's chain, one after the other; exit 1 naming the writer of any break."""
    broken = 0
    for report in verdict.chains:
        try:
            _print_report(report, trusted=trusted, named=len(verdict.chains) > 1
                          or bool(report.writer))
        except typer.Exit:
            broken += 1
    if not verdict.chains:
        console.print("[yellow]the trail holds no event[/]")
    if len(verdict.chains) > 1:
        console.print(f"{len(verdict.chains)} chains (one per writer), "
                      f"{verdict.events:,} events, {broken} broken")
    if broken:
        raise typer.Exit(1)


def _print_report(report: ChainReport, *, trusted: bool, named: bool = False) -> None:
    who = f"writer {escape(label(report.writer))}: " if named else ""
    for note in report.notes:
        console.print(f"[dim]note: {who}{escape(note)}[/]")
    for use in report.keys:
        console.print(f"{who}checkpoint key {escape(use.key_id)}: {use.checkpoints:,} "
                      f"checkpoint(s), seq {use.first_seq}..{use.last_seq}")
    if report.ok:
        last = report.last_seq if report.last_seq is not None else 0
        if not trusted:
            console.print(f"{who}[yellow]chain holds together, NOT authenticated[/]: "
                          f"{report.events:,} events, seq {report.first_seq or 0}..{last}; "
                          "signatures were not checked against pinned keys (give --trust)")
            return
        console.print(f"{who}[green]chain intact[/]: {report.events:,} events, seq "
                      f"{report.first_seq or 0}..{last}, {report.checkpoints:,} checkpoint "
                      f"signature(s) verified with pinned keys, last hash "
                      f"{report.last_hash[:16]}…")
        return
    assert report.problem is not None
    where = f" (document {escape(report.doc_id)})" if report.doc_id else ""
    writer = f" in the chain of writer {escape(label(report.writer))}" if named else ""
    console.print(f"{who}[red]chain broken[/] at {report.broken_at}: {report.problem.value}"
                  f"{where}{writer} — " + escape(report.detail))
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
    output: OutputOption = Output.TABLE,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Each event whole, every field, as JSON lines")] = False,
    actor: Annotated[str, typer.Option(help="Who searches, for the audit trail")] = "cli",
) -> None:
    """Search the audit trail, newest first (the same search as GET /v1/audit/events, and
    journalled like it; through the running server, as the person signed in, if one runs)."""
    from guardian.audit.trail_reads import trail_query
    from guardian.cli.common import built
    from guardian.cli.remote import remote

    filters = {"customer": customer, "user": user, "database": database, "category": category,
               "purpose": purpose, "decision": decision, "reason": reason, "action": action,
               "from": from_, "to": to, "cursor": cursor}
    with _guardian_errors():
        query = trail_query(
            customer=customer, user=user, database=database, category=category,
            purpose=purpose, decision=decision, reason=reason, action=action, since=from_,
            until=to, cursor=cursor, size=size)
    server = remote()
    if server is not None:  # the server journals the search, as the person signed in
        params = {k: v for k, v in filters.items() if v is not None} | {"size": str(size)}
        answer = server.call("GET", f"/v1/audit/events?{urlencode(params)}")
        events, cursor_next = list(answer["events"]), answer.get("next_cursor")
    else:
        with built() as guardian:
            page = guardian.trail.search(actor, query)
        events = list(page.events)
        cursor_next = page.next_cursor.encode() if page.next_cursor is not None else None
    if as_json:
        for event in events:
            print(orjson.dumps(event).decode())
        if cursor_next is not None:
            err.print(f"more: --cursor {cursor_next}", highlight=False, soft_wrap=True)
        return
    render([event_row(e) for e in events], EVENT_COLUMNS, output,
           page=Page("events", cursor_next), empty="no event matches")


EVENT_COLUMNS = (
    Column("time", whole=True), Column("seq", whole=True), Column("action"),
    Column("user"), Column("decision", styles={"permit": "green", "deny": "red"}),
    Column("data", in_data=False), Column("database", in_table=False),
    Column("category", in_table=False), Column("purpose"), Column("customers"),
    Column("reasons"), Column("decision_id", in_table=False),
)


def event_row(event: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an audit event that a listing shows (``--json`` gives them all)."""
    g = event.get("guardian", {})
    database, category = g.get("database"), g.get("category")
    return {
        "time": event.get("@timestamp"), "seq": g.get("seq"),
        "action": event.get("event", {}).get("action"), "user": event.get("user", {}).get("id"),
        "decision": g.get("decision"), "database": database, "category": category,
        "data": "/".join(p for p in (database, category) if p) or None,
        "purpose": g.get("purpose"), "customers": g.get("customer_ids", []),
        "reasons": g.get("reasons", []), "decision_id": g.get("decision_id"),
    }

"""``guardian report customer ID``: who accessed a customer's data (GDPR right of access);
``guardian report periodic`` and ``report list``: the signed periodic reports and their archive.

The same report as ``GET /v1/customers/{id}/access-report`` (the same use case, journalled
the same way), as JSON (default) or as a readable HTML page, on standard output or into a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

import orjson
import typer
from rich.console import Console

from guardian.cli.common import fail, settings_from
from guardian.cli.output import Column, Output, OutputOption, Page, render
from guardian.clock import iso_utc
from guardian.errors import GuardianError

app = typer.Typer(no_args_is_help=True, help="Reports from the audit trail.")
console = Console(stderr=True, soft_wrap=True)


@app.command()
def customer(
    customer_id: Annotated[str, typer.Argument(help="The customer, e.g. C-1001")],
    from_: Annotated[str | None, typer.Option("--from", help="ISO 8601 start (inclusive)")]
    = None,
    to: Annotated[str | None, typer.Option(help="ISO 8601 end (exclusive)")] = None,
    format_: Annotated[Literal["json", "html"], typer.Option("--format")] = "json",
    out: Annotated[Path | None, typer.Option(help="Write to this file")] = None,
    actor: Annotated[str, typer.Option(help="Who asks, for the audit trail")] = "cli",
) -> None:
    """Who accessed this customer's data, when, which categories, for which purpose
    (journalled like the HTTP report; through the running server, if one runs)."""
    from guardian.cli.common import built
    from guardian.cli.remote import remote
    from guardian.reports.render import customer_report_html

    server = remote()
    if server is not None:  # the server journals the report, as the person signed in
        params = {k: v for k, v in (("from", from_), ("to", to), ("format", format_)) if v}
        text = server.fetch(f"/v1/customers/{quote(customer_id, safe='')}/access-report?"
                            f"{urlencode(params)}").decode("utf-8")
        summary = "the report"
    else:
        with built() as guardian:
            report = guardian.customer_reports.produce(actor, customer_id, from_, to)
        text = customer_report_html(report) if format_ == "html" else \
            orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode()
        summary = f"{len(report.accesses)} access(es) by {len(report.people)} person(s)"
    if out is None:
        print(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"{summary} written to {out}")


@app.command()
def periodic(
    from_: Annotated[str, typer.Option("--from", help="Start of the period, ISO 8601 (inclusive)")],
    to: Annotated[str, typer.Option(help="End of the period, ISO 8601 (exclusive)")],
    format_: Annotated[Literal["json", "html", "csv", "pdf"], typer.Option("--format")] = "json",
    out: Annotated[Path | None, typer.Option(help="Write to this file (csv: a ZIP)")] = None,
    actor: Annotated[str, typer.Option(help="Who asks, for the audit trail")] = "cli",
) -> None:
    """Produce, sign and archive the periodic audit report of a period (journalled, like
    ``POST /v1/reports``; the journal must be free: while a server holds it, use the API)."""
    from guardian.cli.common import built
    from guardian.reports import periodic_render as render

    if out is None and format_ in ("csv", "pdf"):
        fail(f"{format_} is binary: give --out FILE")
    with built() as guardian:
        guardian.audit.shipper.drain(max_wait_s=10.0)  # the report sees what is journalled
        report = guardian.reports.produce(actor, "periodic", from_, to)
        doc = orjson.loads(report.body)
        data: bytes
        if format_ == "json":
            data = report.body
        elif format_ == "csv":
            data = render.csv_zip(doc)
        else:
            html = render.periodic_html(doc)
            if format_ == "html":
                data = html.encode("utf-8")
            else:
                from guardian.bootstrap import html_to_pdf

                data = html_to_pdf(html)
    if out is None:
        print(data.decode("utf-8"))
    else:
        out.write_bytes(data)
    d = doc["decisions"]
    console.print(f"report {report.id} ({d['total']} decisions, {d['denies']} denied), sha256 "
                  f"{report.sha256}" + (f", written to {out}" if out else ""))


REPORT_COLUMNS = (
    Column("id", whole=True), Column("kind"), Column("from", whole=True),
    Column("to", whole=True), Column("created_at", "created", whole=True),
    Column("created_by", "by"), Column("sha256", whole=True),
)


@app.command("list")
def list_(
    limit: Annotated[int, typer.Option(help="Reports per page (1-100)")] = 50,
    cursor: Annotated[str | None, typer.Option(help="Next page (printed after a page)")]
    = None,
    output: OutputOption = Output.TABLE,
) -> None:
    """The archive of signed periodic reports, newest first (as ``GET /v1/reports``)."""
    from guardian.cli.common import built

    if not 1 <= limit <= 100:
        fail("--limit must be between 1 and 100")
    with built() as guardian:
        page = guardian.reports.list(cursor, limit + 1)
    more = len(page) > limit
    page = page[:limit]
    rows = [{"id": r.id, "kind": r.kind, "from": r.period_from, "to": r.period_to,
             "created_at": iso_utc(r.created_at), "created_by": r.created_by,
             "sha256": r.sha256} for r in page]
    render(rows, REPORT_COLUMNS, output, empty="no report archived yet",
           page=Page("reports", page[-1].id if more and page else None))


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="A downloaded JSON report")],
    public_key: Annotated[Path | None, typer.Option(
        help="The audit public key (PEM, from `guardian keys public`). Default: the "
             "configured key's")] = None,
) -> None:
    """Check a JSON report's SHA-256 and signature; exit 1 if either does not match."""
    from guardian.audit.checkpoints import load_public_pem
    from guardian.bootstrap import build_checkpoint_signer
    from guardian.reports.signing import verify_report

    try:
        doc = orjson.loads(file.read_bytes())
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        key = load_public_pem(public_key.read_bytes()) if public_key else \
            build_checkpoint_signer(settings_from()).public_key
    except (OSError, ValueError) as exc:
        fail(f"cannot read {file if public_key is None else public_key}: {exc}")
    except GuardianError as exc:
        fail(f"{exc.code}: {exc.message}")
    problem = verify_report(doc, key)
    if problem is not None:
        console.print(f"[red]NOT VERIFIED[/]: {problem}")
        raise typer.Exit(1)
    what = (f"campaign {doc['campaign'].get('id')}" if isinstance(doc.get("campaign"), dict)
            else str(doc.get("period")))
    console.print(f"[green]verified[/]: report {doc.get('id')} of {what} "
                  f"sha256 {doc.get('sha256')}")

"""``guardian report customer ID``: who accessed a customer's data (GDPR right of access).

The same report as ``GET /v1/customers/{id}/access-report``, read from the configured audit
index, as JSON (default) or as a readable HTML page, on standard output or into a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import orjson
import typer
from rich.console import Console

from guardian.cli.common import fail, settings_from
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
) -> None:
    """Who accessed this customer's data, when, which categories, for which purpose."""
    from guardian.audit.queries import iso_to_millis
    from guardian.bootstrap import build_audit_index
    from guardian.clock import SystemClock
    from guardian.reports.customer_access import build_report, customer_events
    from guardian.reports.render import customer_report_html

    settings = settings_from()
    try:
        index = build_audit_index(settings)
        try:
            events = customer_events(index, customer_id,
                                     iso_to_millis(from_) if from_ else None,
                                     iso_to_millis(to) if to else None)
            report = build_report(customer_id, events, period_from=from_, period_to=to,
                                  now=SystemClock().now())
        finally:
            index.close()
    except GuardianError as exc:
        fail(f"{exc.code}: {exc.message}")
    text = customer_report_html(report) if format_ == "html" else \
        orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode()
    if out is None:
        print(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"{len(report.accesses)} access(es) by {len(report.people)} person(s) "
                      f"written to {out}")

"""``guardian grants``: temporary grants of a role (``create``, ``list``, ``revoke``).

The same use cases as ``POST/GET/DELETE /v1/grants``, with the same refusals (their codes are
printed, exit 2). Granting and revoking are audit events: while a server runs (it holds the
journal) these commands go through its API as the person signed in with ``guardian login``
(``--actor`` is then that person); without one they act locally.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

import orjson
import typer
from rich.console import Console
from rich.markup import escape

from guardian.cli.common import built, fail
from guardian.cli.output import Column, Output, OutputOption, render
from guardian.cli.remote import instant, remote
from guardian.clock import iso_utc
from guardian.governance.grants import GrantRequest
from guardian.governance.model import TemporaryGrant

app = typer.Typer(no_args_is_help=True, help="Temporary grants of a role: give, list, revoke.")
console = Console(soft_wrap=True)
Actor = Annotated[str, typer.Option("--actor", help="Who does this, for the audit trail")]
OneGrant = Annotated[Literal["table", "json"], typer.Option(
    "--output", "-o", help="table (a sentence) | json (the grant)")]
GRANT_COLUMNS = (
    Column("id", whole=True), Column("uid", "user"), Column("role"),
    Column("starts_at", "from", whole=True), Column("expires_at", "until", whole=True),
    Column("granted_by", "by"), Column("justification"),
    Column("state", styles={"active": "green", "revoked": "red", "expired": "dim"}),
    Column("revoked_at", in_table=False), Column("revoked_by", in_table=False),
    Column("revoke_reason", in_table=False),
)


def _instant(value: str, option: str) -> float:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: not an ISO 8601 time: {value!r}")
    if parsed.tzinfo is None:
        fail(f"{option}: give a time zone, e.g. {value}Z or {value}+01:00")
    return parsed.timestamp()


def _print_json(payload: object) -> None:
    print(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())


def _state(grant: TemporaryGrant, now: float) -> str:
    if grant.revoked:
        return "revoked"
    if now >= grant.expires_at:
        return "expired"
    return "active" if now >= grant.starts_at else "scheduled"


@app.command()
def create(
    uid: Annotated[str, typer.Argument(help="Who receives the role, e.g. bob")],
    role: Annotated[str, typer.Argument(help="A role of the policy with data access")],
    justification: Annotated[str, typer.Option("--justification", "-j", help="Why")],
    expires_in: Annotated[str | None, typer.Option(help="How long, e.g. 8h, 2d")] = None,
    expires_at: Annotated[str | None, typer.Option(help="Until, ISO 8601 with a zone")] = None,
    starts_at: Annotated[str | None, typer.Option(help="From, ISO 8601 (default: now)")] = None,
    actor: Actor = "cli",
    output: OneGrant = "table",
) -> None:
    """Grant a role to someone for a while (at most GUARDIAN_GRANT_MAX_S from now)."""
    from guardian.bootstrap import parse_duration
    from guardian.clock import SystemClock

    if (expires_in is None) == (expires_at is None):
        fail("give exactly one of --expires-in and --expires-at")
    starts = _instant(starts_at, "--starts-at") if starts_at is not None else None
    if expires_in is not None:
        try:
            ends = (starts or SystemClock().now()) + float(parse_duration(expires_in) or 0)
        except ValueError as exc:
            fail(f"--expires-in: {exc}")
    else:
        ends = _instant(str(expires_at), "--expires-at")
    server = remote()
    if server is not None:
        body = {"uid": uid, "role": role, "expires_at": iso_utc(ends),
                "justification": justification}
        if starts is not None:
            body["starts_at"] = iso_utc(starts)
        shown = server.call("POST", "/v1/grants", body)
    else:
        with built() as guardian:
            shown = guardian.grants.grant(actor, GrantRequest(
                uid=uid, role=role, expires_at=ends, justification=justification,
                starts_at=starts)).as_dict()
    if output == "json":
        _print_json(shown)
        return
    console.print(f"[green]granted[/] {escape(shown['role'])} to {escape(shown['uid'])} until "
                  f"{shown['expires_at']} (grant {shown['id']})")


@app.command("list")
def list_(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this person's")] = None,
    output: OutputOption = Output.TABLE,
) -> None:
    """Temporary grants, past and present, revoked ones included.

    State: scheduled, active, expired or revoked; json and csv add who revoked it, when
    and why."""
    from guardian.clock import SystemClock

    server = remote()
    if server is not None:
        query = f"?{urlencode({'uid': user})}" if user else ""
        now = SystemClock().now()
        rows = [dict(g) | {"state": _shown_state(g, now)}
                for g in server.call("GET", f"/v1/grants{query}")["grants"]]
    else:
        with built() as guardian:
            grants = guardian.grants.list(user)
            now = guardian.clock.now()
        rows = [g.as_dict() | {"state": _state(g, now)} for g in grants]
    render(rows, GRANT_COLUMNS, output, empty="no grants")


def _shown_state(grant: dict[str, Any], now: float) -> str:
    """:func:`_state` of a grant as the API shows it (ISO 8601 instants)."""
    if grant.get("revoked_at"):
        return "revoked"
    if now >= instant(str(grant["expires_at"])):
        return "expired"
    return "active" if now >= instant(str(grant["starts_at"])) else "scheduled"


@app.command()
def revoke(
    grant_id: Annotated[str, typer.Argument(help="The grant's id, from `guardian grants list`")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it ends now")],
    actor: Actor = "cli",
    output: OneGrant = "table",
) -> None:
    """End a grant now: it counts in no decision from then on."""
    server = remote()
    if server is not None:
        shown = server.call("DELETE", f"/v1/grants/{quote(grant_id, safe='')}",
                            {"reason": reason})
    else:
        with built() as guardian:
            shown = guardian.grants.revoke(actor, grant_id, reason).as_dict()
    if output == "json":
        _print_json(shown)
        return
    console.print(f"[green]revoked[/] grant {shown['id']} ({escape(shown['role'])} of "
                  f"{escape(shown['uid'])})")

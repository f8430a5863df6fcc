"""``guardian``: serve the API, check a decision, test and lint the policy, verify the audit trail.

Exit codes: 0 success (or permit), 1 a check failed (deny, test failure, lint finding, broken
chain), 2 usage or configuration error.
"""

from __future__ import annotations

import os
import socket
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from guardian.cli import (
    audit_cmd,
    consent_cmd,
    db_cmd,
    demo_cmd,
    directory_cmd,
    grants_cmd,
    keys_cmd,
    login_cmd,
    mfa_cmd,
    policy_cmd,
    report_cmd,
    review_cmd,
)
from guardian.cli.common import fail, settings_from
from guardian.cli.output import Column, Output, OutputOption, render
from guardian.config import Settings
from guardian.errors import GuardianError

if TYPE_CHECKING:
    from guardian.api.decision_route import GuardianAPI
    from guardian.api.server import DeadlineHttpToolsProtocol

app = typer.Typer(
    name="guardian", no_args_is_help=True, add_completion=True,
    help="Who may touch customer personal data, and the proof of every access.",
)
app.add_typer(policy_cmd.app, name="policy")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(directory_cmd.app, name="directory")
app.add_typer(db_cmd.app, name="db")
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(grants_cmd.app, name="grants")
app.add_typer(mfa_cmd.app, name="mfa")
app.add_typer(report_cmd.app, name="report")
app.add_typer(consent_cmd.app, name="consent")
app.add_typer(review_cmd.app, name="review")
app.add_typer(demo_cmd.app, name="demo")
app.command()(login_cmd.login)
app.command()(login_cmd.logout)
console = Console(soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        print(f"guardian {package_version('guardian')}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the installed version and exit")] = False,
) -> None:
    """Who may touch customer personal data, and the proof of every access.

    Shell completion: `guardian --install-completion` (bash, zsh, fish, PowerShell), or
    `guardian --show-completion` to see the script. Listings take `--output table|json|csv`.
    """


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (demo: loopback only)")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Worker processes, each its own journal and chain (default: GUARDIAN_WORKERS, "
        "else 1)", min=1, max=64)] = None,
) -> None:
    """Start the HTTP API."""
    settings = settings_from(host=host, port=port, workers=workers)
    count = settings.workers or 1
    if count > 1:
        raise typer.Exit(_serve_workers(settings, count))
    _serve_one(settings)


def _serve_one(settings: Settings, sock: socket.socket | None = None) -> None:
    """One process serving: on its own port, or on ``sock`` as a worker."""
    import uvicorn

    from guardian.api import create_app
    from guardian.bootstrap import build, serving_state
    from guardian.logging import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    guardian = build(settings, prepare=True)  # the start-up steps, once
    if sock is not None:
        _tune_for_serving()
        app = create_app(guardian, close_on_shutdown=True)
        config = uvicorn.Config(app, log_level="warning", access_log=False,
                                http=_protocol(settings, app))
        try:
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            guardian.close()
        return
    _tune_for_serving()
    mode = "demo organisation, embedded defaults" if settings.demo else "production settings"
    console.print(f"[bold]Guardian[/] on http://{settings.host}:{settings.port} ({mode})")
    try:
        with serving_state(settings):
            app = create_app(guardian, close_on_shutdown=True)
            uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning",
                        access_log=False, http=_protocol(settings, app))
    finally:
        guardian.close()


def _protocol(settings: Settings, app: GuardianAPI) -> type[DeadlineHttpToolsProtocol]:
    """The connection protocol: the settings' deadlines, plain decision requests answered by
    ``app``'s decision route."""
    from guardian.api.server import DeadlineHttpToolsProtocol

    return DeadlineHttpToolsProtocol.with_timeouts(
        settings.request_head_timeout_s, settings.request_body_timeout_s, app.decision_route)


def _serve_workers(settings: Settings, count: int) -> int:
    """The supervisor of ``serve --workers`` (see :mod:`guardian.cli.workers`)."""
    from guardian.bootstrap import build, serving_state, upgrade, writer_base
    from guardian.cli import workers as w

    def prepare(journal_settings: Settings) -> int:
        # the demo's history, an earlier run's journal
        guardian = build(journal_settings, prepare=True)
        try:
            guardian.audit.shipper.drain(max_wait_s=60.0)
        finally:
            guardian.close()
        return 0

    def migrate() -> int:
        upgrade(settings)
        return 0

    if w.needs_preparing(settings):
        if w.wait_for(w.fork(lambda: prepare(settings))) != 0:
            console.print("[red]error:[/] preparing the journal failed")
            return 2
    elif w.wait_for(w.fork(migrate)) != 0:  # once, before N workers would race to it
        console.print("[red]error:[/] migrating the store failed")
        return 2
    base = writer_base(settings)
    for left in w.left_over(settings, base, count):  # journals of workers no longer run
        if w.wait_for(w.fork(lambda s=left: prepare(s))) != 0:  # type: ignore[misc]
            console.print(f"[red]error:[/] shipping {left.journal_file} failed")
            return 2
    try:
        held = w.hold_journal(settings.journal_file)
    except OSError as exc:
        console.print(f"[red]error:[/] {escape(str(exc.strerror or exc))}")
        return 2
    sockets = w.bind(settings.host, settings.port, count)
    bound = settings.model_copy(update={"port": int(sockets[0].getsockname()[1])})
    mode = "demo organisation, embedded defaults" if settings.demo else "production settings"
    console.print(f"[bold]Guardian[/] on http://{settings.host}:{bound.port} ({mode}), "
                  f"{count} workers")

    def start(k: int) -> int:
        def body() -> int:
            own = w.socket_of(sockets, k)
            for other in sockets:
                if other is not own:
                    other.close()
            _serve_one(w.worker_settings(bound, base, k), own)
            return 0

        return w.fork(body)

    try:
        with serving_state(bound):
            return w.Supervisor(count, start).run()
    finally:
        os.close(held)


def _tune_for_serving() -> None:
    """Keep latency flat under load (measured with bench/http_load.py, see docs/benchmarks.md).

    Everything built at start-up (policy index, directory, schemas) is moved out of the garbage
    collector's sight, and young collections run less often: full collections over that heap
    were pausing the loop for tens of milliseconds. A shorter GIL switch interval lets the
    journal's flusher thread hand back durable groups promptly while the loop is busy.
    """
    import gc
    import sys

    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    sys.setswitchinterval(0.0002)
    _return_freed_memory()


def _return_freed_memory() -> None:
    """Hand the heap freed by start-up (parsed files, build scratch) back to the system, where
    the C library allows it (glibc's ``malloc_trim``); elsewhere nothing happens."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        trim = getattr(libc, "malloc_trim", None)
    except OSError:
        return
    if trim is not None:
        trim(0)


@app.command()
def check(
    subject: Annotated[str, typer.Argument(help="User id, e.g. alice")],
    action: Annotated[str, typer.Argument(help="read | export | update | delete")],
    resource: Annotated[str, typer.Argument(help="database/category, e.g. crm/contact")],
    purpose: Annotated[str, typer.Option("--purpose", "-p", help="Why, e.g. customer-care")],
    customer: Annotated[list[str] | None, typer.Option("--customer", "-c")] = None,
    justification: Annotated[str | None, typer.Option("--justification", "-j")] = None,
    mfa_age: Annotated[str, typer.Option(help="Age of the second factor, e.g. 10m")] = "0s",
    no_mfa: Annotated[bool, typer.Option("--no-mfa", help="Password-only session")] = False,
    no_session: Annotated[bool, typer.Option("--no-session", help="No session at all")] = False,
) -> None:
    """What would be decided for this request (a what-if: nothing is recorded)."""
    from guardian.bootstrap import build_what_if, parse_duration
    from guardian.policy.model import DecisionRequest
    from guardian.policy.testing import PolicyCase, SessionSpec, run_case
    from guardian.policy.vocabulary import Action, Outcome

    database, _, category = resource.partition("/")
    try:
        request = DecisionRequest(subject, Action(action), database, category, purpose,
                                  tuple(customer or ()), justification=justification)
        age = float(parse_duration(mfa_age) or 0)
    except ValueError as exc:
        fail(str(exc))
    what_if = build_what_if(settings_from())
    case = PolicyCase("check", request, Outcome.PERMIT,
                      SessionSpec(present=not no_session, mfa=not no_mfa, mfa_age_s=age))
    decision = run_case(case, what_if.pipeline, what_if.signer, what_if.clock.now()).decision
    colour = "green" if decision.permitted else "red"
    console.print(f"[bold {colour}]{decision.outcome.value.upper()}[/] "
                  + escape(f"{subject} {action} {resource} for {purpose}"))
    for reason in decision.reasons:
        extra = f" ({', '.join(reason.customer_ids)})" if reason.customer_ids else ""
        console.print(f"  [{colour}]{reason.code.value}[/]: {escape(reason.message + extra)}")
    for ob in decision.obligations:
        console.print(f"  obligation: {ob.type} {', '.join(ob.fields)}")
    raise typer.Exit(0 if decision.permitted else 1)


USER_COLUMNS = (
    Column("uid", whole=True), Column("name"), Column("roles"), Column("type"),
    Column("supplier"), Column("contract_clause", "clause"), Column("manager", in_table=False),
    Column("status", styles={"active": "green", "disabled": "red"}),
)


@app.command()
def users(
    directory: Annotated[Path | None, typer.Option(help="Directory file")] = None,
    output: OutputOption = Output.TABLE,
) -> None:
    """List the directory: people, roles, type and status.

    Contractors show their supplier and whether it signed the data-protection clause."""
    from guardian.bootstrap import build_what_if

    settings = settings_from(directory_file=directory)
    rows = [{"uid": p.uid, "name": p.name, "roles": sorted(p.roles),
             "type": p.employee_type.value, "supplier": p.supplier,
             "contract_clause": p.contract_clause if p.is_contractor else None,
             "manager": p.manager, "status": "active" if p.active else "disabled"}
            for p in sorted(build_what_if(settings).directory.principals(), key=lambda p: p.uid)]
    render(rows, USER_COLUMNS, output, empty="the directory is empty")


def main() -> None:
    try:
        app()
    except ValidationError as exc:
        Console(stderr=True).print(f"[red]configuration error:[/] {escape(str(exc))}")
        raise SystemExit(2) from None
    except GuardianError as exc:
        Console(stderr=True).print(f"[red]{exc.code}:[/] {escape(exc.message)}")
        raise SystemExit(2) from None

"""``guardian mfa enroll USER``: give someone a TOTP authenticator, from the command line;
``guardian mfa invite USER``: an invitation with which they enrol one themselves.

Prints the provisioning URI, its QR code and the ten recovery codes (once), then asks for the
first code the authenticator shows; the seed is active only once that code is right. Without
it (``--no-activate``) the enrolment waits, and ``guardian mfa activate`` or the person
(``POST /v1/mfa/totp/activate``) finishes it. An invitation is a single-use code, shown once,
that the person signs in with (with their password) to enrol their first factor; it expires
after ``GUARDIAN_MFA_INVITATION_TTL_S``. Each step is an audit event, made by ``cli``. While a
server runs, ``invite`` goes through it as the officer signed in (``guardian login``);
``enroll`` and ``activate``, which have no HTTP equivalent for someone else, refuse then.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from guardian.bootstrap import Guardian
from guardian.cli.common import built, fail
from guardian.cli.remote import refuse_while_serving, remote
from guardian.clock import iso_utc
from guardian.errors import CodeMismatch

app = typer.Typer(no_args_is_help=True, help="Second factors: enrol TOTP authenticators.")
console = Console(soft_wrap=True)
User = Annotated[str, typer.Argument(help="The user's id in the directory")]
Code = Annotated[str | None, typer.Option("--code", help="First code (else asked for)")]


@app.command()
def enroll(
    user: User,
    code: Code = None,
    no_activate: Annotated[bool, typer.Option("--no-activate", help="Leave it pending")] = False,
) -> None:
    """Start a TOTP enrolment: URI, QR code and recovery codes, then the first code."""
    from guardian.bootstrap import terminal_qr

    refuse_while_serving(f"invite {user} instead (`guardian mfa invite {user}`): they enrol "
                         "their own authenticator with it")
    with built() as guardian:
        replacing = guardian.mfa.secrets.totp_secret(user) is not None
        provisioning = guardian.mfa.enrolment.start_totp(user, actor="cli")
        console.print(f"Scan this with {escape(user)}'s authenticator app, or enter the URI:")
        print(terminal_qr(provisioning.uri))
        print(provisioning.uri)
        console.print("\nRecovery codes (each works once in place of a code; shown only now):")
        for recovery in provisioning.recovery_codes:
            print(f"  {recovery}")
        if replacing:
            console.print("[yellow]activating this replaces the current authenticator[/]")
        if no_activate:
            console.print("pending: activate with `guardian mfa activate` or the API")
            return
        _activate(guardian, user, code or typer.prompt("First code from the authenticator"))


@app.command()
def invite(user: User) -> None:
    """Make a single-use invitation for USER to enrol their first second factor (through
    the running server as the officer signed in, if one runs)."""
    server = remote()
    if server is not None:
        answer = server.call("POST", "/v1/mfa/invitations", {"user": user})
        code, until = str(answer["code"]), str(answer["expires_at"])
    else:
        with built() as guardian:
            invitation = guardian.mfa.invitations.invite("cli", user)
        code, until = invitation.code, iso_utc(invitation.expires_at)
    console.print(f"Invitation for {escape(user)} (give it to them out of band; shown "
                  "only now):")
    print(f"  {code}")
    console.print(f"valid until {until}, once: they sign in with their password and this "
                  "code, then enrol an authenticator")


@app.command()
def activate(user: User, code: Code = None) -> None:
    """Activate a pending enrolment with the first code its authenticator shows."""
    refuse_while_serving(f"{user} activates it (`POST /v1/mfa/totp/activate`)")
    with built() as guardian:
        _activate(guardian, user, code or typer.prompt("First code from the authenticator"))


def _activate(guardian: Guardian, user: str, code: str) -> None:
    try:
        guardian.mfa.enrolment.activate_totp(user, code.strip(), actor="cli")
    except CodeMismatch as exc:
        fail(f"{exc.message}; the enrolment is still pending", code=1)
    console.print(f"[green]active[/]: {escape(user)} signs in with this authenticator from now on")

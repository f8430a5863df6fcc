"""``guardian login`` and ``guardian logout``: a person's session on the running server.

``login`` signs in with the user id, password and second factor (a TOTP code, asked for when
not given; the password is never an option's value shown in the process list unless given so)
through ``POST /v1/sessions``, and keeps the session token in the user's config folder, mode
0600, until it expires or ``logout`` forgets it. Administrative commands then go through the
server as that person (see :mod:`guardian.cli.remote`).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from guardian.cli.common import fail, settings_from
from guardian.cli.remote import instant
from guardian.errors import GuardianError
from guardian.ports import CliSession

console = Console(soft_wrap=True)


def login(
    user: Annotated[str, typer.Option("--user", "-u", prompt=True, help="Your user id")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          help="Your password (asked for when not given)")],
    code: Annotated[str, typer.Option("--code", prompt="Code from your authenticator",
                                      help="Your TOTP code (asked for when not given)")],
) -> None:
    """Sign in to the running Guardian server and keep the session for later commands."""
    from guardian.bootstrap import build_client

    client = build_client(settings_from())
    if client.server is None:
        fail("no Guardian server is running on this data folder: start `guardian serve`, or "
             "set GUARDIAN_URL to the server's address")
    try:
        answer = client.server.call("POST", "/v1/sessions", body={
            "user": user, "password": password, "otp": code.strip()})
    except GuardianError as exc:
        fail(f"{exc.code}: {exc.message}")
    session = CliSession(client.server.url, str(answer["user"]), str(answer["token"]),
                         instant(str(answer["expires_at"])))
    client.sessions.save(session)
    console.print(f"[green]signed in[/] as {escape(session.user)} on {client.server.url} until "
                  f"{answer['expires_at']}")


def logout() -> None:
    """Forget the session kept by ``guardian login``."""
    from guardian.bootstrap import build_client

    if build_client(settings_from()).sessions.clear():
        console.print("signed out: the session is forgotten")
    else:
        console.print("nobody was signed in")

"""``guardian demo``: help for newcomers trying the demo organisation (demo mode only).

``guardian demo totp nina`` prints the code nina's authenticator app would show now, so that
signing in to the console (``http://127.0.0.1:8000/console/``, password ``nina-demo-pass``)
needs no phone. The demo's seeds are public by design; outside demo mode the command refuses.
"""

from __future__ import annotations

import re
import time
from typing import Annotated

import typer
from rich.console import Console

from guardian.cli.common import fail, settings_from
from guardian.identity.demo_codes import demo_code

app = typer.Typer(no_args_is_help=True, help="Demo mode helpers: a demo person's TOTP code.")
console = Console(soft_wrap=True)
UID = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")


@app.command()
def totp(uid: Annotated[str, typer.Argument(help="A demo person, e.g. nina")]) -> None:
    """Print a demo person's current TOTP code (demo mode only)."""
    if not settings_from().demo:
        fail("guardian demo totp is for demo mode only: real people's codes come from their "
             "own authenticator app")
    if not UID.match(uid):
        fail(f"{uid!r} is not a demo person's user name (alice, nina, ivan, …)")
    code, left = demo_code(uid, time.time())
    console.print(f"{code}", highlight=False)
    Console(stderr=True).print(f"[dim]{uid}'s code for the next {left} s "
                               f"(password {uid}-demo-pass)[/]", highlight=False)

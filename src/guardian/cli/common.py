"""Helpers shared by the CLI commands: settings with command-line overrides, failing cleanly,
and a wired Guardian for commands that change the store (closed when they end)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from guardian.config import Settings
from guardian.errors import GuardianError

if TYPE_CHECKING:
    from guardian.bootstrap import Guardian

err = Console(stderr=True, soft_wrap=True)


def settings_from(**overrides: Any) -> Settings:
    """Settings from the environment, with the options given on the command line on top."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**given)


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]error:[/] {escape(message)}")
    raise typer.Exit(code)


@contextmanager
def built() -> Iterator[Guardian]:
    """A wired Guardian for one command; Guardian's own errors end the command cleanly."""
    from guardian.bootstrap import build

    guardian = None
    try:
        guardian = build(settings_from(), prepare=True)  # migrate and seed, as ever
        yield guardian
    except GuardianError as exc:
        fail(f"{exc.code}: {exc.message}")
    finally:
        if guardian is not None:
            guardian.close()

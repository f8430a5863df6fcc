"""Helpers shared by the CLI commands: settings with command-line overrides, failing cleanly."""

from __future__ import annotations

from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from guardian.config import Settings

err = Console(stderr=True, soft_wrap=True)


def settings_from(**overrides: Any) -> Settings:
    """Settings from the environment, with the options given on the command line on top."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**given)


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]error:[/] {escape(message)}")
    raise typer.Exit(code)

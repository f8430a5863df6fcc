"""The ``guardian`` command line (typer + rich)."""

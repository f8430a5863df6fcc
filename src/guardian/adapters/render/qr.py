"""QR codes of provisioning URIs (segno): SVG for the API, block characters for a terminal."""

from __future__ import annotations

import io

import segno


def svg_data_uri(text: str) -> str:
    """A ``data:image/svg+xml`` URI, ready for an ``<img src>``."""
    return str(segno.make(text, error="m").svg_data_uri(scale=4))


def terminal_text(text: str) -> str:
    """The code drawn with half-block characters, two modules per line of text."""
    out = io.StringIO()
    segno.make(text, error="m").terminal(out=out, compact=True)
    return out.getvalue()

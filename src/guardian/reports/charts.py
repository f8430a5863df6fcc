"""Charts of the periodic report as SVG, drawn by matplotlib (no JavaScript needed to read them).

Figures are built with matplotlib's object API (no pyplot, no global backend), so drawing is
safe from a worker thread. Text stays text in the SVG (``svg.fonttype: none``) so the PDF made
from the page keeps it searchable, and the SVG ids are salted with a constant so the same
report draws the same bytes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

PERMIT = "#2e7d32"
DENY = "#c62828"
BAR = "#1565c0"


def _svg(fig: object) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "guardian"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight",  # type: ignore[attr-defined]
                    metadata={"Date": None})
    return buffer.getvalue()


def data_uri(svg: str) -> str:
    """An ``<img>`` source holding the SVG itself (the page stays one self-contained file)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def decisions_over_time(days: Sequence[str], permits: Sequence[int],
                        denies: Sequence[int]) -> str:
    """Stacked bars per day: permits below, denies on top."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(9, 3.2))
    ax = fig.subplots()
    positions = range(len(days))
    ax.bar(positions, permits, color=PERMIT, label="permits")
    ax.bar(positions, denies, bottom=permits, color=DENY, label="denies")
    step = max(1, len(days) // 10)
    ax.set_xticks(list(positions)[::step], [d[5:] for d in days][::step], fontsize=8)
    ax.set_ylabel("decisions per day", fontsize=9)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2)
    if not days:
        ax.text(0.5, 0.5, "no decision in this period", ha="center", va="center",
                transform=ax.transAxes)
    return _svg(fig)


def horizontal_bars(labels: Sequence[str], values: Sequence[int], *, xlabel: str,
                    color: str = BAR) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    height = max(1.4, 0.32 * len(labels) + 0.6)
    fig = Figure(figsize=(9, height))
    ax = fig.subplots()
    ax.barh(range(len(labels)), values, color=color)
    ax.set_yticks(range(len(labels)), list(labels), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel, fontsize=9)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:,}", va="center", fontsize=7)
    if not labels:
        ax.text(0.5, 0.5, "none in this period", ha="center", va="center",
                transform=ax.transAxes)
    return _svg(fig)

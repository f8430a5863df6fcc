"""Progress of a campaign by reviewer, drawn as a server-rendered SVG bar chart.

One horizontal bar per reviewer, split into kept, revoked and still pending items; geometry
only (the template draws it with classes the stylesheet colours: no inline style, so the
console's CSP holds). A table beside it carries the same numbers for screen readers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from guardian.governance.review_model import ReviewItem, Verdict

WIDTH = 640
LABEL_W = 120
BAR_W = WIDTH - LABEL_W - 60
ROW_H = 30
BAR_H = 18
TOP = 8


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str
    """``keep``, ``revoke`` or ``pending`` (the stylesheet's ``bar-<kind>``)."""
    x: float
    width: float
    count: int


@dataclass(frozen=True, slots=True)
class Bar:
    reviewer: str
    keep: int
    revoke: int
    pending: int
    y: float
    segments: tuple[Segment, ...]
    overdue: bool = False

    @property
    def total(self) -> int:
        return self.keep + self.revoke + self.pending

    @property
    def decided(self) -> int:
        return self.keep + self.revoke


@dataclass(frozen=True, slots=True)
class Chart:
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_w: int = LABEL_W
    bar_w: int = BAR_W
    bar_h: int = BAR_H


def tally(items: Iterable[ReviewItem], stage: int) -> dict[str, tuple[int, int, int]]:
    """Reviewer → (kept, revoked, pending) of the stage's items."""
    out: dict[str, list[int]] = {}
    for item in items:
        if item.stage != stage:
            continue
        counts = out.setdefault(item.reviewer or "(unassigned)", [0, 0, 0])
        if item.decision is None:
            counts[2] += 1
        elif item.decision.decision is Verdict.KEEP:
            counts[0] += 1
        else:
            counts[1] += 1
    return {r: (c[0], c[1], c[2]) for r, c in sorted(out.items())}


def chart(counts: dict[str, tuple[int, int, int]], overdue: Iterable[str] = ()) -> Chart:
    late = set(overdue)
    biggest = max((sum(c) for c in counts.values()), default=0) or 1
    bars = []
    for n, (reviewer, (keep, revoke, pending)) in enumerate(counts.items()):
        y = TOP + n * ROW_H
        x = float(LABEL_W)
        segments = []
        for kind, count in (("keep", keep), ("revoke", revoke), ("pending", pending)):
            width = round(BAR_W * count / biggest, 1)
            if count:
                segments.append(Segment(kind, x, width, count))
            x += width
        bars.append(Bar(reviewer, keep, revoke, pending, y, tuple(segments),
                        reviewer in late))
    return Chart(tuple(bars), WIDTH, TOP * 2 + max(1, len(bars)) * ROW_H)

"""How every listing command prints its rows: ``--output table|json|csv``, one renderer.

A command hands over its rows as dicts and declares its columns once; the three formats are
views of the same data. ``json`` is an array of the rows (an object with ``next_cursor`` when
the listing is paginated), ``csv`` a header of the column keys and one properly quoted record
per row, both for scripts. ``table`` is for people: it takes the terminal's width, never cuts
an id or a timestamp (they are ``whole`` columns; the others fold), and when even that cannot
fit it shows one record per row, field under field, instead of a crushed table. Hints meant
for people (a next-page cursor, a summary) go to standard error in every format, so standard
output stays data.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import orjson
import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

Row = Mapping[str, Any]


class Output(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


OutputOption = Annotated[Output, typer.Option(
    "--output", "-o", case_sensitive=False,
    help="table (for people, the terminal's width) | json | csv (for scripts)")]


@dataclass(frozen=True, slots=True)
class Column:
    """One field of a listing: ``key`` in json and csv, ``header`` above the table."""

    key: str
    header: str = ""
    whole: bool = False
    """An id, a timestamp, a hash: shown on one line, never folded nor cut."""
    in_table: bool = True
    """False: in json and csv only (a detail the table has no room for)."""
    in_data: bool = True
    """False: in the table only (a join of fields that json and csv carry apart)."""
    styles: Mapping[str, str] = field(default_factory=dict)
    """Table style by value (its first word), e.g. ``{"active": "green"}``."""

    @property
    def title(self) -> str:
        return self.header or self.key.replace("_", " ")


@dataclass(frozen=True, slots=True)
class Page:
    """A paginated listing: json wraps the rows as ``{name: rows, "next_cursor": …}``."""

    name: str
    next_cursor: str | None
    hint: str = "--cursor"
    """The option that fetches the next page, in the hint for people."""


def render(
    rows: Sequence[Row], columns: Sequence[Column], output: Output, *,
    page: Page | None = None, empty: str = "nothing to list",
) -> None:
    """Print ``rows`` in ``output``: only the declared columns, in their order."""
    fields = [c for c in columns if c.in_data]
    if output is Output.JSON:
        data: list[dict[str, Any]] = [{c.key: row.get(c.key) for c in fields} for row in rows]
        payload: object = data if page is None else \
            {page.name: data, "next_cursor": page.next_cursor}
        sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif output is Output.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([c.key for c in fields])
        writer.writerows([[csv_cell(row.get(c.key)) for c in fields] for row in rows])
    else:
        print_table(rows, [c for c in columns if c.in_table], empty=empty)
    if page is not None and page.next_cursor is not None and output is not Output.JSON:
        stderr().print(f"more: {page.hint} {page.next_cursor}", highlight=False,
                       soft_wrap=True)


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return str(value)


def table_cell(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return csv_cell(value)


def stdout() -> Console:
    """A console built now, so it sees the terminal's current width (or ``COLUMNS``)."""
    return Console()


def stderr() -> Console:
    return Console(stderr=True)


WORD_CAPS = (24, 16, 10)
"""A folding column keeps room for its words up to this long (a longer one, a URL, folds);
the lower caps are tried when the higher leave the table too wide."""


def print_table(rows: Sequence[Row], columns: Sequence[Column], *, empty: str) -> None:
    """A table at the terminal's width; one record per row when even its minimum is wider."""
    console = stdout()
    if not rows:
        stderr().print(f"[dim]{empty}[/]")
        return
    cells = [[table_cell(r.get(c.key)) for c in columns] for r in rows]
    longest = [max(len(c.title), *(len(row[i]) for row in cells))
               for i, c in enumerate(columns)]
    words = [_longest_word(c.title, (row[i] for row in cells)) for i, c in enumerate(columns)]
    room = console.width - GAP * (len(columns) - 1)
    lengths = [[len(row[i]) for row in cells] for i in range(len(columns))]
    widths = None
    for cap in WORD_CAPS:
        shortest = [longest[i] if c.whole else min(words[i], cap)
                    for i, c in enumerate(columns)]
        widths = fit(shortest, longest, room, lengths)
        if widths is not None:
            break
    if widths is None:
        _print_records(console, rows, columns)
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                  header_style="bold",
                  show_lines=any(n > w for w, ns in zip(widths, lengths, strict=True) for n in ns))
    for c, width in zip(columns, widths, strict=True):
        table.add_column(c.title, width=width, no_wrap=c.whole, overflow="fold")
    for row in rows:
        table.add_row(*(_text(row, c) for c in columns))
    console.print(table)


GAP = 2
"""Between two columns: one space of padding and the (blank) rule."""


def fit(shortest: Sequence[int], longest: Sequence[int], room: int,
        lengths: Sequence[Sequence[int]] = ()) -> list[int] | None:
    """Column widths within ``room``, each at most its longest cell and never below its
    shortest, or ``None`` when the shortest do not fit. A column loses a character where
    that wraps the fewest cells (``lengths``: each column's cell lengths), the widest first
    among equals: a sparse column gives way before one wrapping on every row."""
    if sum(shortest) > room:
        return None
    widths = list(longest)

    def cost(i: int) -> tuple[int, int]:
        wrapped = sum(n >= widths[i] for n in lengths[i]) if lengths else 0
        return wrapped, -widths[i]

    for _ in range(sum(widths) - room):
        i = min((i for i, w in enumerate(widths) if w > shortest[i]), key=cost)
        widths[i] -= 1
    return widths


def _longest_word(title: str, values: Iterable[str]) -> int:
    return max((len(w) for v in (title, *values) for w in v.split()), default=1)


def _text(row: Row, column: Column) -> Text:
    value = row.get(column.key)
    shown = table_cell(value)
    style = column.styles.get(shown.split(" ", 1)[0], "dim" if shown == "-" else "")
    return Text(shown, style=style)


def _print_records(console: Console, rows: Sequence[Row], columns: Sequence[Column]) -> None:
    """Too narrow for a table: each row as ``field  value`` lines, rows apart."""
    for n, row in enumerate(rows):
        if n:
            console.print()
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for c in columns:
            grid.add_row(c.title, _text(row, c))
        console.print(grid)

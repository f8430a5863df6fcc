"""The periodic report's readable forms: the PDF opened with a PDF library (pages, period,
totals, page numbers), the HTML page (no script, values escaped) and CSV (no formulas)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest

from audit_index_contract import records
from audit_support import signer, sqlite_index
from guardian.adapters.render.pdf import html_to_pdf
from guardian.reports.periodic import Period, build_periodic
from guardian.reports.periodic_render import csv_zip, periodic_html, table_csv
from guardian.reports.signing import seal
from report_trail import CONTEXT, FROM, TO, trail


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    index = sqlite_index(tmp_path_factory.mktemp("render") / "index.db")
    index.setup()
    events = trail()
    events[8]["guardian"]["justification"] = "<script>alert(1)</script>"  # erin's requisition
    index.index_events(records(events))
    report = build_periodic("R1", index, Period.of(FROM, TO), CONTEXT, actor="judy", now=0.0)
    yield seal(report.as_dict(), signer())
    index.close()


def test_the_pdf_has_a_cover_numbered_pages_the_period_and_the_totals(
    doc: dict[str, Any]
) -> None:
    reader = pypdf.PdfReader(io.BytesIO(html_to_pdf(periodic_html(doc))))
    pages = [page.extract_text() for page in reader.pages]
    text = "\n".join(pages)

    assert len(reader.pages) >= 3
    assert FROM in pages[0] and TO in pages[0] and doc["sha256"][:32] in pages[0].replace(
        "\n", "")
    assert "sha256:test" in pages[0]
    assert "9 decision(s): 6 permitted, 3 denied." in text
    assert f"Page 2 of {len(reader.pages)}" in pages[1]


def test_the_page_is_self_contained_and_escapes_trail_values(doc: dict[str, Any]) -> None:
    html = periodic_html(doc)

    assert "<script" not in html and "&lt;script&gt;" in html
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert html.count("data:image/svg+xml;base64,") >= 4


def test_csv_has_one_file_per_table_and_no_formula() -> None:
    table = {"name": "t", "columns": ["user", "n"], "rows": [["=HYPERLINK(1)", 3]]}
    assert table_csv(table) == "user,n\n'=HYPERLINK(1),3\n"


def test_every_table_is_in_the_csv_archive(doc: dict[str, Any], tmp_path: Path) -> None:
    import zipfile

    (tmp_path / "r.zip").write_bytes(csv_zip(doc))
    names = zipfile.ZipFile(tmp_path / "r.zip").namelist()
    assert len(names) == sum(len(s["tables"]) for s in doc["sections"])

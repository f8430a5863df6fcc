"""The periodic report as people read it: a self-contained HTML page, CSV per table, and the
page printed (PDF, see :mod:`guardian.adapters.render.pdf`).

Everything renders from the report's signed JSON (as archived), so a report downloaded years
later renders the same. The page has no script and no outside resource: styles inline, charts
as SVG images in data URIs. A cover (period, policy versions, hash, signature key) comes first
and each page of the printed form is numbered (CSS paged media). Every value from the trail is
escaped.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from guardian.reports import charts

_STYLE = """
@page{size:A4;margin:18mm 15mm 20mm 15mm;
 @bottom-center{content:"Page " counter(page) " of " counter(pages);font-size:9pt;color:#555;
  font-family:"DejaVu Sans",sans-serif}
 @bottom-right{content:"Guardian periodic audit report";font-size:8pt;color:#888;
  font-family:"DejaVu Sans",sans-serif}}
@page:first{@bottom-center{content:none}@bottom-right{content:none}}
body{font-family:"DejaVu Sans",system-ui,sans-serif;color:#222;max-width:62rem;margin:2rem auto;
 font-size:10pt;line-height:1.35}
h1{font-size:20pt;margin:0 0 .5rem}h2{font-size:13pt;margin:1.4rem 0 .2rem;
 border-bottom:2px solid #1565c0;padding-bottom:.15rem;break-after:avoid}
.cover{break-after:page;padding-top:25mm}.cover dl{display:grid;grid-template-columns:11rem 1fr;
 gap:.35rem 1rem}.cover dt{color:#555}.cover dd{margin:0;word-break:break-all}
.why{color:#444;font-style:italic;margin:.1rem 0 .3rem}.summary{font-weight:bold;margin:.2rem 0}
table{border-collapse:collapse;width:100%;font-size:8.5pt;margin:.3rem 0 .6rem;
 break-inside:auto}tr{break-inside:avoid}
th,td{border:1px solid #ccc;padding:.15rem .35rem;text-align:left;vertical-align:top}
th{background:#eef3fa}td.n{text-align:right}caption{text-align:left;color:#555;font-size:8pt}
img.chart{width:100%;margin:.3rem 0}.ok{color:#2e7d32}.bad{color:#c62828}
.headline{display:flex;gap:1rem;margin:.5rem 0}.headline div{border:1px solid #ccc;
 padding:.4rem .7rem;border-radius:4px}.headline b{font-size:14pt;display:block}
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _cell(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td class="n">{value:,}</td>'
    return f"<td>{_e(value)}</td>"


def _table(table: Mapping[str, Any]) -> str:
    rows = table.get("rows", [])
    if not rows:
        return f'<p class="why">Table {_e(table.get("name"))}: no rows.</p>'
    head = "".join(f"<th>{_e(c)}</th>" for c in table.get("columns", []))
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    return (f"<table><caption>{_e(table.get('name'))}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _chart(section: Mapping[str, Any]) -> str:
    tables = section.get("tables", [])
    if not tables:
        return ""
    rows = tables[0].get("rows", [])
    key = section.get("key")
    if key == "decisions":
        svg = charts.decisions_over_time([str(r[0]) for r in rows], [int(r[1]) for r in rows],
                                         [int(r[2]) for r in rows])
    elif key in ("reasons", "by_category", "by_purpose", "by_application") and rows:
        top = sorted(rows, key=lambda r: -int(r[3]))[:15]
        svg = charts.horizontal_bars([str(r[0]) for r in top], [int(r[3]) for r in top],
                                     xlabel="decisions")
    else:
        return ""
    return f'<img class="chart" alt="chart: {_e(section.get("title"))}" ' \
           f'src="{charts.data_uri(svg)}">'


def integrity_label(integrity: Mapping[str, Any]) -> str:
    """``verified`` (pinned keys), ``not authenticated`` (chain intact, no trust file) or
    ``NOT verified``."""
    if integrity.get("verified") is True:
        return "verified"
    if integrity.get("chain_intact") is True and integrity.get("authenticated") is False:
        return "not authenticated"
    return "NOT verified"


def _cover(report: Mapping[str, Any]) -> str:
    period = report.get("period", {})
    d = report.get("decisions", {})
    integrity = report.get("integrity", {})
    items = (("Period", f"{period.get('from')} to {period.get('to')} (end excluded)"),
             ("Policy versions", ", ".join(report.get("policy_versions", [])) or "none"),
             ("Decisions", f"{d.get('total', 0):,} ({d.get('permits', 0):,} permits, "
                           f"{d.get('denies', 0):,} denies)"),
             ("Trail integrity", integrity_label(integrity)),
             ("Report id", report.get("id")),
             ("Generated", f"{report.get('generated_at')} by {report.get('generated_by')}"),
             ("SHA-256", report.get("sha256", "(not sealed)")),
             ("Signed with key", report.get("key_id", "(not signed)")))
    rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items)
    return (f'<section class="cover"><h1>Periodic audit report</h1>'
            f"<p style=\"font-size:14pt\">{_e(period.get('from'))} to {_e(period.get('to'))}</p>"
            f"<p>Access to customers' personal data, as Guardian's audit trail records it.</p>"
            f"<dl>{rows}</dl><p class=\"why\">Check this report with "
            "<code>guardian report verify FILE --public-key audit-key.pem</code> on its JSON "
            "form.</p></section>")


def periodic_html(report: Mapping[str, Any]) -> str:
    d = report.get("decisions", {})
    ok = report.get("integrity", {}).get("verified") is True
    label = integrity_label(report.get("integrity", {}))
    headline = (f'<div class="headline"><div><b>{d.get("total", 0):,}</b>decisions</div>'
                f'<div><b>{d.get("permits", 0):,}</b>permits</div>'
                f'<div><b>{d.get("denies", 0):,}</b>denies</div>'
                f'<div><b class="{"ok" if ok else "bad"}">{_e(label)}'
                f"</b>trail integrity</div></div>")
    sections = []
    for s in report.get("sections", []):
        tables = "".join(_table(t) for t in s.get("tables", []))
        sections.append(f'<section id="{_e(s.get("key"))}"><h2>{_e(s.get("title"))}</h2>'
                        f'<p class="why">{_e(s.get("why"))}</p>'
                        f'<p class="summary">{_e(s.get("summary"))}</p>{_chart(s)}{tables}'
                        "</section>")
    period = report.get("period", {})
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Guardian periodic audit report {_e(period.get('from'))} to "
            f"{_e(period.get('to'))}</title><style>{_STYLE}</style></head><body>"
            f"{_cover(report)}{headline}{''.join(sections)}</body></html>")


def table_csv(table: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([_safe(c) for c in table.get("columns", [])])
    for row in table.get("rows", []):
        writer.writerow([_safe(c) for c in row])
    return out.getvalue()


def _safe(value: object) -> object:
    """No spreadsheet formula out of a trail value (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def tables_of(report: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    for section in report.get("sections", []):
        yield from section.get("tables", [])


def csv_zip(report: Mapping[str, Any]) -> bytes:
    """One CSV per table, in one ZIP file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in tables_of(report):
            archive.writestr(f"{table.get('name')}.csv", table_csv(table))
    return buffer.getvalue()


def table_names(report: Mapping[str, Any]) -> Sequence[str]:
    return [str(t.get("name")) for t in tables_of(report)]


STYLE = _STYLE
"""The page style, shared by the access review evidence report."""
table_html = _table
"""One table as HTML (escaped), shared by the access review evidence report."""

"""Rendering reports as a readable, self-contained HTML page (no script, no outside resource).

Every value that comes from the trail (user ids, purposes, justifications, customer ids…) is
escaped with :func:`html.escape`; nothing is ever inserted raw, so a value such as
``<script>`` shows as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from guardian.reports.customer_access import Access, CustomerAccessReport

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:70rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.muted{color:#666}.deny{color:#a00}
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _access_rows(accesses: Iterable[Access]) -> Iterable[Sequence[object]]:
    for a in accesses:
        yield (a.at, a.user_id, ", ".join(a.roles), a.action, f"{a.database}/{a.category}",
               a.purpose, a.justification or "", a.application or "", a.decision_id)


def customer_report_html(report: CustomerAccessReport) -> str:
    period = f"{report.period_from or 'the beginning'} to {report.period_to or 'now'}"
    people = _table(("person", "accesses", "categories", "purposes", "first", "last"), (
        (p.user_id, p.accesses, ", ".join(p.categories), ", ".join(p.purposes), p.first_at,
         p.last_at) for p in report.people))
    columns = ("when", "who", "roles", "action", "data", "purpose", "justification",
               "application", "decision id")
    refused = (f"<h2>Refused attempts ({len(report.refused)})</h2><p class=\"muted\">These "
               "requests were denied: no data was disclosed.</p>"
               + _table((*columns, "reasons"), (
                   (*row, ", ".join(a.reasons))
                   for row, a in zip(_access_rows(report.refused), report.refused, strict=True)
               ))) if report.refused else ""
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Access report for customer {_e(report.customer_id)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Who accessed the data of customer {_e(report.customer_id)}</h1>"
        f"<p>Period: {_e(period)}. Generated {_e(report.generated_at)} from Guardian's audit "
        "trail.</p>"
        f"<p>{len(report.accesses)} access(es) by {len(report.people)} person(s).</p>"
        f"<h2>People</h2>{people}"
        f"<h2>Accesses ({len(report.accesses)})</h2>"
        f"{_table(columns, _access_rows(report.accesses))}"
        f"{refused}{_consent_html(report)}</body></html>"
    )


def _consent_html(report: CustomerAccessReport) -> str:
    if report.consent is None:
        return ""
    data = report.consent.as_dict()
    state = _table(("purpose", "granted", "since", "source"), (
        (c["purpose"], "yes" if c["granted"] else "no", c["at"] or "", c["source"] or "")
        for c in data["consents"]))
    history = _table(("when", "purpose", "granted", "source", "recorded by", "key",
                      "recorded at"), (
        (c["at"], c["purpose"], "yes" if c["granted"] else "no", c["source"],
         c["recorded_by"], c["key_id"] or "", c["recorded_at"]) for c in data["history"]))
    return (f"<h2>Consent</h2>{state}<h2>Consent history ({len(data['history'])})</h2>"
            f"{history}")

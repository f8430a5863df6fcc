"""Output escaped everywhere: markup typed into every field that reaches a page (form values
echoed back, grant justifications and revocation reasons, key names, search filters, the trail's
justifications and client context, customer report rows) shows as text, never as markup."""

from __future__ import annotations

import re

from console_support import Console
from guardian.bootstrap import Guardian
from support import API_KEY, decision_body

MARKUP = '<script>alert(1)</script><img src=x onerror="alert(2)">'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _clean(html: str) -> None:
    assert "<script>alert" not in html and "<img src=x" not in html
    # The only scripts are the package's own, by URL.
    package = {'<script src="/console/static/htmx.min.js" defer>',
               '<script src="/console/static/webauthn.js" defer>'}
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts and scripts[0] == '<script src="/console/static/htmx.min.js" defer>'
    assert set(scripts) <= package


def test_markup_in_the_sign_in_form_is_echoed_as_text(console: Console) -> None:
    response = console.client.post("/console/sign-in", data={
        "user": MARKUP[:100], "password": "x", "otp": "1", "csrf": console.csrf()})
    _clean(response.text)
    assert "&lt;script&gt;" in response.text


def test_markup_in_governance_fields_is_shown_as_text(console: Console,
                                                      guardian: Guardian) -> None:
    console.sign_in("ivan")
    console.post("/console/grants", {"uid": "alice", "role": "billing", "duration": "1h",
                                     "justification": MARKUP})
    grant = guardian.grants.list("alice")[0]
    page = console.client.get("/console/grants").text
    _clean(page)
    assert ESCAPED in page
    console.post(f"/console/grants/{grant.id}/revoke", {"reason": MARKUP})
    _clean(console.client.get("/console/grants").text)
    created = console.post("/console/keys", {"name": "<b>x</b>", "scopes": "decide"}).text
    _clean(created)
    assert "&lt;b&gt;x&lt;/b&gt;" in created
    listed = console.client.get("/console/keys").text
    assert "<b>x</b>" not in listed and "&lt;b&gt;x&lt;/b&gt;" in listed
    invited = console.post("/console/invitations", {"user": MARKUP[:100]}).text
    _clean(invited)


def test_markup_in_the_trail_is_shown_as_text(console: Console, guardian: Guardian) -> None:
    body = decision_body("erin", None, purpose="legal-requisition",
                         justification="REQ-2026-0001 " + MARKUP)
    body["context"] = {"client_ip": "10.2.3.4", "application": MARKUP}
    assert console.client.post("/v1/decisions", headers={"X-API-Key": API_KEY},
                               json=body).status_code == 200
    assert guardian.audit.shipper.drain(max_wait_s=10).caught_up
    console.sign_in("judy")
    results = console.client.get(f"/console/trail?search=1&user=erin&reason={MARKUP[:100]}")
    _clean(results.text)
    results = console.client.get("/console/trail?search=1&user=erin").text
    _clean(results)
    link = re.search(r'href="(/console/trail/event\?[^"]+)"', results)
    assert link is not None
    record = console.client.get(link[1].replace("&amp;", "&")).text
    _clean(record)
    assert "alert(1)" in record  # it is there, as text
    report = console.client.get("/console/customers?customer=C-1001").text
    _clean(report)

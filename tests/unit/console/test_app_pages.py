"""The console's pages over the API's services: who sees what, step-up, sign-in failures
that say nothing, officers' changes, the trail read (and recorded), reports and integrity."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from console_support import Console
from guardian.bootstrap import Guardian
from guardian.clock import ManualClock
from guardian.console.audit_pages import PAGE_ROWS
from support import API_KEY, decision_body

OFFICER_PAGES = ("/console/grants", "/console/keys", "/console/invitations", "/console/policy")
TRAIL_PAGES = ("/console/trail", "/console/customers")
REPORT_PAGES = ("/console/reports", "/console/integrity")
REVIEW_PAGES = ("/console/reviews", "/console/campaigns")


def _events(guardian: Guardian, action: str) -> list[dict[str, Any]]:
    lines = [line for line in guardian.settings.journal_file.read_text().splitlines()
             if not line.startswith('{"seal":')]
    return [e for e in map(orjson.loads, lines) if e["event"]["action"] == action]


def _nav(html: str) -> set[str]:
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S)
    return set(re.findall(r'href="([^"]+)"', nav.group(1))) if nav else set()


@pytest.mark.parametrize(("uid", "allowed"), [
    ("ivan", OFFICER_PAGES + REPORT_PAGES + REVIEW_PAGES),
    ("judy", TRAIL_PAGES + REPORT_PAGES + REVIEW_PAGES),
    ("nina", ("/console/reviews",)),
    ("alice", ()),
])
def test_each_person_sees_and_opens_only_what_their_roles_allow(
        console: Console, uid: str, allowed: tuple[str, ...]) -> None:
    console.sign_in(uid)
    home = console.client.get("/console/")
    assert home.status_code == 200
    assert _nav(home.text) == set(allowed)
    for path in OFFICER_PAGES + TRAIL_PAGES + REPORT_PAGES + REVIEW_PAGES:
        status = console.client.get(path).status_code
        assert status == (200 if path in allowed else 403), path


def test_a_stranger_is_sent_to_sign_in_and_back(console: Console) -> None:
    response = console.client.get("/console/trail?user=alice", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in?next=/console/trail%3Fuser%3Dalice"


def test_wrong_password_and_unknown_user_look_the_same(console: Console) -> None:
    answers = []
    for user, password in (("ivan", "wrong"), ("nobody-here", "ivan-demo-pass")):
        response = console.client.post("/console/sign-in", data={
            "user": user, "password": password, "otp": console.code("ivan"),
            "csrf": console.csrf()})
        answers.append((response.status_code, re.search(
            r'id="sign-in-error">([^<]+)<', response.text).group(1)))  # type: ignore[union-attr]
    assert answers[0] == answers[1]
    assert answers[0][0] == 401


def test_repeated_failures_pause_sign_in(console: Console) -> None:
    for _ in range(5):
        console.client.post("/console/sign-in", data={
            "user": "judy", "password": "nope", "otp": "123456", "csrf": console.csrf()})
    response = console.client.post("/console/sign-in", data={
        "user": "judy", "password": "judy-demo-pass", "otp": console.code("judy"),
        "csrf": console.csrf()})
    # Refused although right, with the answer of any refusal (tests/unit/console/
    # test_sign_in_answers.py): the lockout tells a stranger nothing either.
    assert response.status_code == 401
    assert "sign-in pauses" in response.text
    assert "guardian_console_session" not in console.client.cookies


def test_a_stale_factor_asks_for_a_step_up_then_returns(
        console: Console, clock: ManualClock) -> None:
    console.sign_in("ivan")
    clock.advance(901)
    response = console.client.get("/console/grants", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/step-up?next=/console/grants"
    back = console.client.post("/console/step-up", follow_redirects=False, data={
        "otp": console.code("ivan"), "next": "/console/grants", "csrf": console.csrf("/console/")})
    assert back.status_code == 303 and back.headers["location"] == "/console/grants"
    assert console.client.get("/console/grants").status_code == 200
    assert _events(console_guardian(console), "session.stepped_up")


def console_guardian(console: Console) -> Guardian:
    guardian: Guardian = console.client.app.state.guardian  # type: ignore[attr-defined]
    return guardian


def test_sign_out_ends_the_console_session(console: Console) -> None:
    console.sign_in("judy")
    console.post("/console/sign-out", {})
    assert console.client.get("/console/", follow_redirects=False).status_code == 303


def test_ivan_gives_and_revokes_a_grant(console: Console, guardian: Guardian) -> None:
    console.sign_in("ivan")
    given = console.post("/console/grants", {"uid": "alice", "role": "billing",
                                             "duration": "8h", "justification": "INC-77"})
    assert given.status_code == 200 and "given" in given.text
    grant = guardian.grants.list("alice")[0]
    revoked = console.post(f"/console/grants/{grant.id}/revoke", {"reason": "done"},
                           headers={"HX-Request": "true"})
    assert revoked.status_code == 200 and "<html" not in revoked.text  # an htmx fragment
    assert guardian.grants.list("alice")[0].revoked
    assert _events(guardian, "governance.grant_created") and _events(guardian, "governance.grant_revoked")


def test_a_new_key_is_shown_once_and_works(console: Console, guardian: Guardian) -> None:
    console.sign_in("ivan")
    created = console.post("/console/keys", {"name": "crm-batch", "scopes": "decide"})
    key = re.search(r'id="new-key" class="secret" readonly value="([^"]+)"', created.text)
    assert key is not None
    assert key.group(1) not in console.client.get("/console/keys").text
    assert guardian.applications.holder_of(key.group(1)) is not None


def test_trail_search_is_recorded_pages_and_exports(console: Console,
                                                    guardian: Guardian) -> None:
    for _ in range(30):
        console.client.post("/v1/decisions", headers={"X-API-Key": API_KEY},
                            json=decision_body("alice", None))
    assert guardian.audit.shipper.drain(max_wait_s=10).caught_up
    console.sign_in("judy")
    first = console.client.get("/console/trail?search=1&user=alice&size=25&customer=")
    assert first.status_code == 200
    assert first.text.count('<tr><td>') == 25
    cursor = re.search(r'cursor=([A-Za-z0-9_-]+)"', first.text)
    assert cursor is not None
    second = console.client.get(f"/console/trail?search=1&user=alice&size=25&cursor={cursor[1]}")
    assert second.text.count('<tr><td>') == 5
    searched = _events(guardian, "audit.trail_searched")
    assert any("user=alice" in str(e["guardian"]) for e in searched)
    csv = console.client.get("/console/trail/export.csv?user=alice")
    assert csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == 31
    assert any("export=csv" in str(e["guardian"]) for e in _events(guardian,
                                                                  "audit.trail_searched"))
    link = re.search(r'href="(/console/trail/event\?[^"]+)"', first.text)
    assert link is not None
    record = console.client.get(link[1].replace("&amp;", "&"))
    assert record.status_code == 200 and "prev_hash" in record.text


def test_customer_report_html_and_pdf(console: Console, guardian: Guardian) -> None:
    console.client.post("/v1/decisions", headers={"X-API-Key": API_KEY},
                        json=decision_body("alice", None, customers=["C-1001"]))
    console.sign_in("judy")
    page = console.client.get("/console/customers?customer=C-1001")
    assert "Access report for C-1001" in page.text
    pdf = console.client.get("/console/customers/report.pdf?customer=C-1001")
    assert pdf.content.startswith(b"%PDF")
    assert len(_events(guardian, "audit.customer_report_produced")) == 2


def test_a_long_customer_report_shows_its_first_rows_and_says_the_pdf_has_all(
        console: Console) -> None:
    bodies = [decision_body("alice", None, customers=["C-1002"]) for _ in range(PAGE_ROWS + 5)]
    answer = console.client.post("/v1/decisions:batch", headers={"X-API-Key": API_KEY},
                                 json={"requests": bodies})
    assert answer.status_code == 200
    console.sign_in("judy")

    page = console.client.get("/console/customers?customer=C-1002").text

    refused = page[page.index("Refused attempts"):page.index("<h3>Consent")]
    assert refused.count("<tr><td>") == PAGE_ROWS
    assert f"The first {PAGE_ROWS} of {PAGE_ROWS + 5} refused attempts" in page


def test_periodic_report_produced_listed_verified_downloaded(console: Console) -> None:
    console.sign_in("judy")
    made = console.post("/console/reports", {"from": "2026-01-01", "to": "2027-01-01"})
    assert made.status_code == 200 and "verified" in made.text
    report_id = re.search(r"Report (\w+) produced", made.text)
    assert report_id is not None
    signed = console.client.get(f"/console/reports/{report_id[1]}?format=json")
    assert orjson.loads(signed.content)["id"] == report_id[1]
    assert "attachment" in signed.headers["content-disposition"]


def test_integrity_verifies_the_trail_on_demand(console: Console) -> None:
    console.sign_in("ivan")
    page = console.post("/console/integrity/verify", {})
    assert page.status_code == 200 and "chain intact" in page.text

"""The console in a real headless Chromium against ``guardian serve`` on a free loopback port:
each demo person sees only what their roles allow; judy searches, pages, exports CSV and her
search is in the trail; the DPO (or, without one in the directory, the auditor) produces
C-1001's report; ivan gives and revokes a grant and creates a key shown once; a form without
its CSRF token is refused; and every page has the CSP header, no console error, no serious or
critical axe-core violation, and fits a phone's width. Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait

from browser_support import (
    Codes,
    axe_violations,
    console_errors,
    new_driver,
    screenshot,
    sign_in,
    sign_out,
    wait_for,
)
from serve_support import Served, start
from support import API_KEY, ROOT, decision_body

pytestmark = pytest.mark.e2e
OFFICER = {"/console/grants", "/console/keys", "/console/invitations", "/console/policy"}
TRAIL = {"/console/trail", "/console/customers"}
REPORTS = {"/console/reports", "/console/integrity"}
REVIEWS = {"/console/reviews", "/console/campaigns"}
HAS_PEGGY = "\n- uid: peggy\n" in (ROOT / "policies/demo/directory.yaml").read_text()


@pytest.fixture(scope="module")
def codes() -> Codes:
    return Codes()


def _seed(url: str, codes: Codes) -> None:
    """Some history: people signed in through the API deciding on customers' data."""
    with httpx.Client(base_url=url, timeout=10) as http:
        tokens = {}
        for uid in ("alice", "bob", "dave", "erin"):
            answer = http.post("/v1/sessions", json={
                "user": uid, "password": f"{uid}-demo-pass", "otp": codes.next(uid)})
            assert answer.status_code == 201, answer.text
            tokens[uid] = answer.json()["token"]
        bodies = [decision_body("alice", tokens["alice"], customers=[f"C-10{n % 10 + 1:02d}"])
                  for n in range(40)]
        bodies += [decision_body("bob", tokens["bob"], resource="crm/economic-financial",
                                 purpose="billing", customers=["C-1001"]),
                   decision_body("dave", tokens["dave"], resource="crm/profiles-scores",
                                 purpose="marketing", customers=["C-1001", "C-1008"]),
                   decision_body("erin", tokens["erin"], resource="crm/location",
                                 purpose="legal-requisition", customers=["C-1001"],
                                 justification="REQ-2026-0042 court order"),
                   decision_body("grace", None, customers=["C-1001"])]
        for body in bodies:
            assert http.post("/v1/decisions", headers={"X-API-Key": API_KEY},
                             json=body).status_code == 200


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, codes: Codes) -> Iterator[Served]:
    # Quiet logs: nobody reads its output while it serves, and a full pipe would block it.
    server = start(tmp_path_factory.mktemp("var"), timeout_s=120, GUARDIAN_LOG_LEVEL="warning")
    try:
        _seed(server.url, codes)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(downloads: Path) -> Iterator[WebDriver]:
    browser = new_driver(downloads)
    try:
        yield browser
    finally:
        browser.quit()



def _paths(driver: WebDriver) -> set[str]:
    out = set()
    for a in driver.find_elements(By.CSS_SELECTOR, "nav[aria-label='Main'] a"):
        href = str(a.get_attribute("href"))
        out.add(href[href.index("/console/"):])
    return out


def _http(served: Served, driver: WebDriver) -> httpx.Client:
    """An HTTP client holding the browser's cookies (to read headers and downloads)."""
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    return httpx.Client(base_url=served.url, cookies=cookies, timeout=30)


PEOPLE = [("ivan", OFFICER | REPORTS | REVIEWS), ("judy", TRAIL | REPORTS | REVIEWS),
          ("nina", {"/console/reviews"}), ("alice", set()), ("mallory", set())]
if HAS_PEGGY:
    PEOPLE.append(("peggy", TRAIL | REPORTS | REVIEWS))


@pytest.mark.parametrize(("uid", "allowed"), PEOPLE)
def test_each_person_sees_only_what_their_role_allows(
        served: Served, driver: WebDriver, codes: Codes, uid: str, allowed: set[str]) -> None:
    sign_in(driver, served.url, uid, codes)
    assert _paths(driver) == allowed
    for path in sorted(OFFICER | TRAIL | REPORTS | REVIEWS):
        driver.get(served.url + path)
        if path in allowed:
            assert driver.find_element(By.TAG_NAME, "h1").text != "Something went wrong", path
        else:
            assert "role_required" in driver.page_source, path
    console_errors(driver)  # the 403s above are logged as failed loads: not errors of a page
    sign_out(driver)


def test_judy_searches_pages_exports_and_her_search_is_in_the_trail(
        served: Served, driver: WebDriver, codes: Codes, downloads: Path) -> None:
    sign_in(driver, served.url, "judy", codes)
    driver.get(f"{served.url}/console/trail")
    driver.find_element(By.ID, "f-user").send_keys("alice")
    driver.find_element(By.ID, "f-action").send_keys("access.decision")
    Select(driver.find_element(By.ID, "f-size")).select_by_value("25")
    driver.find_element(By.CSS_SELECTOR, "form.card button[type='submit']").click()
    WebDriverWait(driver, 10).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "table.events tbody tr")) == 25)
    assert "user=alice" in driver.current_url  # htmx pushed the search into the address
    first = {r.text for r in driver.find_elements(By.CSS_SELECTOR, "table.events tbody tr")}
    screenshot(driver, "trail-search")
    driver.find_element(By.ID, "next-page").click()
    WebDriverWait(driver, 10).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "table.events tbody tr")) == 15)
    second = {r.text for r in driver.find_elements(By.CSS_SELECTOR, "table.events tbody tr")}
    assert not first & second
    driver.find_element(By.PARTIAL_LINK_TEXT, "Export this result as CSV").click()
    exported = downloads / "guardian-trail.csv"
    deadline = time.monotonic() + 15
    while not exported.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    assert len(rows) == 40 and {r["user"] for r in rows} == {"alice"}
    driver.find_element(By.CSS_SELECTOR, "table.events tbody tr a").click()
    wait_for(driver, "pre.record")
    assert '"prev_hash"' in driver.find_element(By.CSS_SELECTOR, "pre.record").text
    screenshot(driver, "trail-event")
    # Her searches are themselves in the trail.
    driver.get(f"{served.url}/console/trail?user=judy&action=audit.trail_searched&size=100")
    text = driver.find_element(By.ID, "results").text
    assert "audit.trail_searched" in text
    assert not console_errors(driver)
    sign_out(driver)


def test_the_dpo_produces_c1001s_access_report(served: Served, driver: WebDriver,
                                               codes: Codes) -> None:
    sign_in(driver, served.url, "peggy" if HAS_PEGGY else "judy", codes)
    driver.get(f"{served.url}/console/customers")
    field = driver.find_element(By.ID, "customer")
    field.send_keys("C-1001")
    field.submit()
    heading = wait_for(driver, "#report-title")
    assert heading.text == "Access report for C-1001"
    page = driver.find_element(By.ID, "main").text
    assert "alice" in page and "erin" in page and "REQ-2026-0042" in page
    screenshot(driver, "customer-report")
    link = driver.find_element(By.PARTIAL_LINK_TEXT, "Download as PDF").get_attribute("href")
    with _http(served, driver) as http:
        pdf = http.get(str(link))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert not console_errors(driver)
    sign_out(driver)


def test_ivan_gives_and_revokes_a_grant_and_creates_a_key_shown_once(
        served: Served, driver: WebDriver, codes: Codes) -> None:
    sign_in(driver, served.url, "ivan", codes)
    driver.get(f"{served.url}/console/grants")
    driver.find_element(By.ID, "uid").send_keys("bob")
    Select(driver.find_element(By.ID, "role")).select_by_value("fraud-analyst")
    justification = driver.find_element(By.ID, "justification")
    justification.send_keys("INC-4711 fraud wave")
    justification.submit()
    notice = wait_for(driver, ".notice")
    assert "given" in notice.text
    row = driver.find_element(By.XPATH, "//tr[td[text()='bob'] and td[text()='fraud-analyst']]")
    screenshot(driver, "grants")
    row.find_element(By.CSS_SELECTOR, "input[name='reason']").send_keys("fraud wave over")
    row.find_element(By.CSS_SELECTOR, "button").click()  # an htmx swap of the table
    # The htmx swap replaces the table: an element found just before it goes stale.
    WebDriverWait(driver, 10, ignored_exceptions=(
        StaleElementReferenceException, NoSuchElementException)).until(lambda d: "revoked" in d.find_element(
        By.CSS_SELECTOR, "#grants .notice").text)
    assert "fraud wave over" in driver.find_element(By.ID, "grants").text
    driver.get(f"{served.url}/console/keys")
    name = driver.find_element(By.ID, "name")
    name.send_keys("e2e-billing-batch")
    name.submit()
    key = wait_for(driver, "#new-key").get_attribute("value")
    assert key
    screenshot(driver, "key-created")
    with httpx.Client(base_url=served.url, timeout=10) as http:
        decided = http.post("/v1/decisions", headers={"X-API-Key": key},
                            json=decision_body("alice", None))
        assert decided.status_code == 200
    driver.get(f"{served.url}/console/keys")
    assert key not in driver.page_source
    assert "e2e-billing-batch" in driver.page_source
    assert not console_errors(driver)
    sign_out(driver)


def test_a_form_without_its_csrf_token_is_refused(served: Served, driver: WebDriver,
                                                  codes: Codes) -> None:
    sign_in(driver, served.url, "ivan", codes)
    driver.get(f"{served.url}/console/invitations")
    driver.execute_script(
        "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    field = driver.find_element(By.ID, "user")
    field.send_keys("heidi")
    field.submit()
    wait_for(driver, ".alert")
    assert "csrf_token_invalid" in driver.page_source
    with _http(served, driver) as http:
        refused = http.post("/console/invitations", data={"user": "heidi"})
    assert refused.status_code == 403 and "csrf_token_invalid" in refused.text
    console_errors(driver)
    sign_out(driver)


def _tick(driver: WebDriver, uid: str) -> None:
    row = driver.find_element(By.CSS_SELECTOR, f"table.items tr[data-uid='{uid}']")
    row.find_element(By.CSS_SELECTOR, "input[name='item']").click()


def _notice(driver: WebDriver, words: str) -> str:
    """The text of the notice an htmx swap brings, once it says ``words``."""
    text = ""

    def shown(d: WebDriver) -> bool:
        nonlocal text
        found = d.find_elements(By.CSS_SELECTOR, "#inbox .notice, #inbox .alert")
        text = found[0].text if found else ""
        return words in text or "Nothing was decided" in text

    WebDriverWait(driver, 15, ignored_exceptions=(
        StaleElementReferenceException, NoSuchElementException)).until(shown)
    assert words in text, text
    return text


def _clean(driver: WebDriver, what: str) -> list[str]:
    return [f"{what}: {p}" for p in [*console_errors(driver), *axe_violations(driver)]]


def _state_after(driver: WebDriver, button: str) -> str:
    """The campaign's state on the page that answers a click on ``button`` (the old page's
    elements go stale when the new one comes, so wait for that before reading)."""
    before = driver.find_element(By.ID, "campaign-state")
    driver.find_element(By.ID, button).click()
    WebDriverWait(driver, 30).until(staleness_of(before))
    return str(wait_for(driver, "#campaign-state").text)


def test_nina_decides_in_bulk_ivan_closes_and_downloads_the_evidence(
        served: Served, driver: WebDriver, codes: Codes, downloads: Path) -> None:
    problems: list[str] = []
    sign_in(driver, served.url, "ivan", codes)
    driver.get(f"{served.url}/console/campaigns")
    Select(driver.find_element(By.ID, "definition")).select_by_value("crm-quarterly")
    driver.find_element(By.ID, "open-campaign").click()
    assert wait_for(driver, "#campaign-state").text == "open"
    campaign_url = driver.current_url.split("?")[0]
    campaign_id = campaign_url.rsplit("/", 1)[1]
    sign_out(driver)

    sign_in(driver, served.url, "nina", codes)
    driver.find_element(By.LINK_TEXT, "Your reviews").click()
    rows = driver.find_elements(By.CSS_SELECTOR, "table.items tbody tr")
    assert {r.get_attribute("data-uid") for r in rows} == {
        "alice", "bob", "dave", "frank", "grace", "heidi"}
    assert "0 of 6" in driver.find_element(By.ID, "inbox").text
    problems += _clean(driver, "inbox")
    screenshot(driver, "review-inbox")
    _tick(driver, "dave")
    _tick(driver, "grace")
    driver.find_element(By.ID, "revoke-selected").click()  # an htmx swap of the inbox
    _notice(driver, "0 kept, 2 revoked")
    driver.find_element(By.ID, "select-all").click()  # the static script ticks every row
    driver.find_element(By.ID, "bulk-justification").send_keys("still serving customers daily")
    driver.find_element(By.ID, "keep-selected").click()
    _notice(driver, "4 kept, 0 revoked")
    assert "6 of 6" in driver.find_element(By.ID, "inbox").text
    problems += _clean(driver, "inbox after deciding")
    sign_out(driver)

    sign_in(driver, served.url, "ivan", codes)
    driver.get(campaign_url)
    problems += _clean(driver, "campaign page")
    screenshot(driver, "review-campaign")
    state = _state_after(driver, "close-campaign")
    if state == "closing":  # held at the brake: the officer confirms
        state = _state_after(driver, "confirm-campaign")
    assert state in ("remediating", "awaiting-sign-off")
    assert "dave" in driver.find_element(By.ID, "main").text  # on the remediation list
    with httpx.Client(base_url=served.url, timeout=10) as http:
        session = http.post("/v1/sessions", json={
            "user": "dave", "password": "dave-demo-pass", "otp": codes.next("dave")})
        assert session.status_code == 201, session.text
        denied = http.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=decision_body(
            "dave", session.json()["token"], purpose="marketing", customers=["C-1001"]))
    assert denied.json()["decision"] == "deny"
    assert denied.json()["reasons"][0]["code"] == "access_revoked"
    driver.find_element(By.ID, "evidence-json").click()
    evidence = downloads / f"guardian-campaign-{campaign_id}.json"
    deadline = time.monotonic() + 15
    while not evidence.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    doc = json.loads(evidence.read_text(encoding="utf-8"))
    assert doc["signature"] and doc["campaign"]["id"] == campaign_id
    revoked = {(i["subject"]["uid"], i["decision"]["decision"]) for i in doc["items"]
               if i["decision"]}
    assert ("dave", "revoke") in revoked and ("alice", "keep") in revoked
    with _http(served, driver) as http:
        for fmt, magic in (("pdf", b"%PDF"), ("csv", b"PK"), ("html", b"<")):
            got = http.get(f"/console/campaigns/{campaign_id}/report?format={fmt}")
            assert got.status_code == 200 and got.content.lstrip().startswith(magic), fmt
        listed = http.get(f"/console/campaigns/{campaign_id}/remediation?format=csv").text
    assert "dave" in listed and "marketing" in listed
    problems += _clean(driver, "campaign page after closing")
    sign_out(driver)
    assert not problems, "\n".join(problems)


PAGES = {
    "ivan": ["/console/", "/console/grants", "/console/keys", "/console/invitations",
             "/console/policy", "/console/reports", "/console/integrity",
             "/console/campaigns"],
    "nina": ["/console/reviews"],
    "judy": ["/console/trail", "/console/trail?search=1&user=alice",
             "/console/customers?customer=C-1001"],
}


def test_every_page_is_secure_clean_and_accessible(served: Served, driver: WebDriver,
                                                   codes: Codes) -> None:
    problems: list[str] = []
    for anonymous in ("/console/sign-in", "/console/enrol"):
        problems += _check_page(served, driver, anonymous, "anonymous")
    for uid, paths in PAGES.items():
        sign_in(driver, served.url, uid, codes)
        for path in paths:
            problems += _check_page(served, driver, path, uid)
        sign_out(driver)
    assert not problems, "\n".join(problems)


def _check_page(served: Served, driver: WebDriver, path: str, who: str) -> list[str]:
    driver.set_window_size(1280, 1000)
    driver.get(served.url + path)
    problems = [f"{who} {path}: {e}" for e in console_errors(driver)]
    problems += [f"{who} {path}: {v}" for v in axe_violations(driver)]
    if not driver.title or not driver.find_elements(By.CSS_SELECTOR, "main h1"):
        problems.append(f"{who} {path}: no title or main heading")
    with _http(served, driver) as http:
        csp = http.get(path).headers.get("content-security-policy", "")
    if "default-src 'self'" not in csp or "frame-ancestors 'none'" not in csp:
        problems.append(f"{who} {path}: CSP missing ({csp!r})")
    name = (path.strip("/").replace("console", "").strip("/").split("?")[0] or "home")
    screenshot(driver, name.replace("/", "-") + ("" if "?" not in path else "-result"))
    driver.set_window_size(390, 844)
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 1:
        problems.append(f"{who} {path}: {overflow}px wider than a phone")
    if path in ("/console/", "/console/trail?search=1&user=alice"):
        screenshot(driver, f"phone-{name}")
    return problems

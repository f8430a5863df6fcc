"""The reviewer's inbox and the officers' campaign pages over the review services: ivan opens
crm-quarterly from the console, nina sees only her people with their evidence, a keep without
its required justification decides nothing, her bulk decision (dave's marketing revoked) is
journalled, ivan closes (confirming at the brake), dave is denied ``access_revoked``, the
evidence downloads in every format and the remediation list names dave; who may see what."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest

from console_support import Console
from guardian.bootstrap import Guardian
from guardian.clock import ManualClock
from support import API_KEY, decision_body


def _events(guardian: Guardian, action: str) -> list[dict[str, Any]]:
    lines = [line for line in guardian.settings.journal_file.read_text().splitlines()
             if not line.startswith('{"seal":')]
    return [e for e in map(orjson.loads, lines) if e["event"]["action"] == action]


def _open(console: Console) -> str:
    console.sign_in("ivan")
    opened = console.post("/console/campaigns", {"definition": "crm-quarterly"},
                          follow_redirects=False)
    assert opened.status_code == 303, opened.text
    found = re.match(r"/console/campaigns/([0-9A-Za-z]+)\?done=opened",
                     opened.headers["location"])
    assert found is not None
    return found.group(1)


def _post(console: Console, path: str, pairs: list[tuple[str, str]], **kw: Any) -> Any:
    """A form with repeated fields (checkboxes), as a browser sends it."""
    body = urlencode([*pairs, ("csrf", console.csrf("/console/"))])
    headers = {"content-type": "application/x-www-form-urlencoded", **kw.pop("headers", {})}
    return console.client.post(path, content=body, headers=headers, **kw)


def _rows(html: str) -> dict[tuple[str, str], str]:
    """(uid, role) → item id of the inbox rows."""
    return {(uid, role): item for item, uid, role in re.findall(
        r'<tr id="item-([0-9A-Za-z]+)" data-uid="([^"]*)" data-role="([^"]*)"', html)}


def test_nina_decides_in_bulk_and_dave_is_denied_after_the_close(
        console: Console, guardian: Guardian) -> None:
    campaign = _open(console)
    console.sign_in("nina")
    inbox = console.client.get("/console/reviews")
    assert inbox.status_code == 200
    rows = _rows(inbox.text)
    assert {uid for uid, _ in rows} == {"alice", "bob", "dave", "frank", "grace", "heidi"}
    assert "0 of 6" in inbox.text or "0 of " in inbox.text  # progress of her share
    assert "permits in 90 days" in inbox.text and "no data-protection clause" in inbox.text
    assert "account disabled" in inbox.text
    dave = rows[("dave", "marketing")]
    keep = [i for k, i in rows.items() if k != ("dave", "marketing")]
    form = [("item", i) for i in keep]
    refused = _post(console, "/console/reviews", [*form, ("bulk", "keep")])
    assert refused.status_code == 422 and "justification_required" in refused.text
    assert not _events(guardian, "review.item_decided")  # all or nothing
    kept = _post(console, "/console/reviews", [
        *form, ("bulk", "keep"), ("justification", "still needed for the daily work")],
        headers={"HX-Request": "true"})
    assert kept.status_code == 200 and "<html" not in kept.text
    assert f"{len(keep)} kept" in kept.text
    one = console.post("/console/reviews", {"one": f"revoke:{dave}"}, follow_redirects=False)
    assert one.status_code == 303 and "done=0-1" in one.headers["location"]
    decided = _events(guardian, "review.item_decided")
    assert len(decided) == len(rows)
    after = console.client.get("/console/reviews?show=all")
    assert f"{len(rows)} of {len(rows)}</strong> decided" in after.text

    console.sign_in("ivan")
    page = console.client.get(f"/console/campaigns/{campaign}")
    assert page.status_code == 200 and "<svg" in page.text and "nina" in page.text
    assert " style=" not in page.text
    closed = console.post(f"/console/campaigns/{campaign}/close", {}, follow_redirects=False)
    assert closed.status_code == 303
    state = guardian.reviews.service.get(campaign)[0].state.value  # type: ignore[union-attr]
    if state == "closing":
        assert "Held at the brake" in console.client.get(f"/console/campaigns/{campaign}").text
        console.post(f"/console/campaigns/{campaign}/confirm", {})
    denied = console.client.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=decision_body(
        "dave", None, resource="crm/contact", purpose="marketing"))
    codes = [r["code"] for r in denied.json()["reasons"]]
    assert denied.json()["decision"] == "deny" and "access_revoked" in codes
    remediation = console.client.get(f"/console/campaigns/{campaign}/remediation?format=csv")
    assert remediation.status_code == 200 and "dave" in remediation.text
    for fmt, magic in (("json", b"{"), ("pdf", b"%PDF"), ("csv", b"PK"), ("html", b"<")):
        got = console.client.get(f"/console/campaigns/{campaign}/report?format={fmt}")
        assert got.status_code == 200, fmt
        assert got.content.lstrip().startswith(magic), fmt
        assert got.headers["content-disposition"].startswith("attachment"), fmt
    doc = orjson.loads(console.client.get(f"/console/campaigns/{campaign}/report?format=json")
                       .content)
    assert {i["subject"]["uid"] for i in doc["items"]} >= {"dave"} and doc["signature"]


@pytest.mark.parametrize(("uid", "inbox", "campaigns"), [
    ("alice", 403, 403), ("mallory", 403, 403), ("nina", 200, 403), ("ivan", 200, 200),
    ("judy", 200, 200), ("peggy", 200, 200)])
def test_who_opens_the_inbox_and_the_campaigns(console: Console, uid: str, inbox: int,
                                               campaigns: int) -> None:
    console.sign_in(uid)
    assert console.client.get("/console/reviews").status_code == inbox
    assert console.client.get("/console/campaigns").status_code == campaigns


def test_only_officers_open_and_close(console: Console, guardian: Guardian) -> None:
    campaign = _open(console)
    console.sign_in("judy")
    page = console.client.get(f"/console/campaigns/{campaign}")
    assert page.status_code == 200 and "close-campaign" not in page.text
    refused = console.post(f"/console/campaigns/{campaign}/close", {})
    assert refused.status_code == 403 and "role_required" in refused.text
    assert console.post("/console/campaigns", {"definition": "crm-quarterly"}
                        ).status_code == 403


def test_the_inbox_needs_a_fresh_factor(console: Console, clock: ManualClock) -> None:
    console.sign_in("nina")
    clock.advance(901)
    response = console.client.get("/console/reviews", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/step-up?next=/console/reviews")


def test_someone_elses_item_is_refused(console: Console, guardian: Guardian) -> None:
    _open(console)
    console.sign_in("nina")
    item = next(iter(_rows(console.client.get("/console/reviews").text).values()))
    console.sign_in("oscar")
    refused = console.post("/console/reviews", {"one": f"revoke:{item}"})
    assert refused.status_code == 403 and "not_your_item" in refused.text


def test_an_officer_reminds_and_the_reminder_is_recorded(console: Console,
                                                         guardian: Guardian) -> None:
    campaign = _open(console)
    reminded = console.post(f"/console/campaigns/{campaign}/remind", {"reviewer": "nina"},
                            follow_redirects=False)
    assert reminded.status_code == 303
    sent = _events(guardian, "review.reminder_sent")
    assert [e["guardian"]["review"]["reviewer"] for e in sent] == ["nina"]
    assert sent[0]["user"]["id"] == "ivan"
    page = console.client.get(f"/console/campaigns/{campaign}").text
    assert "manual:1 to nina" in page


def test_filters_choose_what_is_shown(console: Console) -> None:
    _open(console)
    console.sign_in("nina")
    only_dave = _rows(console.client.get("/console/reviews?person=dave").text)
    assert {uid for uid, _ in only_dave} == {"dave"}
    revoke = console.client.get("/console/reviews?recommendation=revoke").text
    assert {uid for uid, _ in _rows(revoke)} >= {"grace", "heidi"}
    bad = console.client.get("/console/reviews?recommendation=<script>")
    assert bad.status_code == 422 and "<script>" not in bad.text


def test_a_justification_with_markup_is_shown_escaped(console: Console) -> None:
    _open(console)
    console.sign_in("nina")
    rows = _rows(console.client.get("/console/reviews").text)
    item = rows[("alice", "customer-care")]
    markup = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    decided = console.post("/console/reviews", {"one": f"keep:{item}", f"j-{item}": markup})
    assert decided.status_code == 200, decided.text
    shown = console.client.get("/console/reviews?show=decided").text
    assert "&lt;script&gt;alert(" in shown and "<script>alert(" not in shown
    assert "<img src=x" not in shown

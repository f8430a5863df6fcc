"""Access reviews over HTTP on the demo organisation: ivan opens crm-quarterly, nina sees only
her people and revokes dave's marketing, the close holds at the brake until ivan confirms, and
dave's next marketing decision is denied ``access_revoked`` naming the campaign; the errors of
the contract (``not_your_item``, ``justification_required``, ``stage_closed``) and a fresh
second factor for every reviewer and officer action."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from guardian.audit.checkpoints import public_pem
from guardian.bootstrap import Guardian
from guardian.cli.main import app as cli
from guardian.clock import ManualClock
from guardian.reports.signing import verify_report
from support import API_KEY, Signer, decision_body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _open(client: TestClient, officer: dict[str, str]) -> dict[str, Any]:
    response = client.post("/v1/campaigns", headers=officer, json={"definition": "crm-quarterly"})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _inbox(client: TestClient, reviewer: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = client.get("/v1/reviews", headers=reviewer, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _item(items: list[dict[str, Any]], uid: str, role: str) -> dict[str, Any]:
    [found] = [i for i in items if i["subject"]["uid"] == uid and i["access"]["role"] == role]
    return found


def test_ivan_opens_nina_revokes_dave_marketing_and_it_is_denied_at_once(
    client: TestClient, signer: Signer
) -> None:
    ivan, nina = _bearer(signer.token("ivan")), _bearer(signer.token("nina"))
    dave = signer.token("dave")
    marketing = decision_body("dave", dave, purpose="marketing", customers=["C-1001"])
    before = client.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=marketing)
    assert before.json()["decision"] == "permit", before.text

    campaign = _open(client, ivan)
    assert campaign["state"] == "open" and campaign["opened_by"] == "ivan"
    assert campaign["snapshot_hash"].startswith("sha256:")
    assert campaign["counts"]["items"] == campaign["counts"]["pending"] > 0

    mine = _inbox(client, nina)
    assert {i["subject"]["uid"] for i in mine} == {"alice", "bob", "dave", "frank", "grace",
                                                  "heidi"}
    assert all(i["reviewer"] == "nina" and i["assigned_by"] == "manager" for i in mine)
    item = _item(mine, "dave", "marketing")
    assert set(item["usage"]) >= {"window_days", "permits", "last_used_at", "categories_used",
                                  "customers", "denies"}
    assert item["recommendation"]["decision"] in ("keep", "revoke")

    decided = client.post("/v1/reviews:decide", headers=nina, json={"decisions": [
        {"item_id": item["id"], "decision": "revoke"}]})
    assert decided.status_code == 200, decided.text
    assert decided.json()["items"][0]["decision"]["decision"] == "revoke"

    closed = client.post(f"/v1/campaigns/{campaign['id']}:close", headers=ivan)
    assert closed.status_code == 200, closed.text
    if closed.json()["state"] == "closing":  # the brake held it: an officer confirms
        assert closed.json()["held"]["would_revoke"] > 0
        closed = client.post(f"/v1/campaigns/{campaign['id']}:confirm", headers=ivan)
        assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "remediating"

    after = client.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=marketing).json()
    assert after["decision"] == "deny"
    assert after["reasons"][0]["code"] == "access_revoked"
    assert campaign["id"] in after["reasons"][0]["message"]

    remediation = client.get(f"/v1/campaigns/{campaign['id']}/remediation", headers=ivan)
    assert remediation.status_code == 200
    rows = remediation.json()["items"]
    assert {"uid": "dave", "role": "marketing", "state": "blocked"}.items() <= \
        next(r for r in rows if r["uid"] == "dave").items()
    as_csv = client.get(f"/v1/campaigns/{campaign['id']}/remediation",
                        headers=ivan, params={"format": "csv"})
    assert as_csv.text.splitlines()[0].startswith("item_id,uid,access,role")
    assert any(line.split(",")[1:4] == ["dave", "role", "marketing"]
               for line in as_csv.text.splitlines()[1:])


def test_the_contract_errors(client: TestClient, signer: Signer) -> None:
    ivan, nina = _bearer(signer.token("ivan")), _bearer(signer.token("nina"))
    oscar = _bearer(signer.token("oscar"))
    campaign = _open(client, ivan)
    carol = _item(_inbox(client, oscar), "carol", "fraud-analyst")
    bob = _item(_inbox(client, nina), "bob", "billing")

    def decide(who: dict[str, str], *decisions: dict[str, Any]) -> tuple[int, str]:
        r = client.post("/v1/reviews:decide", headers=who, json={"decisions": list(decisions)})
        return r.status_code, r.json()["error"]["code"] if r.status_code != 200 else "ok"

    assert decide(nina, {"item_id": carol["id"], "decision": "keep"}) == (403, "not_your_item")
    assert decide(nina, {"item_id": bob["id"], "decision": "keep"}) == (
        422, "justification_required")  # billing is high sensitivity
    assert decide(nina, {"item_id": bob["id"], "decision": "keep",
                         "justification": "invoices every customer monthly"}) == (200, "ok")
    assert decide(nina, {"item_id": bob["id"], "decision": "maybe"})[0] == 422
    assert decide(nina, {"item_id": "01NOPE", "decision": "keep"}) == (404, "item_not_found")
    client.post(f"/v1/campaigns/{campaign['id']}:cancel", headers=ivan,
                json={"reason": "opened by mistake"})
    assert decide(nina, {"item_id": bob["id"], "decision": "revoke"}) == (409, "stage_closed")
    assert _inbox(client, nina) == []  # a cancelled campaign's items leave the inbox


def test_a_change_of_mind_is_kept_in_the_history(client: TestClient, signer: Signer) -> None:
    ivan, nina = _bearer(signer.token("ivan")), _bearer(signer.token("nina"))
    campaign = _open(client, ivan)
    alice = _item(_inbox(client, nina), "alice", "customer-care")
    for decision, text in (("revoke", None), ("keep", "answers customers every day")):
        body: dict[str, Any] = {"item_id": alice["id"], "decision": decision}
        if text:
            body["justification"] = text
        r = client.post("/v1/reviews:decide", headers=nina, json={"decisions": [body]})
        assert r.status_code == 200, r.text
    assert _item(_inbox(client, nina), "alice", "customer-care")["decision"]["decision"] == "keep"
    assert len(_inbox(client, nina, state="pending")) == 5
    client.post(f"/v1/campaigns/{campaign['id']}:close", headers=ivan)
    late = client.post("/v1/reviews:decide", headers=nina, json={"decisions": [
        {"item_id": alice["id"], "decision": "revoke"}]})
    assert (late.status_code, late.json()["error"]["code"]) == (409, "stage_closed")


def test_reviewers_and_officers_need_a_fresh_second_factor(
    client: TestClient, signer: Signer, clock: ManualClock
) -> None:
    ivan, nina = _bearer(signer.token("ivan")), _bearer(signer.token("nina"))
    clock.advance(3 * 3600)
    for response in (client.get("/v1/reviews", headers=nina),
                     client.post("/v1/campaigns", headers=ivan,
                                 json={"definition": "crm-quarterly"})):
        assert (response.status_code, response.json()["error"]["code"]) == (
            403, "fresh_mfa_required")


def test_only_officers_open_and_only_readers_list(client: TestClient, signer: Signer) -> None:
    nina, judy = _bearer(signer.token("nina")), _bearer(signer.token("judy"))
    refused = client.post("/v1/campaigns", headers=nina, json={"definition": "crm-quarterly"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "role_required")
    unknown = client.post("/v1/campaigns", headers=_bearer(signer.token("ivan")),
                          json={"definition": "nope"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (
        404, "definition_not_found")
    assert client.get("/v1/campaigns", headers=judy).json() == {"campaigns": []}
    assert client.get("/v1/campaigns/01NOPE", headers=judy).json()["error"]["code"] == \
        "campaign_not_found"


def test_the_evidence_report_lists_every_item_and_verifies(
    client: TestClient, signer: Signer, guardian: Guardian, tmp_path: Path
) -> None:
    ivan, nina = _bearer(signer.token("ivan")), _bearer(signer.token("nina"))
    judy = _bearer(signer.token("judy"))
    campaign = _open(client, ivan)
    dave = _item(_inbox(client, nina), "dave", "marketing")
    client.post("/v1/reviews:decide", headers=nina, json={"decisions": [
        {"item_id": dave["id"], "decision": "revoke"}]})
    client.post(f"/v1/campaigns/{campaign['id']}:close", headers=ivan)
    client.post(f"/v1/campaigns/{campaign['id']}:confirm", headers=ivan)

    response = client.get(f"/v1/campaigns/{campaign['id']}/report", headers=judy)

    assert response.status_code == 200, response.text
    doc = response.json()
    assert len(doc["items"]) == campaign["counts"]["items"]
    assert doc["population"]["matches_snapshot"] is True
    assert doc["population"]["snapshot_hash"] == campaign["snapshot_hash"]
    revoked = next(i for i in doc["items"] if i["id"] == dave["id"])
    assert [h["decision"] for h in revoked["history"]] == ["revoke"]
    assert revoked["remediation"]["state"] == "blocked"
    assert set(doc["defaulted"]) and dave["id"] not in doc["defaulted"]
    assert verify_report(doc, guardian.audit.signer.public_key) is None
    path, pem = tmp_path / "evidence.json", tmp_path / "audit-key.pem"
    path.write_bytes(response.content)
    pem.write_text(public_pem(guardian.audit.signer.public_key))
    result = CliRunner().invoke(cli, ["report", "verify", str(path), "--public-key", str(pem)])
    assert result.exit_code == 0, result.output
    assert f"campaign {campaign['id']}" in result.output
    doc["items"][0]["decision"] = {"decision": "keep"}
    assert verify_report(doc, guardian.audit.signer.public_key) is not None
    for form, kind in (("html", "text/html"), ("csv", "application/zip")):
        rendered = client.get(f"/v1/campaigns/{campaign['id']}/report", headers=judy,
                              params={"format": form})
        assert rendered.headers["content-type"].startswith(kind)
    assert dave["id"] in client.get(f"/v1/campaigns/{campaign['id']}/report", headers=judy,
                                    params={"format": "html"}).text

"""An access review end to end through a real ``guardian serve`` on the demo organisation
(issue 9): ivan opens crm-quarterly over HTTP, nina sees only her people and revokes dave's
marketing, the campaign is closed (confirmed past the brake), dave's next marketing decision
is denied ``access_revoked`` naming the campaign within a second, the evidence report lists
every item, and ``guardian report verify`` accepts it (and refuses it altered)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve_support import GUARDIAN, Served, code, password, start
from support import API_KEY, ROOT


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = start(tmp_path / "data")
    yield server
    server.stop()


def _sign_in(http: httpx.Client, uid: str) -> dict[str, str]:
    response = http.post("/v1/sessions", json={"user": uid, "password": password(uid),
                                               "otp": code(uid)})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _marketing(http: httpx.Client, token: str) -> dict[str, Any]:
    response = http.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json={
        "subject": {"id": "dave", "session_token": token}, "action": "read",
        "resource": {"database": "crm", "category": "contact", "customer_ids": ["C-1001"]},
        "purpose": "marketing"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _close(http: httpx.Client, ivan: dict[str, str], campaign_id: str) -> dict[str, Any]:
    closed = http.post(f"/v1/campaigns/{campaign_id}:close", headers=ivan)
    assert closed.status_code == 200, closed.text
    if closed.json()["state"] == "closing":  # the brake held it: the officer confirms
        closed = http.post(f"/v1/campaigns/{campaign_id}:confirm", headers=ivan)
        assert closed.status_code == 200, closed.text
    body: dict[str, Any] = closed.json()
    return body


def test_a_review_over_a_real_server_revokes_denies_and_leaves_verified_evidence(
    served: Served, tmp_path: Path
) -> None:
    with httpx.Client(base_url=served.url, timeout=60) as http:
        ivan, nina, oscar = (_sign_in(http, u) for u in ("ivan", "nina", "oscar"))
        dave = _sign_in(http, "dave")["Authorization"].removeprefix("Bearer ")
        assert _marketing(http, dave)["decision"] == "permit"

        opened = http.post("/v1/campaigns", headers=ivan, json={"definition": "crm-quarterly"})
        assert opened.status_code == 201, opened.text
        campaign = opened.json()
        mine = http.get("/v1/reviews", headers=nina, params={"limit": 1000}).json()["items"]
        theirs = http.get("/v1/reviews", headers=oscar, params={"limit": 1000}).json()["items"]
        [item] = [i for i in mine if i["subject"]["uid"] == "dave"
                  and i["access"]["role"] == "marketing"]
        decided = http.post("/v1/reviews:decide", headers=nina, json={"decisions": [
            {"item_id": item["id"], "decision": "revoke"}]})
        closed = _close(http, ivan, campaign["id"])
        revoked_at = time.monotonic()
        after = _marketing(http, dave)
        while after["decision"] != "deny" and time.monotonic() - revoked_at < 1.0:
            after = _marketing(http, dave)
        to_deny_s = time.monotonic() - revoked_at
        report = http.get(f"/v1/campaigns/{campaign['id']}/report", headers=ivan)

    assert mine and all(i["reviewer"] == "nina" and i["subject"]["manager"] == "nina"
                        for i in mine)  # only her people
    assert theirs and not {i["id"] for i in theirs} & {i["id"] for i in mine}
    assert decided.status_code == 200, decided.text
    assert closed["state"] in ("remediating", "awaiting-sign-off")
    assert after["decision"] == "deny" and to_deny_s < 1.0
    assert after["reasons"][0]["code"] == "access_revoked"
    assert campaign["id"] in after["reasons"][0]["message"]

    assert report.status_code == 200, report.text
    doc = report.json()
    assert len(doc["items"]) == campaign["counts"]["items"] == len(mine) + len(theirs) + sum(
        1 for i in doc["items"] if i["reviewer"] not in ("nina", "oscar"))
    [revoked] = [i for i in doc["items"] if i["id"] == item["id"]]
    assert revoked["decision"]["decision"] == "revoke" and revoked["decision"]["by"] == "nina"

    env = {**os.environ, "GUARDIAN_DATA_DIR": str(tmp_path / "data")}
    pem = tmp_path / "audit.pem"
    public = subprocess.run([GUARDIAN, "keys", "public"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert public.returncode == 0, public.stderr
    pem.write_text(public.stdout)
    path = tmp_path / "campaign.json"
    path.write_bytes(report.content)
    verify = [GUARDIAN, "report", "verify", str(path), "--public-key", str(pem)]
    accepted = subprocess.run(verify, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    doc["items"][0]["decision"] = None  # altered after download
    path.write_text(json.dumps(doc))
    refused = subprocess.run(verify, cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode != 0

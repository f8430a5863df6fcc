"""The consent system withdraws a customer's consent over HTTP and the next marketing decision
for that customer is denied ``consent_missing`` (issue 13, item 2), against a real
``guardian serve``. The consent system's key is made as an operator would, with
``guardian keys create NAME --scope consent`` before the server starts."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from serve_support import GUARDIAN, Served, code, password, start
from support import API_KEY, ROOT


@pytest.fixture
def consent_key(tmp_path: Path) -> str:
    env = {**os.environ, "GUARDIAN_DATA_DIR": str(tmp_path)}
    made = subprocess.run([GUARDIAN, "keys", "create", "consent-hub", "--scope", "consent"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    [key] = re.findall(r"^gk_\S+$", made.stdout, re.M)
    return key


@pytest.fixture
def served(tmp_path: Path, consent_key: str) -> Iterator[Served]:
    server = start(tmp_path)
    yield server
    server.stop()


def _marketing(http: httpx.Client, token: str) -> dict[str, object]:
    response = http.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json={
        "subject": {"id": "dave", "session_token": token}, "action": "read",
        "resource": {"database": "crm", "category": "contact", "customer_ids": ["C-1001"]},
        "purpose": "marketing"})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_withdrawal_over_http_denies_the_next_marketing_decision(
    served: Served, consent_key: str
) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as http:
        signed_in = http.post("/v1/sessions", json={
            "user": "dave", "password": password("dave"), "otp": code("dave")})
        assert signed_in.status_code == 201, signed_in.text
        token = signed_in.json()["token"]
        before = _marketing(http, token)

        withdrawn = http.put("/v1/customers/C-1001/consents/marketing",
                             headers={"X-API-Key": consent_key},
                             json={"granted": False, "source": "preference-centre"})
        after = _marketing(http, token)
        refused = http.put("/v1/customers/C-1001/consents/marketing",
                           headers={"X-API-Key": API_KEY},
                           json={"granted": True, "source": "preference-centre"})
        history = http.get("/v1/customers/C-1001/consents", headers={"X-API-Key": consent_key})

    assert before["decision"] == "permit"
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["granted"] is False
    assert after["decision"] == "deny"
    assert after["reasons"][0]["code"] == "consent_missing"  # type: ignore[index]
    assert after["reasons"][0]["customer_ids"] == ["C-1001"]  # type: ignore[index]
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "scope_required"
    assert history.json()["consents"] == [{
        "purpose": "marketing", "granted": False, "at": withdrawn.json()["at"],
        "source": "preference-centre", "recorded_by": "consent-hub"}]
    assert [(c["granted"], c["source"]) for c in history.json()["history"]] == [
        (True, "customers file"), (False, "preference-centre")]

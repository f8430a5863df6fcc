"""``PUT/GET /v1/customers/{id}/consents`` and key scopes over HTTP: every refusal with its
code, a withdrawal counted by the next decision in this process, the change journalled, the
history in the customer access report."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from guardian.bootstrap import Guardian
from support import API_KEY, Signer, decision_body

MARKETING = "/v1/customers/C-1001/consents/marketing"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _key(client: TestClient, signer: Signer, name: str, scopes: list[str]) -> dict[str, str]:
    made = client.post("/v1/keys", headers=_bearer(signer.token("ivan")),
                       json={"name": name, "scopes": scopes})
    assert made.status_code == 201, made.text
    assert made.json()["scopes"] == sorted(scopes)
    return {"X-API-Key": made.json()["key"]}


@pytest.fixture
def consent_key(client: TestClient, signer: Signer) -> dict[str, str]:
    return _key(client, signer, "consent-hub", ["consent"])


def _code(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def _events(guardian: Guardian, prefix: str) -> list[dict[str, Any]]:
    lines = guardian.settings.journal_file.read_text().splitlines()
    return [e for e in map(orjson.loads, lines)
            if e.get("event", {}).get("action", "").startswith(prefix)]


def test_a_withdrawal_is_journalled_and_denies_the_next_marketing_decision(
    client: TestClient, signer: Signer, guardian: Guardian, consent_key: dict[str, str]
) -> None:
    body = decision_body("dave", signer.token("dave"), purpose="marketing")
    before = client.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=body).json()

    put = client.put(MARKETING, headers=consent_key,
                     json={"granted": False, "source": "preference-centre"})
    after = client.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=body).json()
    again = client.put(MARKETING, headers=consent_key,
                       json={"granted": True, "source": "web-form"})
    permitted = client.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=body).json()

    assert before["decision"] == "permit"
    assert put.status_code == 200, put.text
    assert put.json() | {"at": "-", "recorded_at": "-", "change_id": 0, "key_id": "-"} == {
        "customer_id": "C-1001", "purpose": "marketing", "granted": False, "at": "-",
        "source": "preference-centre", "recorded_by": "consent-hub", "key_id": "-",
        "recorded_at": "-", "change_id": 0}
    assert [r["code"] for r in after["reasons"]] == ["consent_missing"]
    assert again.status_code == 200 and permitted["decision"] == "permit"
    [withdrawn, granted] = _events(guardian, "consent.")
    assert withdrawn["event"]["action"] == "consent.withdrawn"
    assert withdrawn["service"] == {"name": "consent-hub"}
    assert withdrawn["guardian"]["consent"] | {"at": 0} == {
        "customer_id": "C-1001", "granted": False, "source": "preference-centre", "at": 0}
    assert withdrawn["guardian"]["key_id"] == put.json()["key_id"]
    assert granted["event"]["action"] == "consent.granted"


def test_the_history_is_read_by_a_consent_key_or_a_signed_in_auditor(
    client: TestClient, signer: Signer, consent_key: dict[str, str]
) -> None:
    client.put(MARKETING, headers=consent_key, json={"granted": False, "source": "letter",
                                                     "at": "2026-01-02T03:04:05Z"})

    by_key = client.get("/v1/customers/C-1001/consents", headers=consent_key)
    by_auditor = client.get("/v1/customers/C-1001/consents",
                            headers=_bearer(signer.token("judy")))
    by_alice = client.get("/v1/customers/C-1001/consents", headers=_bearer(signer.token("alice")))
    by_decide_key = client.get("/v1/customers/C-1001/consents", headers={"X-API-Key": API_KEY})
    nobody = client.get("/v1/customers/C-1001/consents")

    assert by_key.status_code == by_auditor.status_code == 200
    assert by_key.json() == by_auditor.json()
    # An old withdrawal imported after the seed is history, but the seed's grant is newer.
    assert by_key.json()["consents"][0]["granted"] is True
    assert [(c["granted"], c["at"]) for c in by_key.json()["history"]][1] == (
        False, "2026-01-02T03:04:05Z")
    assert _code(by_alice) == (403, "role_required")
    assert _code(by_decide_key) == (403, "scope_required")
    assert _code(nobody) == (401, "invalid_api_key")


@pytest.mark.parametrize(("path", "body", "expected"), [
    ("/v1/customers/C-1001%E2%80%8B/consents/marketing", {"granted": False, "source": "x"},
     "invalid_customer_id"),
    ("/v1/customers/C%201001/consents/marketing", {"granted": False, "source": "x"},
     "invalid_customer_id"),
    ("/v1/customers/C-1001/consents/astrology", {"granted": False, "source": "x"},
     "unknown_purpose"),
    ("/v1/customers/C-1001/consents/billing", {"granted": True, "source": "x"},
     "consent_not_needed"),
    (MARKETING, {"granted": True, "source": "   "}, "invalid_consent"),
    (MARKETING, {"granted": True, "source": "a\u0007b"}, "invalid_consent"),
    (MARKETING, {"granted": True, "source": "x", "at": "2999-01-01T00:00:00Z"},
     "invalid_consent"),
    (MARKETING, {"granted": True, "source": "x", "at": "2026-01-01T00:00:00"},
     "invalid_consent"),
    (MARKETING, {"granted": True, "source": "x", "at": "yesterday-ish"}, "invalid_consent"),
    (MARKETING, {"granted": "yes", "source": "x"}, "invalid_request"),
    (MARKETING, {"source": "x"}, "invalid_request"),
    (MARKETING, {"granted": True, "source": "x", "extra": 1}, "invalid_request"),
])
def test_bad_consent_input_is_a_422_with_its_code_and_nothing_is_journalled(
    client: TestClient, guardian: Guardian, consent_key: dict[str, str], path: str,
    body: dict[str, Any], expected: str,
) -> None:
    response = client.put(path, headers=consent_key, json=body)

    assert _code(response) == (422, expected)
    assert _events(guardian, "consent.") == []


def test_keys_without_the_scope_are_refused_with_403_scope_required(
    client: TestClient, signer: Signer, consent_key: dict[str, str]
) -> None:
    body = decision_body("alice", signer.token("alice"))
    both = _key(client, signer, "both", ["decide", "consent"])

    decided = client.post("/v1/decisions", headers=consent_key, json=body)
    batch = client.post("/v1/decisions:batch", headers=consent_key, json={"requests": [body]})
    recorded = client.put(MARKETING, headers={"X-API-Key": API_KEY},
                          json={"granted": True, "source": "x"})
    unknown = client.put(MARKETING, headers={"X-API-Key": "nope"},
                         json={"granted": True, "source": "x"})

    assert _code(decided) == (403, "scope_required")
    assert _code(batch) == (403, "scope_required")
    assert _code(recorded) == (403, "scope_required")
    assert _code(unknown) == (401, "invalid_api_key")
    assert client.post("/v1/decisions", headers=both, json=body).json()["decision"] == "permit"
    assert client.put(MARKETING, headers=both,
                      json={"granted": True, "source": "x"}).status_code == 200


def test_keys_list_their_scopes_and_a_key_without_any_is_refused(
    client: TestClient, signer: Signer, consent_key: dict[str, str]
) -> None:
    officer = _bearer(signer.token("ivan"))
    listed = client.get("/v1/keys", headers=officer).json()["keys"]
    empty = client.post("/v1/keys", headers=officer, json={"name": "x", "scopes": []})
    odd = client.post("/v1/keys", headers=officer, json={"name": "x", "scopes": ["admin"]})
    plain = client.post("/v1/keys", headers=officer, json={"name": "plain"})

    assert [(k["name"], k["scopes"]) for k in listed] == [
        ("demo-app", ["decide"]), ("consent-hub", ["consent"])]
    assert _code(empty) == (422, "invalid_request")
    assert _code(odd) == (422, "invalid_request")
    assert plain.json()["scopes"] == ["decide"]


def test_the_customer_access_report_shows_the_consent_history(
    client: TestClient, signer: Signer, consent_key: dict[str, str]
) -> None:
    client.put(MARKETING, headers=consent_key, json={"granted": False, "source": "letter"})

    report = client.get("/v1/customers/C-1001/access-report",
                        headers=_bearer(signer.token("judy")))
    html = client.get("/v1/customers/C-1001/access-report?format=html",
                      headers=_bearer(signer.token("judy")))

    consent = report.json()["consent"]
    assert consent["consents"][0] | {"at": "-"} == {
        "purpose": "marketing", "granted": False, "at": "-", "source": "letter",
        "recorded_by": "consent-hub"}
    assert [(c["granted"], c["source"]) for c in consent["history"]] == [
        (True, "customers file"), (False, "letter")]
    assert "Consent history (2)" in html.text and "letter" in html.text

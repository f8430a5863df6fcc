"""What the trail records about a decision request, and what input is refused before deciding:
the authenticated application and key (not what the body claims), canonical customer ids and
client addresses, bulk requests that say what they cover, duplicate JSON keys."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from guardian.bootstrap import Guardian
from guardian.clock import ManualClock
from guardian.governance.api_keys import key_digest
from guardian.identity.vocabulary import AuthMethod
from guardian.journal.writer import read_events
from support import API_KEY, decision_body

H = {"X-API-Key": API_KEY}
MFA = (AuthMethod.PASSWORD, AuthMethod.OTP)


def _token(guardian: Guardian, clock: ManualClock, uid: str = "alice") -> str:
    token, _ = guardian.signer.issue(uid, MFA, clock.now(), clock.now(), 3600)
    return token


def _decisions(guardian: Guardian) -> list[dict[str, Any]]:
    events = [orjson.loads(line) for _, line in read_events(guardian.settings.journal_file)]
    return [e for e in events if e.get("event", {}).get("action") == "access.decision"]


def _last_decision(guardian: Guardian) -> dict[str, Any]:
    return _decisions(guardian)[-1]


def _refused(client: TestClient, guardian: Guardian, body: Any, code: str,
             path: str = "/v1/decisions") -> None:
    before = guardian.journal.last_seq  # type: ignore[attr-defined]
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    response = client.post(path, content=content, headers=H)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code, response.text
    assert guardian.journal.last_seq == before  # type: ignore[attr-defined]


# -- 1. the authenticated application ------------------------------------------------------

def test_the_trail_names_the_keys_application_not_the_one_the_body_claims(
    client: TestClient, guardian: Guardian, clock: ManualClock
) -> None:
    body = decision_body("alice", _token(guardian, clock))
    body["context"] = {"client_ip": "10.2.3.4", "application": "billing-batch"}
    assert client.post("/v1/decisions", json=body, headers=H).json()["decision"] == "permit"
    event = _last_decision(guardian)
    assert event["service"]["name"] == "demo-app"
    assert event["guardian"]["key_id"] == "sha256:" + key_digest(API_KEY)[:16]
    assert event["guardian"]["client"] == {"application": "billing-batch"}


def test_a_batch_records_the_authenticated_application_for_every_decision(
    client: TestClient, guardian: Guardian, clock: ManualClock
) -> None:
    body = decision_body("alice", _token(guardian, clock))
    body["context"] = {"application": "crm-web"}
    response = client.post("/v1/decisions:batch", json={"requests": [body, body]}, headers=H)
    assert response.status_code == 200
    events = _decisions(guardian)
    assert [e["service"]["name"] for e in events] == ["demo-app", "demo-app"]
    assert all(e["guardian"]["client"]["application"] == "crm-web" for e in events)


# -- 2. customer ids -----------------------------------------------------------------------

@pytest.mark.parametrize("variant", [
    "C-1005\u200b", "\u200eC-1005", "C-1005\u202e", "\uff23-1005", "C-1005 ", "C\u20131005",
    "C-1005\ufeff", "C/1005",
])
def test_a_look_alike_or_invisible_variant_of_a_customer_id_is_refused(
    client: TestClient, guardian: Guardian, clock: ManualClock, variant: str
) -> None:
    body = decision_body("alice", _token(guardian, clock), customers=["C-1001", variant])
    _refused(client, guardian, body, "invalid_customer_id")


def test_case_is_kept_as_the_organisation_writes_it(
    client: TestClient, guardian: Guardian, clock: ManualClock
) -> None:
    body = decision_body("alice", _token(guardian, clock), customers=["c-1005"])
    assert client.post("/v1/decisions", json=body, headers=H).status_code == 200
    assert _last_decision(guardian)["guardian"]["customer_ids"] == ["c-1005"]


def test_an_organisation_pattern_refuses_what_it_does_not_allow(
    tmp_path: Any, clock: ManualClock
) -> None:
    import re

    from guardian.api import create_app
    from guardian.bootstrap import build
    from support import demo_settings

    g = build(demo_settings(tmp_path, customer_id_pattern=re.compile(r"C-\d{4}")), clock=clock, prepare=True)
    try:
        with TestClient(create_app(g), raise_server_exceptions=False) as c:
            ok = decision_body("alice", _token(g, clock), customers=["C-1005"])
            assert c.post("/v1/decisions", json=ok, headers=H).status_code == 200
            _refused(c, g, decision_body("alice", _token(g, clock), customers=["c-1005"]),
                     "invalid_customer_id")
    finally:
        g.close()


def test_no_customer_named_is_refused_for_a_purpose_that_is_not_bulk(
    client: TestClient, guardian: Guardian, clock: ManualClock
) -> None:
    body = decision_body("alice", _token(guardian, clock), customers=[])
    _refused(client, guardian, body, "customers_required")
    batch = {"requests": [decision_body("alice", _token(guardian, clock)), body]}
    _refused(client, guardian, batch, "customers_required", "/v1/decisions:batch")


def test_a_bulk_purpose_may_name_no_customer_but_must_say_what_it_covers(
    client: TestClient, guardian: Guardian, clock: ManualClock
) -> None:
    body = decision_body("carol", _token(guardian, clock, "carol"), resource="crm/location",
                         purpose="fraud-prevention", customers=[])
    _refused(client, guardian, body, "bulk_scope_required")
    body["resource"]["scope"] = "SIM-swap pattern FR-2026-12, all subscribers"  # type: ignore[index]
    response = client.post("/v1/decisions", json=body, headers=H)
    assert response.status_code == 200
    assert response.json()["decision"] == "permit"
    assert _last_decision(guardian)["guardian"]["scope"] == body["resource"]["scope"]  # type: ignore[index]


# -- 4. duplicate keys ---------------------------------------------------------------------

def _with_duplicate_subject(body: dict[str, Any]) -> bytes:
    text = orjson.dumps(body).decode()
    return ('{"subject": {"id": "mallory"}, ' + text[1:]).encode()


def test_a_duplicate_key_in_a_decision_is_refused(
    client: TestClient, guardian: Guardian, clock: ManualClock
) -> None:
    content = _with_duplicate_subject(decision_body("alice", _token(guardian, clock)))
    _refused(client, guardian, content, "duplicate_key")


def test_a_duplicate_key_deep_in_a_batch_is_refused(
    client: TestClient, guardian: Guardian, clock: ManualClock
) -> None:
    item = orjson.dumps(decision_body("alice", _token(guardian, clock))).decode()
    nested = item.replace('"database":"crm"', '"database":"crm" , "database" :"crm"')
    assert nested != item
    content = ('{"requests": [' + item + ", " + nested + "]}").encode()
    _refused(client, guardian, content, "duplicate_key", "/v1/decisions:batch")


def test_a_duplicate_key_hidden_behind_colons_in_strings_is_found(
    client: TestClient, guardian: Guardian, clock: ManualClock
) -> None:
    body = decision_body("alice", _token(guardian, clock))
    body["context"] = {"client_ip": "2001:db8::1"}  # colons in a value: the exact check runs
    _refused(client, guardian, _with_duplicate_subject(body), "duplicate_key")


def test_a_duplicate_key_in_a_sign_in_is_refused(client: TestClient, guardian: Guardian) -> None:
    before = guardian.journal.last_seq  # type: ignore[attr-defined]
    content = b'{"user": "mallory", "password": "x", "user": "alice"}'
    response = client.post("/v1/sessions", content=content,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "duplicate_key"
    assert guardian.journal.last_seq == before  # type: ignore[attr-defined]


def test_the_same_key_in_different_objects_is_not_a_duplicate(
    client: TestClient, guardian: Guardian, clock: ManualClock
) -> None:
    body = decision_body("alice", _token(guardian, clock))
    body["subject"] = {"id": "alice", "session_token": _token(guardian, clock)}
    body["context"] = {"application": "id"}
    assert client.post("/v1/decisions", json=body, headers=H).status_code == 200


# -- 5. client_ip --------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "stored"), [
    ("10.2.3.4", "10.2.3.4"), ("2001:DB8:0::0:1", "2001:db8::1"), ("::ffff:10.0.0.1", "::ffff:a00:1"),
])
def test_client_ip_is_stored_canonical(
    client: TestClient, guardian: Guardian, clock: ManualClock, given: str, stored: str
) -> None:
    body = decision_body("alice", _token(guardian, clock))
    body["context"] = {"client_ip": given}
    assert client.post("/v1/decisions", json=body, headers=H).status_code == 200
    assert _last_decision(guardian)["source"]["ip"] == stored


@pytest.mark.parametrize("bad", [
    "fe80::1%eth0", "fe80::1%\nguardian.decision=permit", "10.2.3.4\n", "not-an-ip",
    "10.2.3.256", "010.2.3.4", "10.2.3.4/32", " 10.2.3.4", "x" * 60,
])
def test_anything_but_an_address_in_client_ip_is_refused(
    client: TestClient, guardian: Guardian, clock: ManualClock, bad: str
) -> None:
    body = decision_body("alice", _token(guardian, clock))
    body["context"] = {"client_ip": bad}
    _refused(client, guardian, body, "invalid_client_ip")

"""``/v1/keys`` and the applications file: its keys are listed beside the store's (source
``file``) and revoked like them — the revocation is kept in the store, honoured from the next
request on and after a restart, and the file is left as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from guardian.api import create_app
from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from support import API_KEY, ROOT, Signer, decision_body, demo_settings

DEMO_KEY_ID = "file-5181bf7b72b66a9c"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _events(guardian: Guardian, action: str) -> list[dict[str, Any]]:
    lines = [line for line in guardian.settings.journal_file.read_text().splitlines()
             if not line.startswith('{"seal":')]  # a group commit's seal is not an event
    return [e for e in map(orjson.loads, lines) if e["event"]["action"] == action]


@pytest.fixture
def officer(signer: Signer) -> dict[str, str]:
    return _bearer(signer.token("ivan"))


def test_the_applications_file_keys_are_listed_as_source_file(
    client: TestClient, officer: dict[str, str]
) -> None:
    client.post("/v1/keys", headers=officer, json={"name": "crm-web"})

    keys = client.get("/v1/keys", headers=officer).json()["keys"]

    assert [(k["name"], k["source"], k["active"]) for k in keys] == [
        ("demo-app", "file", True), ("crm-web", "store", True)]
    assert keys[0] | {"name": "-"} == {
        "id": DEMO_KEY_ID, "name": "-", "source": "file", "created_at": None,
        "created_by": None, "revoked_at": None, "active": True, "scopes": ["decide"]}


def test_a_revoked_file_key_is_refused_on_the_next_request_and_after_a_restart(
    client: TestClient, officer: dict[str, str], signer: Signer, guardian: Guardian,
    tmp_path: Path, clock: ManualClock,
) -> None:
    applications = (ROOT / "policies/demo/applications.yaml").read_bytes()
    body = decision_body("alice", signer.token("alice"))
    before = client.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=body)

    revoked = client.delete(f"/v1/keys/{DEMO_KEY_ID}", headers=officer)
    after = client.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=body)
    listed = client.get("/v1/keys", headers=officer).json()["keys"]

    assert before.json()["decision"] == "permit"
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["source"], revoked.json()["active"]) == ("file", False)
    assert (after.status_code, after.json()["error"]["code"]) == (401, "invalid_api_key")
    assert [(k["id"], k["active"]) for k in listed] == [(DEMO_KEY_ID, False)]
    [event] = _events(guardian, "governance.api_key_revoked")
    assert event["user"]["id"] == "ivan"
    assert {k: event["guardian"][k] for k in ("key_id", "application", "source")} == {
        "key_id": DEMO_KEY_ID, "application": "demo-app", "source": "file"}
    assert (ROOT / "policies/demo/applications.yaml").read_bytes() == applications
    guardian.close()
    restarted = build(demo_settings(tmp_path), clock=clock, prepare=True)
    try:
        with TestClient(create_app(restarted), raise_server_exceptions=False) as c:
            again = c.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=body)
        assert (again.status_code, again.json()["error"]["code"]) == (401, "invalid_api_key")
    finally:
        restarted.close()


def test_revoking_a_file_key_twice_is_not_found(
    client: TestClient, officer: dict[str, str]
) -> None:
    client.delete(f"/v1/keys/{DEMO_KEY_ID}", headers=officer)

    again = client.delete(f"/v1/keys/{DEMO_KEY_ID}", headers=officer)

    assert (again.status_code, again.json()["error"]["code"]) == (404, "not_found")

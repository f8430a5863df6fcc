"""Test helpers shared by every suite: demo settings, TOTP codes, decision bodies."""

from __future__ import annotations

import base64
from pathlib import Path

from fastapi.testclient import TestClient

from guardian.clock import ManualClock
from guardian.config import Settings
from guardian.identity.totp import code_at

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "demo-app-key"


def demo_secret(uid: str) -> str:
    return base64.b32encode(f"guardian-demo-{uid}".encode()).decode().rstrip("=")


def demo_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "policy_dir": ROOT / "policies",
        "directory_file": ROOT / "policies/demo/directory.yaml",
        "applications_file": ROOT / "policies/demo/applications.yaml",
        "customers_file": ROOT / "policies/demo/customers.yaml",
        "data_dir": tmp_path / "var",
        "audit_dir": ROOT / "audit",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


class Signer:
    """Signs demo users in through the API, moving the clock so no code is ever reused."""

    def __init__(self, client: TestClient, clock: ManualClock) -> None:
        self.client = client
        self.clock = clock

    def code(self, uid: str) -> str:
        return code_at(demo_secret(uid), self.clock.now())

    def token(self, uid: str) -> str:
        self.clock.advance(30)
        response = self.client.post("/v1/sessions", json={
            "user": uid, "password": f"{uid}-demo-pass", "otp": self.code(uid)})
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token


def decision_body(
    uid: str, token: str | None, *, action: str = "read", resource: str = "crm/contact",
    purpose: str = "customer-care", customers: list[str] | None = None,
    justification: str | None = None,
) -> dict[str, object]:
    database, _, category = resource.partition("/")
    body: dict[str, object] = {
        "subject": {"id": uid, **({"session_token": token} if token else {})},
        "action": action,
        "resource": {"database": database, "category": category,
                     "customer_ids": customers if customers is not None else ["C-1001"]},
        "purpose": purpose,
        "context": {"client_ip": "10.2.3.4", "application": "crm-web"},
    }
    if justification:
        body["justification"] = justification
    return body

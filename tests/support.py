"""Test helpers shared by every suite: demo settings, non-demo settings for tests with real
services, TOTP codes, decision bodies."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from fastapi.testclient import TestClient

from guardian.adapters.files.keys import write_new_key
from guardian.clock import ManualClock
from guardian.config import DEMO_SECRET_KEY, Settings
from guardian.identity.sealing import KeyPurpose, Sealer, derive_key
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


TEST_SECRET_KEY = "guardian-test-secret-key-not-the-demo-one-0123456789"


def real_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Non-demo settings, for tests with LDAP, PostgreSQL or OpenSearch (demo mode refuses
    them): a test secret key, a freshly generated audit signing key, and the demo organisation's
    directory file with its TOTP seeds sealed again under the test secret key."""
    var = tmp_path / "var"
    key = var / "keys" / "audit-signing.pem"
    if not key.exists():
        write_new_key(key)
    directory = var / "directory.yaml"
    if not directory.exists():
        directory.write_text(_resealed(ROOT / "policies/demo/directory.yaml"), encoding="utf-8")
    values: dict[str, object] = {
        "demo": False, "secret_key": TEST_SECRET_KEY, "audit_signing_key": str(key),
        "directory_file": directory,
    }
    values.update(overrides)
    return demo_settings(tmp_path, **values)


def _resealed(path: Path) -> str:
    demo = Sealer(derive_key(DEMO_SECRET_KEY, KeyPurpose.TOTP_SEEDS))
    test = Sealer(derive_key(TEST_SECRET_KEY, KeyPurpose.TOTP_SEEDS))
    uid = ""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if found := re.match(r"^- uid: (\S+)", line):
            uid = found.group(1)
        if found := re.match(r"^(\s+totp_sealed: )(v1:\S+)$", line):
            seed = demo.open(found.group(2), context=f"totp:{uid}")
            line = found.group(1) + test.seal(seed, context=f"totp:{uid}")
        out.append(line)
    return "\n".join(out) + "\n"


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

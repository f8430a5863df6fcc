"""Little for strangers: unauthenticated health says ok or degraded and nothing else; details and
metrics for monitoring (``GUARDIAN_METRICS_TOKEN``) and signed-in officers, auditors and the DPO;
the API's documentation only where it is asked for (demo mode by default)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guardian.api import create_app
from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from guardian.config import Settings
from guardian.identity.vocabulary import AuthMethod
from support import demo_settings

TOKEN = "monitoring-token-for-tests-0123456789"
MFA = (AuthMethod.PASSWORD, AuthMethod.OTP)


@pytest.fixture
def watched(tmp_path: Path, clock: ManualClock) -> Iterator[tuple[Guardian, TestClient]]:
    g = build(demo_settings(tmp_path, metrics_token=TOKEN), clock=clock, prepare=True)
    try:
        with TestClient(create_app(g), raise_server_exceptions=False) as c:
            yield g, c
    finally:
        g.close()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_stranger_learns_only_the_status(watched: tuple[Guardian, TestClient]) -> None:
    _, client = watched
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_monitoring_with_the_token_sees_the_details(watched: tuple[Guardian, TestClient]) -> None:
    _, client = watched
    body = client.get("/v1/health", headers=_bearer(TOKEN)).json()
    assert body["status"] == "ok" and body["policy_version"].startswith("sha256:")
    assert {"directory", "audit", "journal"} <= body.keys()
    metrics = client.get("/v1/metrics", headers=_bearer(TOKEN))
    assert metrics.status_code == 200 and "guardian_audit_shipped_seq" in metrics.text


@pytest.mark.parametrize(("uid", "allowed"), [
    ("ivan", True), ("judy", True), ("alice", False), ("nina", False), ("mallory", False),
])
def test_officers_auditors_and_the_dpo_see_details_others_are_refused(
    watched: tuple[Guardian, TestClient], clock: ManualClock, uid: str, allowed: bool
) -> None:
    guardian, client = watched
    token, _ = guardian.signer.issue(uid, MFA, clock.now(), clock.now(), 600)
    health = client.get("/v1/health", headers=_bearer(token))
    metrics = client.get("/v1/metrics", headers=_bearer(token))
    if allowed:
        assert health.status_code == 200 and "audit" in health.json()
        assert metrics.status_code == 200
    else:
        assert health.status_code == metrics.status_code == 403
        assert health.json()["error"]["code"] == "role_required"


def test_metrics_are_closed_to_strangers_and_wrong_tokens(
    watched: tuple[Guardian, TestClient]
) -> None:
    _, client = watched
    for headers in ({}, _bearer("not-the-token"), {"Authorization": "Basic eDp5"}):
        response = client.get("/v1/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"]["code"] == "invalid_token"
    assert client.get("/v1/health", headers=_bearer("not-the-token")).status_code == 401


def test_documentation_is_served_in_demo_mode_and_off_when_turned_off(
    tmp_path: Path, clock: ManualClock, client: TestClient
) -> None:
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200
    g = build(demo_settings(tmp_path / "off", api_docs=False), clock=clock, prepare=True)
    try:
        with TestClient(create_app(g), raise_server_exceptions=False) as closed:
            for path in ("/openapi.json", "/docs", "/redoc"):
                assert closed.get(path).status_code == 404, path
    finally:
        g.close()


def test_documentation_is_off_by_default_outside_demo_mode() -> None:
    assert Settings.model_construct(demo=True).api_docs_served is True
    assert Settings.model_construct(demo=False).api_docs_served is False
    assert Settings.model_construct(demo=False, api_docs=True).api_docs_served is True

"""``GET/POST /v1/policy``: the version in force for officers, auditors and the DPO; applying
for security officers with a fresh second factor, the next decision on the new policy, a
broken policy refused with its findings (422) and the old one kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from guardian.adapters.files.policy_candidates import read_policy_files, read_test_files
from guardian.bootstrap import Guardian
from policy_support import ADDED, REMOVED, changed_policy
from support import API_KEY, Signer, decision_body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _body(root: Path) -> dict[str, Any]:
    return {"files": read_policy_files(root), "tests": read_test_files(root)}


def _location_read(client: TestClient, signer: Signer) -> str:
    body = decision_body("alice", signer.token("alice"), resource="crm/location",
                         purpose="customer-care")
    answer = client.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=body)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["decision"])


def test_an_officer_applies_a_policy_and_the_next_decision_uses_it(
    client: TestClient, signer: Signer, guardian: Guardian, tmp_path: Path
) -> None:
    officer = _bearer(signer.token("ivan"))
    before = client.get("/v1/policy", headers=officer).json()
    assert before["version"] == guardian.pipeline.policy.definition.version
    assert before["applied_by"] == "files"
    assert _location_read(client, signer) == "deny"
    answer = client.post("/v1/policy", headers=officer,
                         json=_body(changed_policy(tmp_path / "p", add=[ADDED])))
    assert answer.status_code == 200, answer.text
    applied = answer.json()
    assert applied["previous"] == before["version"] and applied["applied_by"] == "ivan"
    assert applied["diff"]["rules_added"] == [ADDED]
    assert _location_read(client, signer) == "permit"
    assert client.get("/v1/policy", headers=officer).json()["version"] == applied["version"]
    again = client.post("/v1/policy", headers=officer, json=_body(tmp_path / "p"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "policy_unchanged"


def test_a_broken_policy_is_refused_with_its_findings_and_the_old_one_stays(
    client: TestClient, signer: Signer, guardian: Guardian, tmp_path: Path
) -> None:
    officer = _bearer(signer.token("ivan"))
    version = guardian.pipeline.policy.definition.version
    failing = client.post("/v1/policy", headers=officer,
                          json=_body(changed_policy(tmp_path / "a", remove=[REMOVED])))
    assert failing.status_code == 422
    assert failing.json()["error"]["code"] == "policy_tests_failed"
    assert "alice updates a contact" in failing.json()["error"]["message"]
    lint = client.post("/v1/policy", headers=officer, json=_body(changed_policy(
        tmp_path / "b", add=["p, ghost, crm, contact, read, customer-care"])))
    assert lint.status_code == 422 and lint.json()["error"]["code"] == "policy_lint_error"
    assert "policy.csv" in lint.json()["error"]["message"]
    partial = client.post("/v1/policy", headers=officer,
                          json={"files": {"policy.csv": "p, a, b, c, d, e\n"}})
    assert partial.status_code == 422 and partial.json()["error"]["code"] == "invalid_request"
    assert guardian.pipeline.policy.definition.version == version


def test_only_a_security_officer_applies_and_an_auditor_reads(
    client: TestClient, signer: Signer, tmp_path: Path
) -> None:
    body = _body(changed_policy(tmp_path / "p", add=[ADDED]))
    assert client.post("/v1/policy", json=body).status_code == 401
    for uid in ("judy", "alice"):
        refused = client.post("/v1/policy", headers=_bearer(signer.token(uid)), json=body)
        assert refused.status_code == 403, uid
    assert client.get("/v1/policy", headers=_bearer(signer.token("alice"))).status_code == 403

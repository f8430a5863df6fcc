"""``guardian policy apply`` across processes on the embedded SQLite store: a policy applied
by one process is in force in a real ``guardian serve`` beside it within a second (through the
change feed, its periodic refreshes set far beyond that); one applied through the server's
``POST /v1/policy`` decides the very next request there and reaches the other process too. A
decision before and after each swap tells the policies apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from change_feed_support import LIMIT_S, token, wait_for
from guardian.adapters.files.policy_candidates import read_policy_files, read_test_files
from guardian.bootstrap import Guardian, build
from policy_support import ADDED, DEMO, changed_policy
from serve_support import start
from support import API_KEY, decision_body, demo_settings

pytestmark = pytest.mark.e2e


@pytest.fixture
def one(tmp_path: Path) -> Iterator[Guardian]:
    guardian = build(demo_settings(tmp_path / "one", changes_poll_interval_s=0.1), prepare=True)
    assert guardian.changes is not None
    guardian.changes.start()
    yield guardian
    guardian.changes.stop()
    guardian.close()


@pytest.fixture
def two(tmp_path: Path, one: Guardian) -> Iterator[str]:
    served = start(tmp_path / "two", timeout_s=180,  # a loaded machine starts slowly
                   GUARDIAN_DATABASE_URL=one.settings.store_url,
                   GUARDIAN_VIEWS_REFRESH_INTERVAL_S="3600", GUARDIAN_LOG_LEVEL="warning")
    try:
        yield served.url
    finally:
        served.stop()


def test_a_policy_applied_anywhere_is_in_force_everywhere_within_a_second(
    one: Guardian, two: str, tmp_path: Path
) -> None:
    location = decision_body("alice", token(one, "alice"), resource="crm/location")
    officer = {"Authorization": f"Bearer {token(one, 'ivan')}"}
    assert one.policies is not None
    with httpx.Client(base_url=two, timeout=10) as http:
        def outcome() -> str:
            answer = http.post("/v1/decisions", headers={"X-API-Key": API_KEY}, json=location)
            assert answer.status_code == 200, answer.text
            return str(answer.json()["decision"])

        assert outcome() == "deny"
        added = changed_policy(tmp_path / "added", add=[ADDED])
        applied = one.policies.apply("ivan", read_policy_files(added), read_test_files(added))
        waited = wait_for(lambda: outcome() == "permit")
        assert waited <= LIMIT_S, waited
        assert http.get("/v1/policy", headers=officer).json()["version"] == \
            applied.version.version

        back = http.post("/v1/policy", headers=officer, json={
            "files": read_policy_files(DEMO), "tests": read_test_files(DEMO)})
        assert back.status_code == 200, back.text
        assert back.json()["diff"]["rules_removed"] == [ADDED]
        assert outcome() == "deny"  # the very next decision on the server that applied it
    version = back.json()["version"]
    assert wait_for(lambda: one.pipeline.policy.definition.version == version) <= LIMIT_S

"""The change-feed scenario shared by the PostgreSQL and the embedded SQLite tests: a grant
created, a key revoked and a consent withdrawn through instance 1 must be honoured by instance 2
within a second (issue 12 item 4). Instance 1 is a Guardian in this process; instance 2 is
reached over HTTP (a TestClient or a real ``guardian serve``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from guardian.bootstrap import Guardian
from guardian.governance.consent import ConsentCaller
from guardian.governance.grants import GrantRequest
from guardian.policy.vocabulary import AuthMethod
from support import API_KEY, decision_body

LIMIT_S = 1.0
Post = Callable[[str, dict[str, str], dict[str, Any]], tuple[int, Any]]
"""POST to instance 2: (path, headers, body) → (status, JSON body)."""


def wait_for(check: Callable[[], bool], give_up_s: float = 10.0) -> float:
    """Seconds until ``check()`` held (polled every 20 ms), or ``inf`` after ``give_up_s``."""
    started = time.monotonic()
    while time.monotonic() - started < give_up_s:
        if check():
            return time.monotonic() - started
        time.sleep(0.02)
    return float("inf")


def token(one: Guardian, uid: str) -> str:
    now = time.time()
    issued, _ = one.signer.issue(uid, (AuthMethod.PASSWORD, AuthMethod.OTP), now, now, 3600)
    return issued


def _outcome(post: Post, body: dict[str, Any], key: str = API_KEY) -> tuple[int, str | None]:
    status, answer = post("/v1/decisions", {"X-API-Key": key}, body)
    return status, answer.get("decision") if status == 200 else None


def changes_reach_instance_two(one: Guardian, post: Post) -> dict[str, float]:
    """Make each change through ``one``; how long instance 2 took to honour it."""
    fraud = decision_body("bob", token(one, "bob"), resource="crm/location",
                          purpose="fraud-prevention")
    marketing = decision_body("dave", token(one, "dave"), purpose="marketing",
                              customers=["C-1001"])
    assert _outcome(post, fraud) == (200, "deny")
    assert _outcome(post, marketing) == (200, "permit")
    made = one.api_keys.create("batch-job", "ivan")
    alice = decision_body("alice", token(one, "alice"))
    assert wait_for(lambda: _outcome(post, alice, made.key) == (200, "permit")) < 30

    waited: dict[str, float] = {}
    one.grants.grant("ivan", GrantRequest("bob", "fraud-analyst", time.time() + 3600,
                                          "INC-4711 fraud wave"))
    waited["grant created"] = wait_for(lambda: _outcome(post, fraud) == (200, "permit"))
    one.api_keys.revoke(made.record.id, "ivan")
    waited["key revoked"] = wait_for(lambda: _outcome(post, alice, made.key)[0] == 401)
    one.consent.record("C-1001", "marketing", False, "preference-centre",
                       ConsentCaller("consent-hub"))
    waited["consent withdrawn"] = wait_for(lambda: _outcome(post, marketing) == (200, "deny"))
    return waited

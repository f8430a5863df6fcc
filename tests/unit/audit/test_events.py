"""Audit event shapes: the cached timestamp writes what ``iso_utc`` would, actions are
``<domain>.<what happened>`` and unique, a failed sign-in is a failure, a consent change is not
an access to the customer, and a failed delivery says why (bounded) without saying where."""

from __future__ import annotations

import random
import re

import pytest

from guardian.audit.events import (
    AuditAction,
    consent_event,
    delivery_event,
    governance_event,
    session_event,
    timestamp,
    trail_access_event,
)
from guardian.clock import iso_utc


@pytest.mark.parametrize("at", [0.0, 1_790_000_000.0, 1_790_000_000.9995, 1_790_000_000.0004,
                                1_790_000_059.9999])
def test_the_timestamp_is_iso_utc_to_the_millisecond(at: float) -> None:
    assert timestamp(at) == iso_utc(at, "milliseconds")


def test_the_timestamp_stays_right_when_seconds_alternate() -> None:
    rng = random.Random(8)
    for _ in range(2000):
        at = 1_790_000_000 + rng.choice([0, 1, 86_400]) + rng.random()
        assert timestamp(at) == iso_utc(at, "milliseconds")


def test_actions_are_domain_dot_what_and_unique() -> None:
    values = [action.value for action in AuditAction]

    assert len(values) == len(set(values))
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", value) for value in values)


def test_a_failed_sign_in_is_a_failure_and_others_succeed() -> None:
    failed = session_event(AuditAction.SESSION_FAILED, "alice", 0.0, reason="x")
    created = session_event(AuditAction.SESSION_CREATED, "alice", 0.0)

    assert failed["event"]["outcome"] == "failure"
    assert failed["guardian"] == {"reason": "x"}
    assert created["event"]["outcome"] == "success"
    assert governance_event(AuditAction.GRANT_REFUSED, "ivan", 0.0,
                            success=False)["event"]["outcome"] == "failure"


def test_a_consent_change_names_the_customer_apart_from_accesses() -> None:
    event = consent_event("crm", "crm", "k1", 0.0, customer_id="C-1", purpose="marketing",
                          granted=False, source="web", given_at=5.0)

    assert event["event"]["action"] == AuditAction.CONSENT_WITHDRAWN.value
    assert "customer_ids" not in event["guardian"]
    assert event["guardian"]["consent"]["customer_id"] == "C-1"
    assert (event["service"], event["guardian"]["key_id"]) == ({"name": "crm"}, "k1")
    imported = consent_event("ivan", None, None, 0.0, customer_id="C-1", purpose="marketing",
                             granted=True, source="file", given_at=5.0)
    assert "service" not in imported and "key_id" not in imported["guardian"]


def test_a_failed_delivery_says_why_in_at_most_500_characters() -> None:
    ok = delivery_event("r1", "email", 3, 1, 0.0, actor="guardian")
    failed = delivery_event("r1", "webhook", 1, 5, 0.0, actor="guardian", error="x" * 900)

    assert ok["event"]["outcome"] == "success" and "error" not in ok["guardian"]["delivery"]
    assert failed["event"]["outcome"] == "failure"
    assert len(failed["guardian"]["delivery"]["error"]) == 500


def test_reading_the_trail_records_the_query_not_the_customer() -> None:
    event = trail_access_event(AuditAction.TRAIL_SEARCHED, "judy", 0.0, "customer=C-1")

    assert event["guardian"] == {"query": "customer=C-1"}
    assert event["user"] == {"id": "judy"}

"""``guardian.policy.impact``: replaying a recorded trail against a candidate finds exactly the
decisions a changed rule flips (checked against deciding every request anew with both
policies), grouped by role, person, category and purpose, with examples."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

import pytest

from guardian.adapters.files.policy import load_policy
from guardian.policy.impact import DENY_TO_PERMIT, PERMIT_TO_DENY, RecordedDecision, Replay
from guardian.policy.pipeline import CompiledPolicy
from guardian.policy.recorded import REPLAY_FIELDS, recorded_decisions
from guardian.ports import AuditIndex
from policy_support import (
    ADDED,
    DEMO,
    REMOVED,
    MemoryTrail,
    changed_policy,
    expected_flips,
    recorded_trail,
)
from support import demo_settings


@pytest.fixture
def now() -> float:
    return time.time()


@pytest.fixture
def trail(tmp_path: Path, now: float) -> list[dict[str, Any]]:
    return recorded_trail(demo_settings(tmp_path), now)


def _replay(candidate: Path, trail: list[dict[str, Any]], page: int = 1000) -> Any:
    index = cast(AuditIndex, MemoryTrail(trail))
    replay = Replay(CompiledPolicy.of(load_policy(DEMO)), CompiledPolicy.of(load_policy(candidate)))
    return replay.add_all(recorded_decisions(index, 0, page=page))


def test_the_same_policy_flips_nothing(trail: list[dict[str, Any]]) -> None:
    report = _replay(DEMO, trail)
    assert report.replayed == len(trail) > 1000
    assert report.flipped == 0 and report.rows() == []


def test_a_changed_rule_flips_exactly_the_decisions_it_decides(
    tmp_path: Path, now: float, trail: list[dict[str, Any]]
) -> None:
    candidate = changed_policy(tmp_path / "candidate", remove=[REMOVED], add=[ADDED])
    expected = expected_flips(demo_settings(tmp_path), candidate, now, trail)
    report = _replay(candidate, trail, page=97)  # pages that do not divide the trail
    assert report.flips[PERMIT_TO_DENY] == sum(v == PERMIT_TO_DENY for v in expected.values())
    assert report.flips[DENY_TO_PERMIT] == sum(v == DENY_TO_PERMIT for v in expected.values())
    assert report.flips[PERMIT_TO_DENY] > 0 and report.flips[DENY_TO_PERMIT] > 0
    rows = {(r["direction"], r["by"], r["value"]): r for r in report.rows()}
    removed = rows[(PERMIT_TO_DENY, "category", "crm/contact")]
    assert removed["flips"] == report.flips[PERMIT_TO_DENY]
    assert set(removed["examples"]) <= {k for k, v in expected.items() if v == PERMIT_TO_DENY}
    assert 1 <= len(removed["examples"]) <= 3
    assert rows[(DENY_TO_PERMIT, "role", "customer-care")]["flips"] == \
        report.flips[DENY_TO_PERMIT]
    assert rows[(DENY_TO_PERMIT, "purpose", "customer-care")]["flips"] == \
        report.flips[DENY_TO_PERMIT]
    people = {r["value"] for r in report.rows() if r["by"] == "person"}
    assert "alice" in people and "mallory" not in people and "heidi" not in people


def test_only_the_fields_a_replay_needs_are_asked_for(trail: list[dict[str, Any]]) -> None:
    index = MemoryTrail(trail)
    list(recorded_decisions(cast(AuditIndex, index), 0, page=500))
    assert len(index.queries) == len(trail) // 500 + 1
    assert all(q.fields == REPLAY_FIELDS and q.action == "access.decision"
               for q in index.queries)


def test_a_denial_the_policy_does_not_decide_stands_whatever_the_candidate(
    tmp_path: Path,
) -> None:
    everything = changed_policy(tmp_path / "c", add=[
        "p, customer-care, crm, *, read, customer-care"])
    event = {"@timestamp": "2026-12-01T10:00:00.000Z", "user": {"id": "alice", "roles": [
        "customer-care"]}, "guardian": {
        "decision_id": "D1", "database": "crm", "category": "location", "action": "read",
        "purpose": "customer-care", "reasons": ["not_authorised", "mfa_required"]}}
    replay = Replay(CompiledPolicy.of(load_policy(DEMO)), CompiledPolicy.of(load_policy(everything)))
    assert replay.add(RecordedDecision.from_event(event)) is None
    flipped = {**event, "guardian": {**event["guardian"],  # type: ignore[dict-item]
                                     "reasons": ["not_authorised"],
                                     "mfa_age_s": 5}}
    flip = replay.add(RecordedDecision.from_event(flipped))
    assert flip is not None and flip.direction == DENY_TO_PERMIT and flip.role == "customer-care"


def test_an_event_that_is_not_a_whole_decision_is_skipped_not_flipped() -> None:
    policy = CompiledPolicy.of(load_policy(DEMO))
    replay = Replay(policy, policy)
    replay.add(RecordedDecision.from_event({"@timestamp": "x", "guardian": {}}))
    assert replay.report.skipped == 1 and replay.report.replayed == 0


def test_the_subjects_current_roles_are_replayed_when_the_directory_knows_them(
    trail: list[dict[str, Any]], tmp_path: Path,
) -> None:
    candidate = changed_policy(tmp_path / "c", remove=[REMOVED])
    replay = Replay(CompiledPolicy.of(load_policy(DEMO)), CompiledPolicy.of(load_policy(candidate)),
                    roles_of=lambda uid: frozenset() if uid == "alice" else None)
    report = replay.add_all(RecordedDecision.from_event(e) for e in trail)
    assert all(r["value"] != "alice" for r in report.rows() if r["by"] == "person")

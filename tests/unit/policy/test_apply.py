"""``PolicyService.apply`` on a wired Guardian: a broken policy (lint error, failing policy
test) is refused and the old one stays; a good one is journalled as ``policy.changed`` with
both versions and the diff, stored, swapped into the pipeline and published; another process
picks the stored version up from the feed; a restart starts on the stored version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from guardian.adapters.files.policy_candidates import read_policy_files, read_test_files
from guardian.bootstrap import Guardian, build
from guardian.changes import Change, ChangeKind, LocalChanges
from guardian.clock import ManualClock
from guardian.errors import PolicyConflict, PolicyLintError, PolicyTestsFailed, PolicyUnchanged
from guardian.policy.apply import PolicyService
from guardian.policy.versions import PolicyVersion
from policy_support import ADDED, DEMO, REMOVED, changed_policy
from support import demo_settings


def _events(guardian: Guardian, action: str) -> list[dict[str, Any]]:
    lines = [line for line in guardian.settings.journal_file.read_text().splitlines()
             if not line.startswith('{"seal":')]
    return [e for e in map(orjson.loads, lines) if e["event"]["action"] == action]


def _service(guardian: Guardian) -> PolicyService:
    assert guardian.policies is not None
    return guardian.policies


def _apply(guardian: Guardian, root: Path) -> Any:
    return _service(guardian).apply("ivan", read_policy_files(root), read_test_files(root))


def test_a_policy_with_a_lint_error_is_refused_and_the_old_one_stays(
    guardian: Guardian, tmp_path: Path
) -> None:
    before = guardian.pipeline.policy
    broken = changed_policy(tmp_path / "p", add=["p, ghost, crm, contact, read, customer-care"])
    with pytest.raises(PolicyLintError) as refused:
        _apply(guardian, broken)
    assert any("unknown role 'ghost'" in f.message and f.path == "policy.csv"
               for f in refused.value.findings)
    assert guardian.pipeline.policy is before
    assert _events(guardian, "policy.changed") == []


def test_a_policy_failing_its_tests_is_refused_and_the_old_one_stays(
    guardian: Guardian, tmp_path: Path
) -> None:
    before = guardian.pipeline.policy
    with pytest.raises(PolicyTestsFailed) as refused:
        _apply(guardian, changed_policy(tmp_path / "p", remove=[REMOVED]))
    assert any("alice updates a contact" in f for f in refused.value.failures)
    assert guardian.pipeline.policy is before
    assert _service(guardian).in_force().version == before.definition.version


def test_applying_journals_the_diff_stores_swaps_and_publishes(
    tmp_path: Path, clock: ManualClock
) -> None:
    changes = LocalChanges()
    guardian = build(demo_settings(tmp_path), clock=clock, prepare=True)
    try:
        service = _service(guardian)
        service._changes = changes
        old = guardian.pipeline.policy.definition.version
        applied = _apply(guardian, changed_policy(tmp_path / "p", add=[ADDED]))
        new = applied.version.version
        assert new != old and applied.version.previous == old
        assert guardian.pipeline.policy.definition.version == new
        assert guardian.pipeline.policy.index.permits(
            ["customer-care"], "crm", "location", "read", "customer-care")
        [event] = _events(guardian, "policy.changed")
        assert event["user"]["id"] == "ivan"
        assert event["guardian"]["policy_version"] == new
        change = event["guardian"]["policy_change"]
        assert change["previous_version"] == old
        assert change["rules_added"] == [ADDED] and change["rules_removed"] == []
        assert changes.published == [Change(ChangeKind.POLICY, new)]
        with pytest.raises(PolicyUnchanged):
            _apply(guardian, tmp_path / "p")
    finally:
        guardian.close()
    restarted = build(demo_settings(tmp_path), clock=clock, prepare=True)
    try:
        assert restarted.pipeline.policy.definition.version == new
        assert _service(restarted).in_force().applied_by == "ivan"
    finally:
        restarted.close()


def _beside(first: Guardian, swapped: list[Any], in_force: PolicyVersion) -> PolicyService:
    """Another process's service on the same store (its own swap and version in force)."""
    service = _service(first)
    return PolicyService(service._versions, service._compile, first.journal,
                         first.clock, swapped.append, in_force)


def test_another_process_picks_up_the_applied_version_and_a_stale_one_conflicts(
    tmp_path: Path, clock: ManualClock
) -> None:
    first = build(demo_settings(tmp_path), clock=clock, prepare=True)
    try:
        swapped: list[Any] = []
        other = _beside(first, swapped, _service(first).in_force())
        applied = _apply(first, changed_policy(tmp_path / "p", add=[ADDED]))
        assert other.reload() and swapped[0].definition.version == applied.version.version
        assert not other.reload()
        stale = _beside(first, [], PolicyVersion("sha256:old", read_policy_files(DEMO), 0.0,
                                                 "files"))
        with pytest.raises(PolicyConflict):
            stale.apply("ivan", read_policy_files(tmp_path / "p"), {})
    finally:
        first.close()

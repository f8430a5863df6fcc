"""``guardian policy impact`` reading a real trail: the decisions of the demo policy indexed
in the embedded SQLite index and in OpenSearch, replayed against a changed policy, flip
exactly as deciding every request anew with both policies says (oldest first, page after page
with the search-after cursor, only the replay's fields fetched)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audit_index_contract import records
from audit_support import sqlite_index
from guardian.adapters.files.policy import load_policy
from guardian.adapters.opensearch.index import OpenSearchAuditIndex
from guardian.audit.records import ItemStatus
from guardian.policy.impact import Replay
from guardian.policy.pipeline import CompiledPolicy
from guardian.policy.recorded import recorded_decisions
from guardian.ports import AuditIndex
from opensearch_support import OpenSearchTamper, opensearch_index
from policy_support import ADDED, DEMO, REMOVED, changed_policy, expected_flips, recorded_trail
from support import demo_settings


def _unsealed(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for event in events:
        guardian = {k: v for k, v in event["guardian"].items()
                    if k not in ("seq", "prev_hash", "hash")}
        out.append({**event, "guardian": guardian})
    return out


@pytest.fixture(params=["sqlite", "opensearch"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditIndex]:
    if request.param == "sqlite":
        embedded = sqlite_index(tmp_path / "index.sqlite")
        embedded.setup()
        yield embedded
        embedded.close()
        return
    url = request.getfixturevalue("opensearch_url")
    with opensearch_index(url, "impact") as remote:
        remote.setup()
        yield remote


def test_impact_on_a_real_index_finds_exactly_the_flips(index: AuditIndex, tmp_path: Path
                                                         ) -> None:
    now = time.time()
    settings = demo_settings(tmp_path)
    trail = recorded_trail(settings, now)
    outcomes = index.index_events(records(_unsealed(trail)))
    assert {o.status for o in outcomes} == {ItemStatus.CREATED}
    if isinstance(index, OpenSearchAuditIndex):
        OpenSearchTamper(index).refresh()
    candidate = changed_policy(tmp_path / "candidate", remove=[REMOVED], add=[ADDED])
    expected = expected_flips(settings, candidate, now, trail)
    replay = Replay(CompiledPolicy.of(load_policy(DEMO)), CompiledPolicy.of(load_policy(candidate)))
    seen: list[int] = []
    report = replay.add_all(recorded_decisions(index, int((now - 3600) * 1000), page=250,
                                               progress=seen.append))
    assert report.replayed == len(trail) and sum(seen) == len(trail)
    flipped = {}
    for row in report.rows():
        if row["by"] == "category":
            flipped[row["direction"]] = flipped.get(row["direction"], 0) + row["flips"]
    assert flipped == {d: sum(v == d for v in expected.values()) for d in set(expected.values())}
    assert report.flipped == len(expected) > 0


def test_a_policy_changed_event_is_indexed_with_its_diff(index: AuditIndex, tmp_path: Path
                                                          ) -> None:
    from guardian.adapters.files.policy_candidates import read_policy_files
    from guardian.policy.apply import Candidate, _changed_event
    from guardian.policy.versions import policy_diff

    candidate = changed_policy(tmp_path / "c", remove=[REMOVED], add=[ADDED])
    files = read_policy_files(candidate)
    event = _changed_event("ivan", time.time(), "sha256:old", Candidate(
        CompiledPolicy.of(load_policy(candidate)), files,
        policy_diff(read_policy_files(DEMO), files)))
    [outcome] = index.index_events(records([event]))
    assert outcome.status is ItemStatus.CREATED, outcome

"""The demo history on real OpenSearch: its events (``guardian.demo_data`` included) fit the
strict index mapping, and the trail indexed there verifies with the demo signing key."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from guardian.audit.checkpoints import CheckpointVerifier
from guardian.audit.queries import AuditQuery
from guardian.audit.records import ItemStatus, JournalRecord, is_checkpoint, is_seal_line
from guardian.bootstrap import build, build_checkpoint_signer
from guardian.journal.verification import verify_index
from opensearch_support import OpenSearchTamper, opensearch_index
from support import demo_settings

pytestmark = pytest.mark.integration


def test_the_demo_history_indexes_into_opensearch_and_verifies(
        opensearch_url: str, tmp_path: Path) -> None:
    settings = demo_settings(tmp_path, demo_history=True, journal_fsync=False)
    build(settings, prepare=True).close()
    lines = settings.journal_file.read_bytes().splitlines()
    records = [JournalRecord(int(event["guardian"]["seq"]), raw, event)
               for raw in lines if raw and not is_seal_line(raw)
               for event in [orjson.loads(raw)]]
    events = [r for r in records if not is_checkpoint(r.event)]
    checkpoints = [r for r in records if is_checkpoint(r.event)]
    assert len(events) > 2000 and checkpoints
    with opensearch_index(opensearch_url, "demo-history") as index:
        index.setup()
        outcomes = index.index_checkpoints(checkpoints)  # as the shipper does: a checkpoint
        outcomes += [o for start in range(0, len(records), 1000)  # is an event of the chain too
                     for o in index.index_events(records[start:start + 1000])]
        assert {o.status for o in outcomes} == {ItemStatus.CREATED}, outcomes[:3]
        OpenSearchTamper(index).refresh()
        report = verify_index(index, CheckpointVerifier(
            [build_checkpoint_signer(settings).public_key]), settle_s=0.0)
        assert report.ok and report.events == len(records), report
        mallory = index.search(AuditQuery(user_id="mallory")).events
        assert mallory and all(e["guardian"]["demo_data"] is True for e in mallory)

"""API keys' audit events fit the strict OpenSearch mapping: a revocation carries
``guardian.source`` (store or applications file), which the mapping once lacked, so the first
revoked key stopped an OpenSearch shipper for good (found by tests/e2e/test_replicas.py)."""

from __future__ import annotations

import json

from guardian.audit.schema import mapping_problems
from guardian.bootstrap import Guardian
from support import ROOT


def test_key_creation_and_revocation_events_fit_the_strict_index_mapping(
        guardian: Guardian) -> None:
    mapping = json.loads((ROOT / "audit/opensearch/mappings.json").read_text())
    properties = mapping["template"]["mappings"]["properties"]
    made = guardian.api_keys.create("batch-job", "ivan")
    guardian.api_keys.revoke(made.record.id, "ivan")
    events = [r.event for r in guardian.journal.read_records(0, 1000)]  # type: ignore[attr-defined]
    keyed = [e for e in events if str(e["event"]["action"]).startswith("governance.api_key")]

    assert [e["event"]["action"] for e in keyed] == ["governance.api_key_created",
                                                     "governance.api_key_revoked"]
    assert keyed[1]["guardian"]["source"] == "store"
    assert [mapping_problems(e, properties) for e in keyed] == [[], []]

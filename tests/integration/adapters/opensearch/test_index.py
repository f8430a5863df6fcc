"""The OpenSearch audit index on a real node: the AuditIndex contract (the same tests as the
SQLite index), `audit init` idempotent with ISM absent said clearly, walks by point in time,
and every way of tampering with the index named by verification."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from audit_index_contract import *  # noqa: F403 - the shared contract tests
from audit_support import verifier_for
from guardian.audit.queries import AuditQuery
from guardian.audit.records import StepOutcome
from guardian.audit.verdict import Break
from guardian.journal.verification import verify_index, verify_journal
from guardian.journal.witness import witness_points
from opensearch_support import OpenSearchTamper, opensearch_index
from tamper_cases import (
    CASES,
    FORGED_CUSTOMER,
    JOURNAL_CASES,
    Case,
    JournalCase,
    cut_back_index,
    cut_back_journal,
    resign_index,
    secret_derived_key,
    ship_trail,
    witnessed,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def audit_index(opensearch_url: str) -> Iterator[Any]:
    with opensearch_index(opensearch_url, "contract") as index:
        assert index.setup().changed
        tamper = OpenSearchTamper(index)
        yield SimpleNamespace(index=index, refresh=tamper.refresh)


def test_init_is_idempotent_and_says_ism_is_absent_on_this_build(opensearch_url: str) -> None:
    with opensearch_index(opensearch_url, "init") as index:
        first = index.setup()
        second = index.setup()

        assert first.changed and not second.changed
        names = index.design.names
        steps = {s.name: s.outcome for s in second.steps}
        assert steps[f"write alias {names.events_alias}"] is StepOutcome.UNCHANGED
        ism = next(s for s in first.steps if s.name.startswith("ISM policy"))
        assert ism.outcome is StepOutcome.ABSENT
        assert index.status().retention.startswith("guardian: no ISM plugin")
        assert "not enforced" not in index.status().retention
        aliases = index.client.indices.get_alias(name=names.events_alias)
        assert aliases == {names.first_events_index: {"aliases": {
            names.events_alias: {"is_write_index": True}}}}
        mapping = index.client.indices.get_mapping(index=names.first_events_index)
        assert mapping[names.first_events_index]["mappings"]["dynamic"] == "strict"


def test_init_adds_fields_the_design_gained_to_existing_indices(opensearch_url: str) -> None:
    with opensearch_index(opensearch_url, "mapping") as index:
        index.setup()
        names = index.design.names
        index.design.properties["guardian"]["properties"]["ticket"] = {"type": "keyword"}
        try:
            report = index.setup()
        finally:
            del index.design.properties["guardian"]["properties"]["ticket"]
        step = next(s for s in report.steps if s.name == "mappings of existing indices")
        assert step.outcome is StepOutcome.UPDATED
        mapping = index.client.indices.get_mapping(index=names.first_events_index)
        guardian = mapping[names.first_events_index]["mappings"]["properties"]["guardian"]
        assert guardian["properties"]["ticket"] == {"type": "keyword"}


def test_an_event_the_strict_mapping_does_not_know_is_rejected_not_lost(
    opensearch_url: str,
) -> None:
    from audit_index_contract import records
    from audit_support import decision
    from guardian.audit.records import ItemStatus

    with opensearch_index(opensearch_url, "strict") as index:
        index.setup()
        odd = decision(1)
        odd["guardian"]["colour"] = "red"
        [outcome] = index.index_events(records([odd]))
        assert outcome.status is ItemStatus.REJECTED
        assert "strict_dynamic_mapping_exception" in outcome.detail


def test_a_decision_with_its_key_client_claims_and_scope_is_indexed(opensearch_url: str) -> None:
    from audit_index_contract import records
    from guardian.audit.records import ItemStatus
    from guardian.policy.decision_events import decision_event
    from guardian.policy.model import Action, Decision, DecisionRequest, Outcome, Reason
    from guardian.policy.vocabulary import ReasonCode

    request = DecisionRequest(
        "carol", Action.READ, "crm", "location", "fraud-prevention", (), client_ip="2001:db8::1",
        application="fraud-tools", key_id="sha256:0123456789abcdef",
        client_application="fraud-ui", scope="every SIM swapped this week")
    decided = Decision("D1", Outcome.PERMIT, (Reason(ReasonCode.PERMITTED, "ok"),), "sha256:x")
    with opensearch_index(opensearch_url, "claims") as index:
        index.setup()
        [outcome] = index.index_events(records([decision_event(request, decided, 1.0)]))
        assert outcome.status is ItemStatus.CREATED, outcome.detail


def test_an_untouched_shipped_trail_verifies_through_a_point_in_time(
    opensearch_url: str, tmp_path: Path
) -> None:
    with opensearch_index(opensearch_url, "walk") as index:
        index.setup()
        trail = ship_trail(tmp_path, index)
        OpenSearchTamper(index).refresh()

        report = verify_index(index, verifier_for(trail.key), shipped=trail.shipped)

        assert report.ok, report.detail
        assert (report.last_seq, report.checkpoints) == (trail.last_seq, 6)
        assert index.walk_mode == "point-in-time"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_tampering_with_opensearch_is_named(
    opensearch_url: str, tmp_path: Path, case: Case
) -> None:
    with opensearch_index(opensearch_url, "tamper") as index:
        index.setup()
        trail = ship_trail(tmp_path, index)
        tamper = OpenSearchTamper(index)
        tamper.refresh()
        case.apply(tamper, trail)
        tamper.refresh()

        report = verify_index(index, verifier_for(trail.key))

        assert (report.problem, report.broken_at) == (case.problem, case.at(trail)), \
            report.detail
        if case.doc_id(trail) is not None:
            assert report.doc_id == case.doc_id(trail)


# -- an insider on the host: cut back with the state file gone, re-signed with another key --


def test_opensearch_cut_back_with_the_state_file_deleted_is_caught_by_a_witness(
    opensearch_url: str, tmp_path: Path
) -> None:
    with opensearch_index(opensearch_url, "cutback") as index:
        index.setup()
        trail = ship_trail(tmp_path, index)
        copy = witness_points(witnessed(tmp_path / "journal.jsonl"), verifier_for(trail.key),
                              "the witness")
        tamper = OpenSearchTamper(index)
        tamper.refresh()
        journal_path = tmp_path / "journal.jsonl"
        kept = cut_back_journal(journal_path, trail)  # on the host: journal and state file
        cut_back_index(tamper, trail)                # and in the index
        tamper.refresh()

        alone = verify_index(index, verifier_for(trail.key))
        with_witness = verify_index(index, verifier_for(trail.key), witness=copy)
        journal_alone = verify_journal(journal_path, verifier_for(trail.key))

        assert alone.ok and alone.last_seq == kept, alone.detail
        assert journal_alone.ok
        assert (with_witness.problem, with_witness.broken_at) == (Break.TRUNCATED, kept + 1)


def test_opensearch_re_signed_with_the_secret_derived_key_is_caught_by_the_trust_file(
    opensearch_url: str, tmp_path: Path
) -> None:
    with opensearch_index(opensearch_url, "resign") as index:
        index.setup()
        trail = ship_trail(tmp_path, index)
        tamper = OpenSearchTamper(index)
        tamper.refresh()
        insider = secret_derived_key()
        resign_index(tamper, trail, insider)
        tamper.refresh()

        host_key = verify_index(index, verifier_for(insider))
        pinned = verify_index(index, verifier_for(trail.key))

        assert host_key.ok, host_key.detail
        assert (pinned.problem, pinned.broken_at) == (Break.CHECKPOINT_INVALID,
                                                      trail.checkpoints[0])
        assert insider.key_id in pinned.detail


def test_expect_seq_beyond_the_end_of_opensearch_is_a_truncated_tail(
    opensearch_url: str, tmp_path: Path
) -> None:
    with opensearch_index(opensearch_url, "expect") as index:
        index.setup()
        trail = ship_trail(tmp_path, index)
        OpenSearchTamper(index).refresh()

        report = verify_index(index, verifier_for(trail.key), expect_seq=trail.last_seq + 5)

        assert (report.problem, report.broken_at) == (Break.TRUNCATED, trail.last_seq + 1)


@pytest.mark.parametrize("case", JOURNAL_CASES, ids=[c.name for c in JOURNAL_CASES])
def test_tampering_with_the_journal_never_reaches_opensearch(
    opensearch_url: str, tmp_path: Path, case: JournalCase
) -> None:
    with opensearch_index(opensearch_url, "jtamper") as index:
        index.setup()
        trail = case.attack(tmp_path, index)
        OpenSearchTamper(index).refresh()

        report = verify_index(index, verifier_for(trail.key), shipped=trail.shipped)
        forged = index.search(AuditQuery(customer_id=FORGED_CUSTOMER)).events
        mallory = index.search(AuditQuery(user_id="mallory")).events

        assert report.ok, report.detail
        assert report.last_seq is not None and report.last_seq >= max(trail.acknowledged)
        assert forged == [] and mallory == []
        assert set(case.alarms) <= set(trail.alarms)

"""The consent service around its ports (in-memory fakes): validate, journal, then store and
apply to the view, in that order; nothing journalled for bad input, nothing stored when the
journal fails; the view keeps the latest change by (at, id); the follower reads every change,
an id committed late included."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from guardian.adapters.files.policy import load_policy
from guardian.adapters.memory.ports import MemoryConsentStore, MemoryJournal
from guardian.clock import ManualClock
from guardian.errors import (
    AuditUnavailable,
    ConsentNotNeeded,
    InvalidConsent,
    InvalidCustomerId,
    StoreUnavailable,
    UnknownPurpose,
)
from guardian.governance.consent import ConsentCaller, ConsentService
from guardian.governance.consent_records import ConsentChange, ConsentState
from guardian.governance.consent_view import ConsentFollower, ConsentView
from guardian.governance.customer_ids import canonical_customer_id
from support import ROOT

NOW = 1_790_000_000.0
APP = ConsentCaller("consent-hub", "consent-hub", "01KEY")


class Recorder:
    """Journal and store side by side, noting the order of their calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.journal = MemoryJournal()
        self.store = MemoryConsentStore()
        journal_append, store_record = self.journal.append, self.store.record_change

        def append(event: Any) -> Any:
            self.calls.append("journal")
            return journal_append(event)

        def record(change: ConsentChange) -> ConsentChange:
            self.calls.append("store")
            return store_record(change)

        self.journal.append = append  # type: ignore[method-assign]
        self.store.record_change = record  # type: ignore[method-assign]


@pytest.fixture
def parts() -> Recorder:
    return Recorder()


@pytest.fixture
def view() -> ConsentView:
    return ConsentView()


@pytest.fixture
def service(parts: Recorder, view: ConsentView) -> ConsentService:
    definition = load_policy(ROOT / "policies")
    return ConsentService(parts.store, view, parts.journal, ManualClock(start=NOW),
                          lambda: definition)


def test_a_change_is_validated_journalled_then_stored_and_counted_at_once(
    service: ConsentService, parts: Recorder, view: ConsentView
) -> None:
    assert view.without_consent(["C-1"], "marketing") == ("C-1",)

    change = service.record("C-1", "marketing", True, " web-form ", APP)

    assert parts.calls == ["journal", "store"]
    assert change.change_id == 1 and change.source == "web-form" and change.at == NOW
    assert view.without_consent(["C-1"], "marketing") == ()
    [event] = parts.journal.events
    assert event["event"]["action"] == "consent.granted"
    assert event["user"] == {"id": "consent-hub"} and event["guardian"]["key_id"] == "01KEY"


@pytest.mark.parametrize(("customer", "purpose", "source", "at", "error"), [
    ("C-1\u200b", "marketing", "x", None, InvalidCustomerId),
    ("C 1", "marketing", "x", None, InvalidCustomerId),
    ("C" * 129, "marketing", "x", None, InvalidCustomerId),
    ("C-1", "astrology", "x", None, UnknownPurpose),
    ("C-1", "billing", "x", None, ConsentNotNeeded),
    ("C-1", "marketing", "", None, InvalidConsent),
    ("C-1", "marketing", "x" * 257, None, InvalidConsent),
    ("C-1", "marketing", "x", NOW + 3600, InvalidConsent),
    ("C-1", "marketing", "x", float("nan"), InvalidConsent),
])
def test_bad_input_is_refused_before_anything_is_journalled(
    service: ConsentService, parts: Recorder, customer: str, purpose: str, source: str,
    at: float | None, error: type[Exception],
) -> None:
    with pytest.raises(error):
        service.record(customer, purpose, True, source, APP, at=at)

    assert parts.calls == []


def test_a_change_that_cannot_be_journalled_is_not_stored(
    service: ConsentService, parts: Recorder, view: ConsentView
) -> None:
    parts.journal.fail = True

    with pytest.raises(AuditUnavailable):
        service.record("C-1", "marketing", True, "x", APP)

    assert parts.store.changes == [] and view.without_consent(["C-1"], "marketing") == ("C-1",)


def test_a_store_failure_after_the_journal_leaves_the_view_unchanged(
    service: ConsentService, parts: Recorder, view: ConsentView
) -> None:
    parts.store.fail = True

    with pytest.raises(StoreUnavailable):
        service.record("C-1", "marketing", True, "x", APP)

    assert parts.calls == ["journal", "store"]
    assert view.without_consent(["C-1"], "marketing") == ("C-1",)


def test_an_nfc_variant_of_an_id_is_recorded_under_its_canonical_form(
    parts: Recorder, view: ConsentView,
) -> None:
    definition = load_policy(ROOT / "policies")
    letters = ConsentService(parts.store, view, parts.journal, ManualClock(start=NOW),
                             lambda: definition, customer_id_pattern=re.compile(r"^[\w-]+$"))
    decomposed = "Cafe\u0301-1"  # é as e + combining accent: NFC makes it one character

    change = letters.record(decomposed, "marketing", True, "x", APP)

    assert change.customer_id == "Caf\u00e9-1" == canonical_customer_id(decomposed, re.compile(
        r"^[\w-]+$"))
    assert view.without_consent(["Caf\u00e9-1"], "marketing") == ()
    with pytest.raises(InvalidCustomerId):  # the default pattern is ASCII only
        canonical_customer_id(decomposed)


def test_a_time_slightly_ahead_is_taken_as_now_so_it_cannot_outrank_a_later_withdrawal(
    service: ConsentService, view: ConsentView
) -> None:
    ahead = service.record("C-1", "marketing", True, "x", APP, at=NOW + 60)
    service.record("C-1", "marketing", False, "y", APP)

    assert ahead.at == NOW
    assert view.without_consent(["C-1"], "marketing") == ("C-1",)


def test_the_customers_consents_list_every_purpose_needing_one_with_the_history(
    service: ConsentService,
) -> None:
    service.record("C-1", "marketing", True, "web", APP, at=NOW - 100)
    service.record("C-1", "marketing", False, "call", APP, at=NOW - 200)  # older, late

    consents = service.consents_of("C-1").as_dict()

    assert consents["consents"] == [{"purpose": "marketing", "granted": True,
                                     "at": "2026-09-21T14:11:40Z", "source": "web",
                                     "recorded_by": "consent-hub"}]
    assert [c["source"] for c in consents["history"]] == ["web", "call"]
    assert service.consents_of("C-2").as_dict()["consents"][0]["granted"] is False


def test_the_view_keeps_the_latest_change_whatever_order_they_arrive_in() -> None:
    view = ConsentView()
    newer = ConsentState("C-1", "marketing", False, NOW, 7)
    older = ConsentState("C-1", "marketing", True, NOW - 1, 9)

    assert view.apply(newer)
    assert not view.apply(older)
    assert not view.apply(newer)  # twice: nothing changes
    assert view.without_consent(["C-1", "C-1"], "marketing") == ("C-1",)
    assert view.apply(ConsentState("C-1", "marketing", True, NOW, 8))
    assert view.without_consent(["C-1"], "marketing") == ()


def _change(customer: str, change_id: int) -> ConsentChange:
    return ConsentChange(customer, "marketing", True, NOW, "x", "app", None, NOW, change_id)


class GappyStore(MemoryConsentStore):
    """Ids handed out before their transactions commit: ``hidden`` ones are not visible yet."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: set[int] = set()

    def changes_after(self, after_id: int, also: Any, limit: int) -> list[ConsentChange]:
        return [c for c in super().changes_after(after_id, also, limit)
                if c.change_id not in self.hidden]


def test_the_follower_reads_an_id_that_commits_after_a_later_one() -> None:
    store = GappyStore()
    follower = ConsentFollower(store, ConsentView())
    follower.load()
    store.changes = [_change("C-1", 1), _change("C-2", 2), _change("C-3", 3)]
    store.hidden = {2}

    assert follower.refresh() == 2
    assert follower.view.without_consent(["C-1", "C-2", "C-3"], "marketing") == ("C-2",)
    store.hidden = set()
    assert follower.refresh() == 1
    assert follower.view.without_consent(["C-2"], "marketing") == ()


def test_a_follower_that_cannot_read_raises_and_the_view_keeps_serving() -> None:
    store = MemoryConsentStore()
    store.changes = [dataclasses.replace(_change("C-1", 1))]
    follower = ConsentFollower(store, ConsentView())
    follower.load()
    store.fail = True

    with pytest.raises(StoreUnavailable):
        follower.refresh()
    assert follower.view.without_consent(["C-1"], "marketing") == ()


def test_consent_events_fit_the_strict_index_mapping(parts: Recorder,
                                                     service: ConsentService) -> None:
    import json

    from guardian.audit.schema import mapping_problems

    mapping = json.loads((ROOT / "audit/opensearch/mappings.json").read_text())
    properties = mapping["template"]["mappings"]["properties"]
    service.record("C-1", "marketing", True, "web-form", APP)
    service.record("C-1", "marketing", False, "letter", ConsentCaller("peggy"), at=NOW - 5)

    assert [mapping_problems(e, properties) for e in parts.journal.events] == [[], []]

"""Consent records: a change's state and document, and a customer's state per purpose taken
from the change latest by (at, change_id), so an old record imported late never wins."""

from __future__ import annotations

from guardian.governance.consent_records import ConsentChange, ConsentState, CustomerConsents

AT = 1_790_000_000.0


def _change(purpose: str, granted: bool, at: float, change_id: int,
            source: str = "web-form") -> ConsentChange:
    return ConsentChange("C-1", purpose, granted, at, source, "crm", "key-1", AT + 100,
                         change_id)


def test_a_change_gives_its_state_and_its_document() -> None:
    change = _change("marketing", True, AT, 7)
    assert change.state == ConsentState("C-1", "marketing", True, AT, 7)
    assert change.state.order == (AT, 7)
    assert change.as_dict() == {
        "purpose": "marketing", "granted": True, "at": "2026-09-21T14:13:20Z",
        "source": "web-form", "recorded_by": "crm", "key_id": "key-1",
        "recorded_at": "2026-09-21T14:15:00Z", "change_id": 7}


def test_the_latest_change_is_by_time_then_by_store_order() -> None:
    late_import = _change("marketing", True, AT - 3600, 9, source="import")
    withdrawal = _change("marketing", False, AT, 3)
    same_time_later = _change("profiling", True, AT, 5)
    same_time_earlier = _change("profiling", False, AT, 4)
    consents = CustomerConsents("C-1", ("marketing", "profiling", "analytics"),
                                (withdrawal, late_import, same_time_earlier, same_time_later))
    assert consents.latest("marketing") is withdrawal
    assert consents.latest("profiling") is same_time_later
    assert consents.latest("analytics") is None


def test_the_document_shows_every_purpose_and_the_whole_history() -> None:
    given = _change("marketing", True, AT, 1)
    consents = CustomerConsents("C-1", ("marketing", "analytics"), (given,))
    document = consents.as_dict()
    assert document["customer_id"] == "C-1"
    assert document["consents"] == [
        {"purpose": "marketing", "granted": True, "at": "2026-09-21T14:13:20Z",
         "source": "web-form", "recorded_by": "crm"},
        {"purpose": "analytics", "granted": False, "at": None, "source": None,
         "recorded_by": None}]
    assert document["history"] == [given.as_dict()]

"""The customer access report as a use case: the period checked first, the report journalled
before it is produced, the consent history beside the accesses."""

from __future__ import annotations

import pytest

from audit_support import decision
from guardian.adapters.memory.ports import MemoryAuditSearch, MemoryJournal
from guardian.clock import ManualClock
from guardian.errors import AuditUnavailable, InvalidCustomerId, InvalidRequest
from guardian.governance.consent_records import CustomerConsents
from guardian.reports.customer_reports import CustomerReports

NOW = 1_790_000_000.0


def _consents(customer_id: str) -> CustomerConsents:
    if customer_id.startswith("!"):
        raise InvalidCustomerId("not a customer id")
    return CustomerConsents(customer_id, (), ())


def _reports(journal: MemoryJournal) -> CustomerReports:
    index = MemoryAuditSearch([decision(1), decision(2, customer="C-1002"),
                               decision(3, at="2026-12-01T10:00:00.000Z")])
    return CustomerReports(index, _consents, journal, ManualClock(NOW))


def test_a_report_is_journalled_with_its_reader_and_period_then_produced() -> None:
    journal = MemoryJournal()

    report = _reports(journal).produce("peggy", "C-1001", "2026-11-01", "2026-12-01")

    assert [a.decision_id for a in report.accesses] == ["D000001"]
    assert report.consent is not None and report.consent.customer_id == "C-1001"
    [event] = journal.events
    assert event["event"]["action"] == "audit.customer_report_produced"
    assert event["user"]["id"] == "peggy"
    assert event["guardian"]["query"] == "customer=C-1001 from=2026-11-01 to=2026-12-01"


def test_a_bad_period_is_refused_before_anything_is_journalled() -> None:
    journal = MemoryJournal()

    with pytest.raises(InvalidRequest):
        _reports(journal).produce("peggy", "C-1001", "last month")

    assert journal.events == []


def test_no_report_is_produced_when_the_journal_cannot_record_it() -> None:
    journal = MemoryJournal()
    journal.fail = True

    with pytest.raises(AuditUnavailable):
        _reports(journal).produce("peggy", "C-1001")


def test_an_id_consent_could_never_be_recorded_under_has_no_consent_section() -> None:
    report = _reports(MemoryJournal()).produce("peggy", "!odd")

    assert report.consent is None and report.accesses == ()

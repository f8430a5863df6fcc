"""The journal's alarms: ok until one is raised, each with its code and a message naming files
and sequence numbers; an open error shows as journal_unavailable unless the file was replaced."""

from __future__ import annotations

from pathlib import Path

from guardian.audit.events import AuditAction
from guardian.journal.alarms import (
    CHAIN_REGRESSED,
    JOURNAL_REPLACED,
    JOURNAL_UNAVAILABLE,
    TAIL_QUARANTINED,
    JournalAlarms,
    regression_event,
)
from guardian.journal.recovery import Quarantine


def test_no_alarm_is_ok() -> None:
    health = JournalAlarms(Path("j.jsonl")).health(5, sealed=True, open_error=None)

    assert health == {"last_seq": 5, "status": "ok", "sealed": True, "alarms": [],
                      "quarantine": None}


def test_an_open_error_is_journal_unavailable_until_the_file_is_known_replaced() -> None:
    alarms = JournalAlarms(Path("j.jsonl"))

    assert [a.code for a in alarms.current("disk full")] == [JOURNAL_UNAVAILABLE]
    alarms.replaced_under_us("the journal was unlinked", 9, None, None)
    codes = [a.code for a in alarms.current("disk full")]
    assert codes == [JOURNAL_REPLACED]
    assert "appends are refused until a restart" in (alarms.replaced or "")


def test_each_alarm_names_what_operators_need(tmp_path: Path) -> None:
    alarms = JournalAlarms(tmp_path / "j.jsonl")
    alarms.quarantined(Quarantine(str(tmp_path / "j.q1"), 2, 100, "2026-01-01T00:00:00Z", 8, 9))
    alarms.regressed(4, 9, tmp_path / "j.old")

    health = alarms.health(9, sealed=False, open_error=None)
    messages = {a["code"]: a["message"] for a in health["alarms"]}

    assert health["status"] == "alarm"
    assert "2 line(s) (events 8..9)" in messages[TAIL_QUARANTINED]
    assert "ended at event 4 but the index acknowledged event 9" in messages[CHAIN_REGRESSED]
    assert str(tmp_path / "j.old") in messages[CHAIN_REGRESSED]
    assert health["quarantine"]["lines"] == 2


def test_a_rescued_copy_is_named_and_a_failed_rescue_says_why(tmp_path: Path) -> None:
    alarms = JournalAlarms(tmp_path / "j.jsonl")
    alarms.replaced_under_us("replaced", 3, tmp_path / "rescued.jsonl", None)
    assert str(tmp_path / "rescued.jsonl") in (alarms.replaced or "")
    alarms.replaced_under_us("replaced", 3, None, "permission denied")
    assert "copying its content out failed: permission denied" in (alarms.replaced or "")


def test_the_regression_event_is_an_alert_in_the_trail() -> None:
    event = regression_event()

    assert event["event"]["action"] == AuditAction.CHAIN_REGRESSED.value
    assert (event["event"]["kind"], event["event"]["outcome"]) == ("alert", "failure")

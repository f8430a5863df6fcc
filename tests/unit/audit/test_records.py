"""The trail's records: seal lines told from events by their first bytes, checkpoints by their
action, a journal record's hash read from its event, and a setup that changed something."""

from __future__ import annotations

import orjson

from guardian.audit.chain import GENESIS, seal
from guardian.audit.records import (
    CHECKPOINT_ACTION,
    JournalRecord,
    SetupReport,
    SetupStep,
    StepOutcome,
    is_checkpoint,
    is_seal_line,
)


def test_a_seal_line_is_never_mistaken_for_an_event() -> None:
    event, _ = seal({"user": {"id": "a"}}, 1, GENESIS)
    line = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)

    assert is_seal_line(b'{"seal":{"sig":"x"}}')
    assert not is_seal_line(line)


def test_a_checkpoint_is_told_by_its_action_only() -> None:
    assert is_checkpoint({"event": {"action": CHECKPOINT_ACTION}})
    assert not is_checkpoint({"event": {"action": "decision"}})
    assert not is_checkpoint({"event": CHECKPOINT_ACTION})
    assert not is_checkpoint({})


def test_a_journal_record_reads_its_hash_and_kind_from_its_event() -> None:
    event, digest = seal({"event": {"action": CHECKPOINT_ACTION}}, 4, GENESIS)
    record = JournalRecord(4, orjson.dumps(event), event)

    assert record.hash == digest
    assert record.is_checkpoint


def test_a_setup_changed_something_only_when_a_step_created_or_updated() -> None:
    unchanged = SetupReport("audit", (SetupStep("template", StepOutcome.UNCHANGED),))

    assert not unchanged.changed
    assert SetupReport("audit", (SetupStep("template", StepOutcome.UNCHANGED),
                                 SetupStep("alias", StepOutcome.CREATED))).changed

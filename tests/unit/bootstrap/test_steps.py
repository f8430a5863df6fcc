"""The start-up steps are explicit: ``migrate``/``upgrade`` bring the SQL store to the latest
revision, and building a Guardian migrates and seeds only when asked (``prepare=True``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardian.bootstrap import build, migrate, upgrade
from guardian.clock import ManualClock
from guardian.errors import GuardianError
from support import demo_settings

NOW = 1_796_000_000.0


def test_a_new_store_has_no_revision_until_upgraded(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path)
    settings.data_dir.mkdir(parents=True)
    before, head = migrate(settings, None)
    assert before is None and head
    upgrade(settings)
    assert migrate(settings, None) == (head, head)


def test_building_without_prepare_does_not_migrate(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path)
    with pytest.raises(GuardianError):
        build(settings, clock=ManualClock(NOW)).close()  # no schema: the store refuses
    assert migrate(settings, None)[0] is None


def test_prepare_migrates_and_seeds_once(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path)
    build(settings, clock=ManualClock(NOW), prepare=True).close()
    revision, head = migrate(settings, None)
    assert revision == head
    again = build(settings, clock=ManualClock(NOW + 60))  # no prepare: as it stood
    try:
        assert again.consent.consents_of("C-1001").history  # the customers file's seed, kept
    finally:
        again.close()

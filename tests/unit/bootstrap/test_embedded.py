"""The composition root wires the same services from in-memory adapters: a grant made through
the service is journalled, kept by the in-memory store and in the decision path's view at once,
and nothing reaches for the SQL store (no SQLite file, no Alembic run)."""

from __future__ import annotations

from pathlib import Path

from guardian.adapters.memory.stores import MemoryChangeFeed, MemoryStore
from guardian.bootstrap import build
from guardian.bootstrap.embedded import memory_adapters
from guardian.changes import ChangeKind
from guardian.clock import ManualClock
from guardian.governance.grants import GrantRequest
from support import demo_settings

NOW = 1_796_000_000.0


def test_a_grant_on_memory_adapters_is_journalled_stored_and_decided_on(tmp_path: Path
                                                                         ) -> None:
    settings = demo_settings(tmp_path)
    clock = ManualClock(NOW)
    adapters = memory_adapters(settings, clock)
    guardian = build(settings, clock=clock, adapters=adapters)
    try:
        views = guardian.views
        assert views is not None
        before = views.grant_view.active_roles("bob", NOW)
        grant = guardian.grants.grant("ivan", GrantRequest(
            "bob", "fraud-analyst", NOW + 3600, "INC-4711 fraud wave"))
        assert isinstance(adapters.store, MemoryStore)
        assert adapters.store.get_grant(grant.id) == grant
        assert "fraud-analyst" not in before
        assert "fraud-analyst" in views.grant_view.active_roles("bob", NOW + 1)
        assert isinstance(adapters.changes, MemoryChangeFeed)
        assert (ChangeKind.GRANT, grant.id) in adapters.changes.published
        assert guardian.journal.last_seq >= 1  # type: ignore[attr-defined]
    finally:
        guardian.close()
    assert not settings.store.default_file.exists()


def test_without_prepare_nothing_is_seeded(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path)
    clock = ManualClock(NOW)
    adapters = memory_adapters(settings, clock)
    guardian = build(settings, clock=clock, adapters=adapters)
    guardian.close()
    assert adapters.consents.last_change_id() == 0
    seeded = memory_adapters(demo_settings(tmp_path / "b"), clock)
    build(demo_settings(tmp_path / "b"), clock=clock, adapters=seeded, prepare=True).close()
    assert seeded.consents.last_change_id() == len(seeded.customer_consents) > 0

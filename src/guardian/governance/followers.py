"""The views decisions read, kept current: loaded at start, re-read on a change, refreshed.

:class:`DecisionViews` gathers the in-memory views of the decision path that come from the
store — temporary grants, API keys, consent — and says how each follows the store: loaded
whole once (:meth:`DecisionViews.load`, blocking, at start), re-read one change at a time when
the change feed says another process made it (:meth:`DecisionViews.follow`), and re-read whole
by :meth:`DecisionViews.refresh`, the safety net a background thread calls every so often.
The directory snapshot follows the same feed (``directory``: reload it from where the syncing
process saved it). Nothing here runs a thread: the adapters' background loops call in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from guardian.changes import Change, ChangeKind
from guardian.governance.consent_view import ConsentFollower
from guardian.governance.views import GrantView, KeyView
from guardian.logging import get_logger
from guardian.ports import ApiKeyRegistry, ChangeFeed, GrantRegistry

log = get_logger("guardian.views")


@dataclass
class DecisionViews:
    grants: GrantRegistry
    keys: ApiKeyRegistry
    consent: ConsentFollower
    grant_view: GrantView = field(default_factory=GrantView)
    key_view: KeyView = field(default_factory=KeyView)
    directory: Callable[[], object] | None = None
    """Reloads the directory snapshot saved by the process that synced (LDAP only)."""
    refreshes: int = 0
    failures: int = 0
    """Periodic refreshes that could not read the store (the views kept what they held)."""

    def load(self) -> None:
        """Read every view whole (blocking; at start, before serving)."""
        self.grant_view.reload(self.grants.active_grants)
        self.key_view.reload(self.keys.active_keys)
        self.consent.load()

    def refresh(self) -> None:
        """Re-read every view whole; a failure is counted and logged, the views keep serving."""
        try:
            self.grant_view.reload(self.grants.active_grants)
            self.key_view.reload(self.keys.active_keys)
            self.consent.refresh()
        except Exception as exc:  # noqa: BLE001 - the views keep serving what they hold
            self.failures += 1
            log.warning("views not refreshed; serving what they hold", error=type(exc).__name__)
        finally:
            self.refreshes += 1

    def follow(self, feed: ChangeFeed) -> None:
        """Re-read what the feed says another process changed (in the feed's thread)."""
        feed.subscribe(ChangeKind.GRANT, self._grant_changed)
        feed.subscribe(ChangeKind.KEY, self._keys_changed)
        feed.subscribe(ChangeKind.CONSENT, self._consent_changed)
        if self.directory is not None:
            feed.subscribe(ChangeKind.DIRECTORY, self._directory_changed)

    def _grant_changed(self, change: Change) -> None:
        if not change.key:  # a resync: everything
            self.grant_view.reload(self.grants.active_grants)
            return
        self.grant_view.refresh_one(change.key, lambda: self.grants.get_grant(change.key))

    def _keys_changed(self, _change: Change) -> None:
        self.key_view.reload(self.keys.active_keys)  # a handful of keys: read them all

    def _consent_changed(self, _change: Change) -> None:
        self.consent.refresh()

    def _directory_changed(self, _change: Change) -> None:
        assert self.directory is not None
        self.directory()

"""The decision views kept current: loaded whole, re-read one change at a time from the feed
(grant by id, all keys, consent, the directory), refreshed whole with a failure counted while
the views keep serving what they hold."""

from __future__ import annotations

import dataclasses
from typing import cast

from guardian.adapters.memory.ports import MemoryConsentStore
from guardian.changes import Change, ChangeKind, LocalChanges
from guardian.errors import StoreUnavailable
from guardian.governance.consent_records import ConsentChange
from guardian.governance.consent_view import ConsentFollower, ConsentView
from guardian.governance.followers import DecisionViews
from guardian.governance.model import ApiKeyRecord, KeyHolder, TemporaryGrant
from guardian.ports import ApiKeyRegistry, GrantRegistry

NOW = 1_790_000_000.0


class Grants:
    """A ``GrantRegistry`` in a dict; ``fail`` makes reads raise; counts whole reads."""

    def __init__(self) -> None:
        self.grants: dict[str, TemporaryGrant] = {}
        self.fail = False
        self.whole_reads = 0

    def active_grants(self) -> list[TemporaryGrant]:
        if self.fail:
            raise StoreUnavailable("down")
        self.whole_reads += 1
        return [g for g in self.grants.values() if not g.revoked]

    def get_grant(self, grant_id: str) -> TemporaryGrant | None:
        return self.grants.get(grant_id)


class Keys:
    def __init__(self) -> None:
        self.keys: dict[str, str] = {}  # digest -> application

    def active_keys(self) -> list[tuple[str, KeyHolder]]:
        return [(d, KeyHolder(app, f"id-{app}", frozenset())) for d, app in self.keys.items()]

    def list_keys(self) -> list[ApiKeyRecord]:
        return []


def _grant(gid: str, role: str = "billing") -> TemporaryGrant:
    return TemporaryGrant(gid, "bob", role, NOW - 10, NOW + 600, "INC-1", "ivan")


def _views(directory: list[int] | None = None
           ) -> tuple[DecisionViews, Grants, Keys, MemoryConsentStore]:
    grants, keys, consents = Grants(), Keys(), MemoryConsentStore()
    reload = None if directory is None else (lambda: directory.append(1))
    views = DecisionViews(cast(GrantRegistry, grants), cast(ApiKeyRegistry, keys),
                          ConsentFollower(consents, ConsentView()), directory=reload)
    return views, grants, keys, consents


def _consent(customer: str) -> ConsentChange:
    return ConsentChange(customer, "marketing", True, NOW, "web-form", "crm", None, NOW)


def test_load_reads_every_view_whole() -> None:
    views, grants, keys, consents = _views()
    grants.grants["g1"] = _grant("g1")
    keys.keys["d1"] = "crm"
    consents.record_change(_consent("C-1"))
    views.load()
    assert views.grant_view.active_roles("bob", NOW) == {"billing"}
    assert len(views.key_view) == 1
    assert views.consent.view.without_consent(["C-1"], "marketing") == ()


def test_the_feed_re_reads_one_grant_all_keys_and_consent() -> None:
    views, grants, keys, consents = _views()
    views.load()
    feed = LocalChanges()
    views.follow(feed)
    grants.grants["g1"] = _grant("g1")
    feed.subscribers.deliver(Change(ChangeKind.GRANT, "g1"))
    assert views.grant_view.active_roles("bob", NOW) == {"billing"}
    assert grants.whole_reads == 1  # only the load read them all
    grants.grants["g1"] = dataclasses.replace(_grant("g1"), revoked_at=NOW)
    feed.subscribers.deliver(Change(ChangeKind.GRANT, "g1"))
    assert views.grant_view.active_roles("bob", NOW) == frozenset()
    keys.keys["d2"] = "billing-app"
    feed.subscribers.deliver(Change(ChangeKind.KEY, "id-billing-app"))
    assert len(views.key_view) == 1
    consents.record_change(_consent("C-2"))
    feed.subscribers.deliver(Change(ChangeKind.CONSENT, "1"))
    assert views.consent.view.without_consent(["C-2"], "marketing") == ()


def test_a_grant_change_without_a_key_is_a_resync_of_every_grant() -> None:
    views, grants, _, _ = _views()
    feed = LocalChanges()
    views.follow(feed)
    grants.grants["g1"], grants.grants["g2"] = _grant("g1"), _grant("g2", "marketing")
    feed.subscribers.deliver(Change(ChangeKind.GRANT, ""))
    assert views.grant_view.active_roles("bob", NOW) == {"billing", "marketing"}
    assert grants.whole_reads == 1


def test_the_directory_follows_the_feed_only_when_it_can_be_reloaded() -> None:
    reloads: list[int] = []
    views, _, _, _ = _views(directory=reloads)
    feed = LocalChanges()
    views.follow(feed)
    feed.subscribers.deliver(Change(ChangeKind.DIRECTORY, ""))
    assert reloads == [1]
    bare, _, _, _ = _views()
    other = LocalChanges()
    bare.follow(other)
    other.subscribers.deliver(Change(ChangeKind.DIRECTORY, ""))  # nobody listens: no error


def test_a_refresh_that_cannot_read_is_counted_and_the_views_keep_serving() -> None:
    views, grants, _, _ = _views()
    grants.grants["g1"] = _grant("g1")
    views.refresh()
    assert (views.refreshes, views.failures) == (1, 0)
    grants.fail = True
    views.refresh()
    assert (views.refreshes, views.failures) == (2, 1)
    assert views.grant_view.active_roles("bob", NOW) == {"billing"}

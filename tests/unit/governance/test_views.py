"""The in-memory views of grants and keys, the services that change them at once, and how the
views follow the change feed: one record re-read per change, everything on a resync, and a
reload that read the store before a revocation cannot put the revoked grant back."""

from __future__ import annotations

import dataclasses
import threading

from guardian.adapters.files.policy import load_policy
from guardian.adapters.memory.ports import MemoryConsentStore, MemoryDirectory, MemoryJournal
from guardian.changes import Change, ChangeKind, LocalChanges
from guardian.clock import ManualClock
from guardian.errors import StoreUnavailable
from guardian.governance.api_keys import ApiKeyService, key_digest
from guardian.governance.consent_view import ConsentFollower, ConsentView
from guardian.governance.followers import DecisionViews
from guardian.governance.grants import GrantRequest, GrantService
from guardian.governance.model import DEFAULT_SCOPES, ApiKeyRecord, KeyHolder, TemporaryGrant
from guardian.governance.views import GrantView, KeyView
from guardian.identity.principal import Principal
from support import ROOT

NOW = 1_790_000_000.0


def _grant(gid: str, uid: str = "bob", role: str = "billing") -> TemporaryGrant:
    return TemporaryGrant(gid, uid, role, NOW - 10, NOW + 600, "INC-1", "ivan")


class Grants:
    """A ``GrantRegistry`` in a dict; ``fail`` makes reads raise."""

    def __init__(self) -> None:
        self.grants: dict[str, TemporaryGrant] = {}
        self.fail = False

    def add_grant(self, grant: TemporaryGrant) -> None:
        self.grants[grant.id] = grant

    def active_grants(self) -> list[TemporaryGrant]:
        if self.fail:
            raise StoreUnavailable("down")
        return [g for g in self.grants.values() if not g.revoked]

    def list_grants(self, uid: str | None = None) -> list[TemporaryGrant]:
        return list(self.grants.values())

    def get_grant(self, grant_id: str) -> TemporaryGrant | None:
        return self.grants.get(grant_id)

    def revoke_grant(self, grant_id: str, at: float, by: str, reason: str
                     ) -> TemporaryGrant | None:
        grant = self.grants.get(grant_id)
        if grant is None or grant.revoked:
            return None
        self.grants[grant_id] = dataclasses.replace(grant, revoked_at=at, revoked_by=by,
                                                    revoke_reason=reason)
        return self.grants[grant_id]


class Keys:
    def __init__(self) -> None:
        self.keys: dict[str, tuple[ApiKeyRecord, str]] = {}

    def add_key(self, record: ApiKeyRecord, key_sha256: str) -> None:
        self.keys[record.id] = (record, key_sha256)

    def active_keys(self) -> list[tuple[str, KeyHolder]]:
        return [(d, KeyHolder(r.name, r.id, r.scopes)) for r, d in self.keys.values()
                if r.active]

    def list_keys(self) -> list[ApiKeyRecord]:
        return [r for r, _ in self.keys.values()]

    def revoke_key(self, key_id: str, at: float) -> ApiKeyRecord | None:
        record, digest = self.keys[key_id]
        self.keys[key_id] = (dataclasses.replace(record, revoked_at=at), digest)
        return self.keys[key_id][0]


def test_a_grant_view_gives_roles_by_time_and_follows_add_remove_and_reload() -> None:
    view = GrantView([_grant("g1"), dataclasses.replace(_grant("g0"), revoked_at=NOW)])
    assert view.active_roles("bob", NOW) == {"billing"} and len(view) == 1
    assert view.active_roles("bob", NOW + 600) == frozenset()
    view.add(_grant("g2", role="fraud-analyst"))
    view.remove("g1")
    assert view.active_roles("bob", NOW) == {"fraud-analyst"}
    view.refresh_one("g2", lambda: None)  # gone from the store
    assert view.active_roles("bob", NOW) == frozenset()
    assert view.reload(lambda: [_grant("g3", uid="alice")]) == 1
    assert view.active_roles("alice", NOW) == {"billing"}


def test_a_reload_that_read_before_a_revocation_cannot_bring_the_grant_back() -> None:
    view = GrantView([_grant("g1")])
    reading, revoked = threading.Event(), threading.Event()

    def stale_read() -> list[TemporaryGrant]:
        reading.set()
        revoked.wait(0.2)  # the revocation commits while this read is in flight
        return [_grant("g1")]

    reloader = threading.Thread(target=view.reload, args=(stale_read,))
    reloader.start()
    reading.wait(5)
    remover = threading.Thread(target=view.remove, args=("g1",))
    remover.start()
    revoked.set()
    reloader.join(5)
    remover.join(5)
    assert view.active_roles("bob", NOW) == frozenset()


def test_the_grant_service_changes_the_view_at_once_and_publishes() -> None:
    registry, feed, view = Grants(), LocalChanges(), GrantView()
    service = GrantService(registry, MemoryDirectory([Principal("bob", "Bob", frozenset())]),
                           lambda: load_policy(ROOT / "policies"), MemoryJournal(),
                           ManualClock(NOW), max_duration_s=86400, view=view, changes=feed)
    grant = service.grant("ivan", GrantRequest("bob", "fraud-analyst", NOW + 600, "INC-1"))
    assert view.active_roles("bob", NOW) == {"fraud-analyst"}
    service.revoke("ivan", grant.id, "done")
    assert view.active_roles("bob", NOW) == frozenset()
    assert feed.published == [Change(ChangeKind.GRANT, grant.id)] * 2


def test_the_key_service_changes_the_view_at_once_and_publishes() -> None:
    feed, view = LocalChanges(), KeyView()
    service = ApiKeyService(Keys(), MemoryJournal(), ManualClock(NOW), view=view, changes=feed)
    made = service.create("crm-web", "ivan")
    assert view.holder_of(made.key) == KeyHolder("crm-web", made.record.id, DEFAULT_SCOPES)
    service.revoke(made.record.id, "ivan")
    assert view.holder_of(made.key) is None and view.application_for(made.key) is None
    assert [c.kind for c in feed.published] == [ChangeKind.KEY, ChangeKind.KEY]


def test_the_views_follow_the_feed_one_record_at_a_time_and_whole_on_a_resync() -> None:
    grants, keys, feed = Grants(), Keys(), LocalChanges()
    views = DecisionViews(grants, keys, ConsentFollower(MemoryConsentStore(), ConsentView()))
    views.load()
    views.follow(feed)
    grants.add_grant(_grant("g1"))
    keys.add_key(ApiKeyRecord("k1", "crm", NOW, "ivan"), key_digest("secret"))

    feed.subscribers.deliver(Change(ChangeKind.GRANT, "g1"))
    feed.subscribers.deliver(Change(ChangeKind.KEY, "k1"))
    assert views.grant_view.active_roles("bob", NOW) == {"billing"}
    assert views.key_view.application_for("secret") == "crm"

    grants.grants["g2"] = _grant("g2", role="fraud-analyst")  # its message was missed
    feed.subscribers.deliver(Change(ChangeKind.RESYNC, ""))
    assert views.grant_view.active_roles("bob", NOW) == {"billing", "fraud-analyst"}


def test_a_periodic_refresh_that_cannot_read_keeps_the_views_and_counts_it() -> None:
    grants = Grants()
    grants.add_grant(_grant("g1"))
    views = DecisionViews(grants, Keys(), ConsentFollower(MemoryConsentStore(), ConsentView()))
    views.load()
    grants.fail = True
    views.refresh()
    assert (views.refreshes, views.failures) == (1, 1)
    assert views.grant_view.active_roles("bob", NOW) == {"billing"}

"""Application API keys: made, listed and revoked by security officers (or the command line).

A key is 256 random bits, shown once at creation; only its SHA-256 is stored. Creating and
revoking are audit events, journalled before the store changes. A key holds scopes: ``decide``
(the decision endpoints; every key made before scopes existed, and the applications file's) and
``consent`` (the consent endpoints, for the consent-management application). The keys of the
applications file are listed and revoked here too (``source`` says which is which). After
storing, the service changes this process's :class:`~guardian.governance.views.KeyView` (a
revoked key opens nothing from the moment ``revoke`` returns) and publishes the change (other
workers and replicas honour it within a second).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from guardian.audit.events import AuditAction, governance_event
from guardian.changes import ChangeKind, LocalChanges
from guardian.errors import InvalidRequest, NotFound
from guardian.governance.model import DEFAULT_SCOPES, ApiKeyRecord, KeyHolder, Scope
from guardian.ids import new_ulid
from guardian.ports import ApiKeyRegistry, AuditJournal, ChangeFeed, Clock

if TYPE_CHECKING:
    from guardian.governance.views import KeyView

KEY_PREFIX = "gk_"


def key_digest(api_key: str) -> str:
    """What is stored of a key, and what a presented key is looked up by. Keys are long random
    strings, so a fast hash is enough: there is nothing to brute-force that a slow one would
    protect."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class NewApiKey:
    record: ApiKeyRecord
    key: str
    """The clear key: give it to the application now, it is not kept anywhere."""


class ApiKeyService:
    def __init__(self, registry: ApiKeyRegistry, journal: AuditJournal, clock: Clock, *,
                 view: KeyView | None = None, changes: ChangeFeed | None = None) -> None:
        from guardian.governance.views import KeyView  # it needs key_digest from here

        self._registry = registry
        self._journal = journal
        self._clock = clock
        self.view = view if view is not None else KeyView()
        self._changes: ChangeFeed = changes if changes is not None else LocalChanges()

    def create(self, name: str, actor: str,
               scopes: Iterable[Scope] = DEFAULT_SCOPES) -> NewApiKey:
        """A new key for application ``name``, opening the endpoints of ``scopes`` only."""
        wanted = frozenset(Scope(s) for s in scopes)
        if not wanted:
            raise InvalidRequest("a key needs at least one scope (decide, consent)")
        now = self._clock.now()
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        record = ApiKeyRecord(id=new_ulid(now), name=name, created_at=now, created_by=actor,
                              scopes=wanted)
        self._journal.append(governance_event(
            AuditAction.API_KEY_CREATED, actor, now, key_id=record.id, application=name,
            scopes=sorted(s.value for s in wanted)))
        self._registry.add_key(record, key_digest(key))
        self.view.add(key_digest(key), KeyHolder(name, record.id, wanted))
        self._changes.publish(ChangeKind.KEY, record.id)
        return NewApiKey(record, key)

    def list(self) -> list[ApiKeyRecord]:
        return self._registry.list_keys()

    def revoke(self, key_id: str, actor: str) -> ApiKeyRecord:
        now = self._clock.now()
        record = next((k for k in self._registry.list_keys() if k.id == key_id and k.active),
                      None)
        if record is None:
            raise NotFound(f"no active API key {key_id!r}")
        self._journal.append(governance_event(
            AuditAction.API_KEY_REVOKED, actor, now, key_id=key_id, application=record.name,
            source=record.source))
        revoked = self._registry.revoke_key(key_id, now)
        self.view.forget(key_id)
        if revoked is None:
            raise NotFound(f"no active API key {key_id!r}")
        self._changes.publish(ChangeKind.KEY, key_id)
        return revoked

"""The API key service around its ports: a key is shown once and only its SHA-256 stored,
creation and revocation are journalled before the store changes, the process's key view
follows at once, and the change is published for the other workers."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from guardian.adapters.memory.ports import MemoryJournal
from guardian.changes import ChangeKind, LocalChanges
from guardian.clock import ManualClock
from guardian.errors import AuditUnavailable, InvalidRequest, NotFound
from guardian.governance.api_keys import KEY_PREFIX, ApiKeyService, key_digest
from guardian.governance.model import ApiKeyRecord, KeyHolder, Scope

NOW = 1_790_000_000.0


class Keys:
    """An ``ApiKeyRegistry`` in a dict: id -> (record, digest)."""

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


def _service() -> tuple[ApiKeyService, Keys, MemoryJournal, LocalChanges]:
    keys, journal, changes = Keys(), MemoryJournal(), LocalChanges()
    return ApiKeyService(keys, journal, ManualClock(NOW), changes=changes), keys, journal, changes


def test_the_digest_is_the_hex_sha256_of_the_key() -> None:
    assert key_digest("gk_abc") == hashlib.sha256(b"gk_abc").hexdigest()
    assert key_digest("gk_abc") != key_digest("gk_abd")


def test_a_new_key_is_stored_by_digest_journalled_and_opens_the_view() -> None:
    service, keys, journal, changes = _service()
    made = service.create("crm", "sofia", [Scope.CONSENT, Scope.DECIDE])
    assert made.key.startswith(KEY_PREFIX) and len(made.key) > 40
    record, digest = keys.keys[made.record.id]
    assert digest == key_digest(made.key) and made.key not in repr(keys.keys)
    assert record.created_by == "sofia" and record.created_at == NOW
    assert record.scopes == {Scope.CONSENT, Scope.DECIDE}
    event = journal.events[-1]
    assert event["event"]["action"] == "governance.api_key_created"
    assert event["guardian"].items() >= {"key_id": made.record.id, "application": "crm",
                                 "scopes": ["consent", "decide"]}.items()
    assert made.key not in str(event)
    assert service.view.application_for(made.key) == "crm"
    assert [(c.kind, c.key) for c in changes.published] == [(ChangeKind.KEY, made.record.id)]


def test_two_keys_differ_and_default_to_the_decide_scope() -> None:
    service, _, _, _ = _service()
    first, second = service.create("crm", "sofia"), service.create("crm", "sofia")
    assert first.key != second.key and first.record.id != second.record.id
    assert first.record.scopes == {Scope.DECIDE}
    assert [k.id for k in service.list()] == [first.record.id, second.record.id]


def test_a_key_without_scopes_or_with_an_unknown_one_is_refused() -> None:
    service, keys, journal, _ = _service()
    with pytest.raises(InvalidRequest, match="at least one scope"):
        service.create("crm", "sofia", [])
    with pytest.raises(ValueError):
        service.create("crm", "sofia", ["admin"])  # type: ignore[list-item]
    assert keys.keys == {} and journal.events == []


def test_nothing_is_stored_when_the_journal_refuses() -> None:
    service, keys, journal, changes = _service()
    journal.fail = True
    with pytest.raises(AuditUnavailable):
        service.create("crm", "sofia")
    assert keys.keys == {} and len(service.view) == 0 and changes.published == []


def test_revoking_journals_closes_the_view_and_publishes() -> None:
    service, keys, journal, changes = _service()
    made = service.create("crm", "sofia")
    revoked = service.revoke(made.record.id, "omar")
    assert revoked.revoked_at == NOW and not keys.keys[made.record.id][0].active
    assert service.view.application_for(made.key) is None
    event = journal.events[-1]
    assert event["event"]["action"] == "governance.api_key_revoked"
    assert event["user"]["id"] == "omar"
    assert event["guardian"].items() >= {"key_id": made.record.id, "application": "crm",
                                 "source": "store"}.items()
    assert len(changes.published) == 2


def test_an_unknown_or_already_revoked_key_is_not_found_and_not_journalled() -> None:
    service, _, journal, _ = _service()
    made = service.create("crm", "sofia")
    service.revoke(made.record.id, "omar")
    before = len(journal.events)
    for key_id in (made.record.id, "01NOSUCHKEY"):
        with pytest.raises(NotFound) as caught:
            service.revoke(key_id, "omar")
        assert caught.value.code == "not_found"
    assert len(journal.events) == before


def test_a_revocation_the_journal_refuses_keeps_the_key_working() -> None:
    service, keys, journal, _ = _service()
    made = service.create("crm", "sofia")
    journal.fail = True
    with pytest.raises(AuditUnavailable):
        service.revoke(made.record.id, "omar")
    assert keys.keys[made.record.id][0].active
    assert service.view.application_for(made.key) == "crm"

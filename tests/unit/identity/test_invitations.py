"""Invitations to enrol a first second factor: only for active directory members without a
second factor, journalled before stored, only a keyed digest kept, single use, expiring."""

from __future__ import annotations

import re

import pytest

from guardian.adapters.memory.ports import MemoryDirectory, MemoryInvitations, MemoryJournal
from guardian.clock import ManualClock
from guardian.errors import AlreadyEnrolled, AuditUnavailable, UnknownUser
from guardian.identity import recovery_codes
from guardian.identity.invitations import InvitationService, new_code
from guardian.identity.principal import Principal

NOW = 1_790_000_000.0
KEY = b"k" * 32


def _service(enrolled: set[str] | None = None, ttl_s: float = 3600.0
             ) -> tuple[InvitationService, MemoryInvitations, MemoryJournal]:
    directory = MemoryDirectory([
        Principal("alice", "Alice", frozenset({"billing"})),
        Principal("gone", "Gone", frozenset(), active=False),
    ])
    store, journal = MemoryInvitations(), MemoryJournal()
    service = InvitationService(store, directory, lambda uid: uid in (enrolled or set()),
                                journal, ManualClock(NOW), key=KEY, ttl_s=ttl_s)
    return service, store, journal


def test_a_code_is_five_groups_of_four_letters_of_the_recovery_alphabet() -> None:
    code = new_code()
    assert re.fullmatch(r"(\w{4}-){4}\w{4}", code)
    assert set(code.replace("-", "")) <= set(recovery_codes.ALPHABET)
    assert len({new_code() for _ in range(50)}) == 50


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        InvitationService(MemoryInvitations(), MemoryDirectory(), lambda _: False,
                          MemoryJournal(), ManualClock(NOW), key=b"short")


def test_an_invitation_is_journalled_and_only_its_digest_stored() -> None:
    service, store, journal = _service()
    invitation = service.invite("sofia", "alice")
    assert invitation.uid == "alice" and invitation.expires_at == NOW + 3600
    assert list(store.invitations) == [service.digest(invitation.code)]
    assert invitation.code not in repr(store.invitations)
    event = journal.events[-1]
    assert event["event"]["action"] == "mfa.invitation_created"
    assert event["user"]["id"] == "sofia"
    assert event["guardian"].items() >= {"subject": "alice", "expires_at": NOW + 3600}.items()
    assert invitation.code not in str(event)


def test_the_digest_is_keyed_and_ignores_how_the_code_is_typed() -> None:
    service, _, _ = _service()
    code = new_code()
    assert service.digest(code) == service.digest(code.lower().replace("-", " "))
    other = InvitationService(MemoryInvitations(), MemoryDirectory(), lambda _: False,
                              MemoryJournal(), ManualClock(NOW), key=b"o" * 32)
    assert other.digest(code) != service.digest(code)


@pytest.mark.parametrize("uid", ["nobody", "gone"])
def test_only_active_directory_members_are_invited(uid: str) -> None:
    service, store, journal = _service()
    with pytest.raises(UnknownUser) as caught:
        service.invite("sofia", uid)
    assert caught.value.code == "unknown_user"
    assert store.invitations == {} and journal.events == []


def test_someone_with_a_second_factor_is_not_invited() -> None:
    service, store, journal = _service(enrolled={"alice"})
    with pytest.raises(AlreadyEnrolled) as caught:
        service.invite("sofia", "alice")
    assert caught.value.code == "already_enrolled"
    assert store.invitations == {} and journal.events == []


def test_nothing_is_stored_when_the_journal_refuses() -> None:
    service, store, journal = _service()
    journal.fail = True
    with pytest.raises(AuditUnavailable):
        service.invite("sofia", "alice")
    assert store.invitations == {}


def test_an_invitation_is_spent_once_by_its_own_user_before_it_expires() -> None:
    service, _, _ = _service()
    code = service.invite("sofia", "alice").code
    assert not service.use("bob", code, NOW)
    assert not service.use("alice", new_code(), NOW)
    assert service.use("alice", code.lower(), NOW + 10)
    assert not service.use("alice", code, NOW + 20)


def test_an_expired_or_replaced_invitation_opens_nothing() -> None:
    service, _, _ = _service()
    old = service.invite("sofia", "alice").code
    assert not service.use("alice", old, NOW + 3600)
    fresh = service.invite("sofia", "alice").code
    assert not service.use("alice", old, NOW)
    assert service.use("alice", fresh, NOW)

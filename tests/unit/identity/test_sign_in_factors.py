"""Signing in beyond password + TOTP: recovery codes, the enrolment-only session that only a
password *and* an officer's invitation open, and the constant-time comparisons behind every
factor."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

import pytest

from guardian.adapters.memory.ports import MemoryInvitations, MemoryJournal
from guardian.clock import ManualClock
from guardian.errors import AlreadyEnrolled, InvalidCredentials, UnknownUser
from guardian.identity import recovery_codes, totp
from guardian.identity.invitations import InvitationService
from guardian.identity.principal import Principal
from guardian.identity.sessions import SessionService
from guardian.identity.tokens import TokenSigner
from guardian.identity.vocabulary import AuthMethod

KEY = b"q" * 32
REAL_COMPARE = hmac.compare_digest
CODES = ("abcd-efgh-jkmn-pqrs", "stuv-wxyz-2345-6789")


class FakeRecovery:
    def __init__(self, uid: str, codes: tuple[str, ...]) -> None:
        self.unused = {(uid, recovery_codes.digest(KEY, c)) for c in codes}
        self.asked: list[str] = []

    def use_recovery_code(self, uid: str, digest: str, at: float) -> bool:
        self.asked.append(digest)
        if (uid, digest) not in self.unused:
            return False
        self.unused.remove((uid, digest))
        return True


@pytest.fixture
def recovery() -> FakeRecovery:
    return FakeRecovery("alice", CODES)


@pytest.fixture
def full_service(
    service: SessionService, recovery: FakeRecovery, ledger: Any, signer: TokenSigner,
    clock: ManualClock,
) -> SessionService:
    """The conftest's service (alice and heidi with seeds), plus recovery codes and oscar, who
    has a password but no second factor."""
    directory = service._directory  # the fakes of conftest.py, one more person in them
    directory._by_uid["oscar"] = Principal("oscar", "Oscar", frozenset())  # type: ignore[attr-defined]
    service._passwords._passwords["oscar"] = "oscar-pass"  # type: ignore[attr-defined]
    return SessionService(directory, service._passwords, service._secrets, ledger, signer, clock,
                          recovery=recovery, recovery_key=KEY, enrolment_ttl_s=600,
                          invitations=_invitations(directory, service, clock))


def _invitations(directory: Any, service: SessionService, clock: ManualClock
                 ) -> InvitationService:
    return InvitationService(MemoryInvitations(), directory,
                             lambda uid: service._secrets.totp_secret(uid) is not None,
                             MemoryJournal(), clock, key=KEY, ttl_s=3600)


def _invite(service: SessionService, uid: str = "oscar") -> str:
    invitations = service._invitations
    assert invitations is not None
    return invitations.invite("ivan", uid).code


def test_a_recovery_code_stands_in_for_the_authenticator_once(
    full_service: SessionService, recovery: FakeRecovery
) -> None:
    issued = full_service.sign_in("alice", "alice-demo-pass", recovery_code=CODES[0].upper())

    assert issued.claims.amr == (AuthMethod.PASSWORD, AuthMethod.RECOVERY_CODE)
    assert issued.claims.multi_factor
    with pytest.raises(InvalidCredentials):
        full_service.sign_in("alice", "alice-demo-pass", recovery_code=CODES[0])
    assert CODES[0] not in recovery.asked  # the store only ever sees keyed digests


def test_a_recovery_code_needs_the_right_password_and_its_own_user(
    full_service: SessionService, recovery: FakeRecovery
) -> None:
    with pytest.raises(InvalidCredentials):
        full_service.sign_in("alice", "wrong", recovery_code=CODES[1])
    with pytest.raises(InvalidCredentials):
        full_service.sign_in("heidi", "heidi-demo-pass", recovery_code=CODES[1])
    assert len(recovery.unused) == 2  # nothing spent by the failures


def test_code_and_recovery_code_together_are_refused(
    full_service: SessionService, code_for: Callable[..., str]
) -> None:
    with pytest.raises(InvalidCredentials):
        full_service.sign_in("alice", "alice-demo-pass", code_for("alice"),
                             recovery_code=CODES[0])


def test_the_password_alone_opens_no_session_even_without_a_second_factor(
    full_service: SessionService,
) -> None:
    # Finding 7: whoever knew oscar's password opened a session, enrolled their own TOTP and
    # acted as oscar.
    with pytest.raises(InvalidCredentials):
        full_service.sign_in("oscar", "oscar-pass")


def test_password_and_invitation_open_a_short_password_only_session_once(
    full_service: SessionService, clock: ManualClock
) -> None:
    code = _invite(full_service)

    issued = full_service.sign_in("oscar", "oscar-pass", invitation=code.upper())

    assert issued.claims.amr == (AuthMethod.PASSWORD,)
    assert not issued.claims.multi_factor
    assert issued.claims.exp == clock.now() + 600
    with pytest.raises(InvalidCredentials):
        full_service.sign_in("oscar", "oscar-pass", invitation=code)


def test_an_invitation_needs_the_password_its_own_user_and_time(
    full_service: SessionService, clock: ManualClock
) -> None:
    code = _invite(full_service)
    for uid, password in (("oscar", "wrong"), ("alice", "alice-demo-pass")):
        with pytest.raises(InvalidCredentials):
            full_service.sign_in(uid, password, invitation=code)
    clock.advance(3601)
    with pytest.raises(InvalidCredentials):
        full_service.sign_in("oscar", "oscar-pass", invitation=code)


def test_a_new_invitation_replaces_the_unused_one_and_the_enrolled_get_none(
    full_service: SessionService,
) -> None:
    first, second = _invite(full_service), _invite(full_service)

    with pytest.raises(InvalidCredentials):
        full_service.sign_in("oscar", "oscar-pass", invitation=first)
    assert full_service.sign_in("oscar", "oscar-pass", invitation=second).claims.sub == "oscar"
    with pytest.raises(AlreadyEnrolled):
        _invite(full_service, "alice")
    with pytest.raises(UnknownUser):
        _invite(full_service, "nobody")


def test_someone_with_a_second_factor_cannot_skip_it(full_service: SessionService) -> None:
    with pytest.raises(InvalidCredentials) as caught:
        full_service.sign_in("alice", "alice-demo-pass")
    with pytest.raises(InvalidCredentials) as wrong_password:
        full_service.sign_in("oscar", "wrong")
    assert caught.value.message == wrong_password.value.message


def test_every_candidate_code_is_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch, alice_secret: str, clock: ManualClock
) -> None:
    compared: list[tuple[str, str]] = []

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return REAL_COMPARE(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    early = totp.code_at(alice_secret, clock.now() - 30)  # matches the first candidate

    assert totp.matching_timestep(alice_secret, early, clock.now()) == int(clock.now() // 30) - 1
    assert len(compared) == 2 * totp.DRIFT_STEPS + 1  # no early exit on a match
    assert all(b == early for _a, b in compared)


def test_session_signatures_are_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch, signer: TokenSigner, clock: ManualClock
) -> None:

    calls: list[int] = []

    def spy(a: bytes, b: bytes) -> bool:
        calls.append(1)
        return REAL_COMPARE(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    token, _ = signer.issue("alice", (AuthMethod.PASSWORD,), clock.now(), clock.now(), 60)

    signer.verify(token, clock.now())
    assert calls == [1]

"""Enrolling TOTP: pending until the first valid code, who may change factors, recovery codes,
and store-enrolled seeds taking precedence over the directory's."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pyotp
import pytest

from guardian.adapters.memory.ports import MemoryJournal
from guardian.clock import ManualClock
from guardian.errors import (
    AccountLocked,
    AuditUnavailable,
    CodeMismatch,
    FreshMfaRequired,
    NotFound,
    PermissionDenied,
    UnknownUser,
)
from guardian.identity import recovery_codes
from guardian.identity.attempts import SignInAttempts
from guardian.identity.enrolment import MfaEnrolment
from guardian.identity.factors import LayeredMfaSecrets
from guardian.identity.lockout import LockoutPolicy, SignInLimits
from guardian.identity.principal import Principal
from guardian.identity.tokens import SessionClaims, TokenSigner
from guardian.identity.totp import code_at
from guardian.identity.vocabulary import AuthMethod
from identity_support import FakeDirectory

KEY = b"r" * 32


class FakeFactors:
    """TotpFactors, MfaSecrets and RecoveryCodes in dictionaries."""

    def __init__(self) -> None:
        self.pending: dict[str, tuple[str, list[str]]] = {}
        self.active: dict[str, tuple[str, list[str]]] = {}
        self.used: set[tuple[str, str]] = set()

    def begin_totp(self, uid: str, secret: str, recovery_digests: Sequence[str],
                   at: float) -> None:
        self.pending[uid] = (secret, list(recovery_digests))

    def pending_totp(self, uid: str) -> str | None:
        return self.pending[uid][0] if uid in self.pending else None

    def activate_totp(self, uid: str, at: float) -> bool:
        if uid not in self.pending:
            return False
        self.active[uid] = self.pending.pop(uid)
        return True

    def totp_secret(self, uid: str) -> str | None:
        return self.active[uid][0] if uid in self.active else None

    def use_recovery_code(self, uid: str, digest: str, at: float) -> bool:
        if uid not in self.active or digest not in self.active[uid][1] \
                or (uid, digest) in self.used:
            return False
        self.used.add((uid, digest))
        return True


class FakeKeys:
    def __init__(self, owners: set[str]) -> None:
        self.owners = owners

    def has_credentials(self, uid: str) -> bool:
        return uid in self.owners

    def registration_options(self, uid: str, display_name: str, at: float) -> dict[str, Any]:
        return {}

    def register(self, uid: str, credential: Mapping[str, Any], at: float) -> str:
        return "key-1"

    def authentication_options(self, subject: str, decoys: Sequence[bytes],
                               at: float) -> dict[str, Any]:
        return {}

    def authenticate(self, uid: str, credential: Mapping[str, Any], at: float) -> bool:
        return False


@pytest.fixture
def factors() -> FakeFactors:
    return FakeFactors()


def _attempts(ledger: Any) -> SignInAttempts:
    oscar = FakeDirectory([Principal("oscar", "Oscar", frozenset())])
    return SignInAttempts(ledger, oscar, SignInLimits(LockoutPolicy(3, 60, 3600)), KEY)


@pytest.fixture
def journal() -> MemoryJournal:
    return MemoryJournal()


@pytest.fixture
def enrolment(factors: FakeFactors, ledger: Any, clock: ManualClock,
              journal: MemoryJournal) -> MfaEnrolment:
    directory = FakeDirectory([Principal("oscar", "Oscar", frozenset({"reviewer"}))])
    return MfaEnrolment(factors, factors, ledger, clock, recovery_key=KEY,
                        fresh_mfa_s=900, attempts=_attempts(ledger), journal=journal,
                        directory=directory)


def _secret_of(uri: str) -> str:
    match = re.search(r"secret=([A-Z2-7]+)", uri)
    assert match is not None
    return match.group(1)


def test_starting_gives_a_fresh_160_bit_seed_uri_and_ten_recovery_codes(
    enrolment: MfaEnrolment, factors: FakeFactors
) -> None:
    first = enrolment.start_totp("oscar")
    second = enrolment.start_totp("oscar")

    assert first.uri.startswith("otpauth://totp/Guardian:oscar?")
    assert "issuer=Guardian" in first.uri
    assert len(_secret_of(first.uri)) == 32 and _secret_of(first.uri) != _secret_of(second.uri)
    assert len(first.recovery_codes) == 10 == len(set(first.recovery_codes))
    stored = factors.pending["oscar"][1]
    assert stored == [recovery_codes.digest(KEY, c) for c in second.recovery_codes]
    assert not set(second.recovery_codes) & set(stored)  # only digests are kept
    assert factors.totp_secret("oscar") is None


def test_the_seed_becomes_active_only_with_a_valid_first_code(
    enrolment: MfaEnrolment, factors: FakeFactors, clock: ManualClock
) -> None:
    secret = _secret_of(enrolment.start_totp("oscar").uri)
    wrong = "000000" if code_at(secret, clock.now()) != "000000" else "111111"

    with pytest.raises(CodeMismatch):
        enrolment.activate_totp("oscar", wrong)
    assert factors.totp_secret("oscar") is None

    enrolment.activate_totp("oscar", code_at(secret, clock.now()))
    assert factors.totp_secret("oscar") == secret


def test_the_activation_code_cannot_be_used_again(
    enrolment: MfaEnrolment, ledger: Any, clock: ManualClock
) -> None:
    secret = _secret_of(enrolment.start_totp("oscar").uri)
    code = code_at(secret, clock.now())
    enrolment.activate_totp("oscar", code)

    assert not ledger.claim("oscar", int(clock.now() // 30), clock.now())


def test_activating_without_a_pending_enrolment_is_not_found(enrolment: MfaEnrolment) -> None:
    with pytest.raises(NotFound):
        enrolment.activate_totp("oscar", "123456")


def test_wrong_first_codes_count_towards_the_lockout(
    enrolment: MfaEnrolment, clock: ManualClock
) -> None:
    secret = _secret_of(enrolment.start_totp("oscar").uri)
    valid = {code_at(secret, clock.now() + d) for d in (-30, 0, 30)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
    for _ in range(3):
        with pytest.raises(CodeMismatch):
            enrolment.activate_totp("oscar", wrong)

    with pytest.raises(AccountLocked):
        enrolment.activate_totp("oscar", code_at(secret, clock.now()))


def _claims(signer: TokenSigner, uid: str, amr: tuple[AuthMethod, ...], auth_time: float,
            now: float) -> SessionClaims:
    return signer.issue(uid, amr, auth_time=auth_time, now=now, ttl_s=3600)[1]


def test_someone_without_a_factor_may_enrol_with_a_password_only_session(
    enrolment: MfaEnrolment, signer: TokenSigner, clock: ManualClock
) -> None:
    claims = _claims(signer, "oscar", (AuthMethod.PASSWORD,), clock.now(), clock.now())

    enrolment.authorise_change(claims)


def test_replacing_a_factor_needs_a_fresh_second_factor(
    enrolment: MfaEnrolment, factors: FakeFactors, signer: TokenSigner, clock: ManualClock
) -> None:
    factors.active["oscar"] = ("SEED", [])
    now = clock.now()
    password_only = _claims(signer, "oscar", (AuthMethod.PASSWORD,), now, now)
    stale = _claims(signer, "oscar", (AuthMethod.PASSWORD, AuthMethod.OTP), now - 901, now)
    fresh = _claims(signer, "oscar", (AuthMethod.PASSWORD, AuthMethod.OTP), now - 60, now)

    for claims in (password_only, stale):
        with pytest.raises(FreshMfaRequired):
            enrolment.authorise_change(claims)
    enrolment.authorise_change(fresh)


def test_a_security_key_also_counts_as_a_factor_to_protect(
    factors: FakeFactors, ledger: Any, clock: ManualClock, signer: TokenSigner
) -> None:
    enrolment = MfaEnrolment(factors, factors, ledger, clock, recovery_key=KEY,
                             webauthn=FakeKeys({"oscar"}), attempts=_attempts(ledger),
                             journal=MemoryJournal())
    claims = _claims(signer, "oscar", (AuthMethod.PASSWORD,), clock.now(), clock.now())

    assert enrolment.has_second_factor("oscar")
    with pytest.raises(FreshMfaRequired):
        enrolment.authorise_change(claims)


def test_store_seeds_take_precedence_over_the_directory_file(factors: FakeFactors) -> None:
    class Directory:
        def totp_secret(self, uid: str) -> str | None:
            return {"alice": "FILESEED", "bob": "FILEBOB"}.get(uid)

    factors.active["alice"] = ("STORESEED", [])
    layered = LayeredMfaSecrets(factors, Directory())

    assert layered.totp_secret("alice") == "STORESEED"
    assert layered.totp_secret("bob") == "FILEBOB"
    assert layered.totp_secret("nobody") is None


def test_recovery_codes_are_distinct_with_over_79_bits_and_forgive_typing() -> None:
    codes = recovery_codes.generate()

    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        assert re.fullmatch(r"([a-z2-9]{4}-){3}[a-z2-9]{4}", code)
    alphabet = len(set("abcdefghjkmnpqrstuvwxyz23456789"))
    assert 16 * math.log2(alphabet) > 79
    code = codes[0]
    typed = "  " + code.upper().replace("-", " ") + " "
    assert recovery_codes.digest(KEY, typed) == recovery_codes.digest(KEY, code)
    assert recovery_codes.digest(b"x" * 32, code) != recovery_codes.digest(KEY, code)


def test_the_uri_carries_a_seed_an_authenticator_accepts(enrolment: MfaEnrolment,
                                                          clock: ManualClock) -> None:
    uri = enrolment.start_totp("oscar").uri
    totp = pyotp.parse_uri(uri)

    assert totp.at(clock.now()) == code_at(_secret_of(uri), clock.now())  # type: ignore[attr-defined]


def test_an_enrolment_by_an_administrator_is_journalled_before_the_seed_is_stored(
    enrolment: MfaEnrolment, factors: FakeFactors, journal: MemoryJournal, clock: ManualClock
) -> None:
    secret = _secret_of(enrolment.start_totp("oscar", actor="cli").uri)
    started = journal.events[-1]
    enrolment.activate_totp("oscar", code_at(secret, clock.now()), actor="cli")

    assert [e["event"]["action"] for e in journal.events] == [
        "mfa.enrolment_started", "mfa.factor_activated"]
    assert started["user"]["id"] == "oscar"
    assert (started["guardian"]["factor"], started["guardian"]["actor"]) == ("totp", "cli")
    assert factors.totp_secret("oscar") == secret


def test_nothing_is_started_or_activated_when_the_journal_cannot_record_it(
    enrolment: MfaEnrolment, factors: FakeFactors, journal: MemoryJournal, clock: ManualClock
) -> None:
    journal.fail = True
    with pytest.raises(AuditUnavailable):
        enrolment.start_totp("oscar", actor="cli")
    assert "oscar" not in factors.pending

    journal.fail = False
    secret = _secret_of(enrolment.start_totp("oscar", actor="cli").uri)
    journal.fail = True
    with pytest.raises(AuditUnavailable):
        enrolment.activate_totp("oscar", code_at(secret, clock.now()), actor="cli")
    assert factors.totp_secret("oscar") is None


def test_an_enrolment_in_ones_own_session_names_it_and_someone_elses_is_refused(
    enrolment: MfaEnrolment, journal: MemoryJournal, signer: TokenSigner, clock: ManualClock
) -> None:
    claims = _claims(signer, "oscar", (AuthMethod.PASSWORD,), clock.now(), clock.now())

    enrolment.start_totp("oscar", session=claims)
    with pytest.raises(PermissionDenied):
        enrolment.start_totp("alice", session=claims)

    assert journal.events[-1]["guardian"]["session_id"] == claims.sid
    assert len(journal.events) == 1


def test_enrolling_someone_the_directory_does_not_know_is_refused(
    enrolment: MfaEnrolment, journal: MemoryJournal
) -> None:
    with pytest.raises(UnknownUser):
        enrolment.start_totp("nobody", actor="cli")

    assert journal.events == []

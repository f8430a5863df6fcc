"""Signing in with password and a second factor, stepping up, and verifying session tokens.

The second factor is a TOTP code, a one-time recovery code (``amr`` then says ``rcc``) or a
security key (WebAuthn, ``hwk``). Someone with no second factor yet signs in with the password
and an invitation a security officer gave them (:mod:`guardian.identity.invitations`): that
session (``amr`` ``["pwd"]``, short-lived) is good for enrolling a factor and nothing else; the
password alone opens nothing. Failures never say which part was wrong. Each TOTP code is
accepted once (its time step is claimed in the shared :class:`~guardian.ports.OtpLedger`).

Every attempt is counted before the password is checked (:mod:`guardian.identity.attempts`):
a hard, doubling lock per person and source address and per source, only a delay per person
across sources, so nobody locks someone else out from another address. Security-key options
are given to anyone who asks, in the same shape whoever they are (decoys for people without a
key and unknown ids); the password is checked together with the key's answer.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, NoReturn

from guardian.errors import InvalidCredentials
from guardian.identity import recovery_codes, totp
from guardian.identity.attempts import Attempt, SignInAttempts
from guardian.identity.factors import has_second_factor
from guardian.identity.invitations import InvitationService
from guardian.identity.lockout import LockoutPolicy, SignInLimits
from guardian.identity.principal import Principal
from guardian.identity.tokens import SessionClaims, TokenSigner
from guardian.identity.vocabulary import AuthMethod
from guardian.ports import (
    Clock,
    Directory,
    MfaSecrets,
    OtpLedger,
    PasswordVerifier,
    RecoveryCodes,
    WebAuthnCeremonies,
)

__all__ = ["IssuedSession", "LockoutPolicy", "SessionService", "SignInLimits"]

LOCAL = "local"
"""The source of attempts made on this host (the CLI, tests)."""


@dataclass(frozen=True, slots=True)
class IssuedSession:
    token: str
    claims: SessionClaims


@dataclass(frozen=True, slots=True)
class Factors:
    """What came with the password: exactly one of them signs in."""

    otp: str | None = None
    recovery_code: str | None = None
    invitation: str | None = None


class SessionService:
    def __init__(
        self,
        directory: Directory,
        passwords: PasswordVerifier,
        secrets: MfaSecrets,
        ledger: OtpLedger,
        signer: TokenSigner,
        clock: Clock,
        ttl_s: float = 8 * 3600,
        lockout: LockoutPolicy | SignInLimits | None = None,
        *,
        recovery: RecoveryCodes | None = None,
        recovery_key: bytes = b"",
        webauthn: WebAuthnCeremonies | None = None,
        enrolment_ttl_s: float = 900.0,
        invitations: InvitationService | None = None,
        digest_key: bytes = b"guardian-unknown-user-digest-key",
        attempts: SignInAttempts | None = None,
    ) -> None:
        limits = SignInLimits(per_user_source=lockout) if isinstance(lockout, LockoutPolicy) \
            else (lockout or SignInLimits())
        self._directory = directory
        self._passwords = passwords
        self._secrets = secrets
        self._ledger = ledger
        self._signer = signer
        self._clock = clock
        self._ttl_s = ttl_s
        self.attempts = attempts or SignInAttempts(ledger, directory, limits, digest_key)
        self._recovery = recovery
        self._recovery_key = recovery_key
        self._webauthn = webauthn
        self._enrolment_ttl_s = enrolment_ttl_s
        self._invitations = invitations
        self._decoy_key = hmac.new(digest_key, b"webauthn-decoys", hashlib.sha256).digest()

    def subject(self, uid: str) -> str:
        """How the trail names ``uid``: itself, or a keyed digest if the directory does not
        know it (it may be a password typed into the wrong field)."""
        return self.attempts.subject(uid)

    def delay_s(self, uid: str) -> float:
        """Seconds to wait before a sign-in of ``uid`` (failures from every source)."""
        return self.attempts.delay_s(uid, self._clock.now())

    def sign_in(
        self, uid: str, password: str, otp: str | None = None, *,
        recovery_code: str | None = None, invitation: str | None = None,
        source: str = LOCAL,
    ) -> IssuedSession:
        """Password and one of: a TOTP code, a recovery code, or (for someone with no second
        factor yet) an invitation, spent here; it opens an enrolment-only session."""
        now = self._clock.now()
        attempt = self.attempts.reserve(uid, source, now)
        self._check_password(uid, password)
        amr = self._check_factor(uid, Factors(otp, recovery_code, invitation), now)
        return self._issue(attempt, amr, now)

    def webauthn_options(self, uid: str) -> dict[str, Any]:
        """Assertion options for ``uid``'s security keys; for anyone else, decoys of the same
        shape (stable per user id). Nothing is checked or counted here."""
        if self._webauthn is None:
            raise InvalidCredentials("invalid user, password or code")
        subject = self.subject(uid)
        decoy = hmac.new(self._decoy_key, subject.encode("utf-8", "surrogatepass"),
                         hashlib.sha256).digest()
        return self._webauthn.authentication_options(subject, [decoy], self._clock.now())

    def sign_in_webauthn(
        self, uid: str, password: str, credential: dict[str, object], *, source: str = LOCAL,
    ) -> IssuedSession:
        """The password and a security key's answer to the options, checked together."""
        now = self._clock.now()
        attempt = self.attempts.reserve(uid, source, now)
        self._check_password(uid, password)
        if self._webauthn is None or not self._webauthn.authenticate(uid, credential, now):
            _fail()
        return self._issue(attempt, (AuthMethod.PASSWORD, AuthMethod.HARDWARE_KEY), now)

    def step_up(self, token: str, otp: str, *, source: str = LOCAL) -> IssuedSession:
        """Check a fresh TOTP code and issue a new token whose ``auth_time`` is now."""
        now = self._clock.now()
        current = self._signer.verify(token, now)
        attempt = self.attempts.reserve(current.sub, source, now)
        principal = self._directory.get(current.sub)
        if principal is None or not principal.active:
            _fail()
        step = self._check_otp(current.sub, otp, now)
        if step is None or not self._ledger.claim(current.sub, step, now):
            _fail()
        return self._renew(current, attempt, AuthMethod.OTP, now)

    def step_up_webauthn(self, token: str, credential: dict[str, object], *,
                         source: str = LOCAL) -> IssuedSession:
        """Check a security key's answer to :meth:`webauthn_options` of the person signed in
        and issue a new token whose ``auth_time`` is now."""
        now = self._clock.now()
        current = self._signer.verify(token, now)
        attempt = self.attempts.reserve(current.sub, source, now)
        principal = self._directory.get(current.sub)
        if principal is None or not principal.active or self._webauthn is None \
                or not self._webauthn.authenticate(current.sub, credential, now):
            _fail()
        return self._renew(current, attempt, AuthMethod.HARDWARE_KEY, now)

    def _renew(self, current: SessionClaims, attempt: Attempt, method: AuthMethod,
               now: float) -> IssuedSession:
        self.attempts.succeeded(attempt)
        amr = tuple(dict.fromkeys((*current.amr, method)))
        remaining = max(0.0, current.exp - now)
        new_token, claims = self._signer.issue(
            current.sub, amr, auth_time=now, now=now, ttl_s=min(self._ttl_s, remaining)
        )
        return IssuedSession(new_token, claims)

    def verify(self, token: str) -> SessionClaims:
        return self._signer.verify(token, self._clock.now())

    def _check_password(self, uid: str, password: str) -> Principal:
        principal = self._directory.get(uid)
        # Same work for an unknown user (every verifier spends a dummy hash on one) and the
        # same outage behaviour (an LDAP verifier raises DirectoryUnavailable for everyone).
        right = self._passwords.verify_password(uid, password)
        if principal is None or not right or not principal.active:
            _fail()
        return principal

    def _check_factor(self, uid: str, given: Factors, now: float) -> tuple[AuthMethod, ...]:
        if sum(f is not None for f in (given.otp, given.recovery_code, given.invitation)) != 1:
            _fail()
        if given.otp is not None:
            step = self._check_otp(uid, given.otp, now)
            if step is None or not self._ledger.claim(uid, step, now):
                _fail()
            return (AuthMethod.PASSWORD, AuthMethod.OTP)
        if given.recovery_code is not None:
            digest = recovery_codes.digest(self._recovery_key, given.recovery_code)
            if self._recovery is None or not self._recovery_key \
                    or not self._recovery.use_recovery_code(uid, digest, now):
                _fail()
            return (AuthMethod.PASSWORD, AuthMethod.RECOVERY_CODE)
        assert given.invitation is not None
        if self._invitations is None \
                or has_second_factor(self._secrets, self._webauthn, uid) \
                or not self._invitations.use(uid, given.invitation, now):
            _fail()
        return (AuthMethod.PASSWORD,)

    def _issue(self, attempt: Attempt, amr: tuple[AuthMethod, ...], now: float) -> IssuedSession:
        self.attempts.succeeded(attempt)
        ttl = self._ttl_s if len(amr) > 1 else min(self._ttl_s, self._enrolment_ttl_s)
        token, claims = self._signer.issue(attempt.subject, amr, auth_time=now, now=now,
                                           ttl_s=ttl)
        return IssuedSession(token, claims)

    def _check_otp(self, uid: str, code: str, now: float) -> int | None:
        secret = self._secrets.totp_secret(uid)
        if secret is None:
            return None
        return totp.matching_timestep(secret, code, now)


def _fail() -> NoReturn:
    raise InvalidCredentials("invalid user, password or code")

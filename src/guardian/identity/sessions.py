"""Signing in with password and a second factor, stepping up, and verifying session tokens.

The second factor is a TOTP code, a one-time recovery code (``amr`` then says ``rcc``) or a
security key (WebAuthn, ``hwk``: options are only given out once the password is right, and the
assertion must answer them). Someone with no second factor at all may sign in with the password
alone: that session (``amr`` ``["pwd"]``, short-lived) is good for enrolling a factor and
nothing else, as every decision and administrative endpoint asks for a second factor.
Failures never say which factor was wrong. Each TOTP code is accepted once (the time step is
claimed in the shared :class:`~guardian.ports.OtpLedger`), and repeated failures lock the
account for a period that doubles with every further failure, up to a ceiling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NoReturn

from guardian.errors import AccountLocked, InvalidCredentials
from guardian.identity import recovery_codes, totp
from guardian.identity.factors import has_second_factor
from guardian.identity.tokens import SessionClaims, TokenSigner
from guardian.policy.vocabulary import AuthMethod
from guardian.ports import (
    Clock,
    Directory,
    MfaSecrets,
    OtpLedger,
    PasswordVerifier,
    RecoveryCodes,
    WebAuthnCeremonies,
)


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_failures: int = 5
    """Consecutive failures allowed before the account locks."""
    base_lock_s: float = 60.0
    max_lock_s: float = 3600.0

    def locked_for(self, failures: int) -> float:
        if failures < self.max_failures:
            return 0.0
        return float(min(self.max_lock_s, self.base_lock_s * 2 ** (failures - self.max_failures)))


@dataclass(frozen=True, slots=True)
class IssuedSession:
    token: str
    claims: SessionClaims


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
        lockout: LockoutPolicy | None = None,
        *,
        recovery: RecoveryCodes | None = None,
        recovery_key: bytes = b"",
        webauthn: WebAuthnCeremonies | None = None,
        enrolment_ttl_s: float = 900.0,
    ) -> None:
        self._directory = directory
        self._passwords = passwords
        self._secrets = secrets
        self._ledger = ledger
        self._signer = signer
        self._clock = clock
        self._ttl_s = ttl_s
        self._lockout = lockout or LockoutPolicy()
        self._recovery = recovery
        self._recovery_key = recovery_key
        self._webauthn = webauthn
        self._enrolment_ttl_s = enrolment_ttl_s

    def sign_in(
        self, uid: str, password: str, otp: str | None = None, *,
        recovery_code: str | None = None,
    ) -> IssuedSession:
        """Password and a TOTP code, or a recovery code, or nothing more for someone who has
        no second factor yet (an enrolment-only session)."""
        now = self._clock.now()
        self._check_password(uid, password, now)
        if otp is not None and recovery_code is None:
            step = self._check_otp(uid, otp, now)
            if step is None or not self._ledger.claim(uid, step, now):
                self._fail(uid, now)
            amr: tuple[AuthMethod, ...] = (AuthMethod.PASSWORD, AuthMethod.OTP)
        elif recovery_code is not None and otp is None:
            digest = recovery_codes.digest(self._recovery_key, recovery_code)
            if self._recovery is None or not self._recovery_key \
                    or not self._recovery.use_recovery_code(uid, digest, now):
                self._fail(uid, now)
            amr = (AuthMethod.PASSWORD, AuthMethod.RECOVERY_CODE)
        elif otp is None and recovery_code is None:
            if has_second_factor(self._secrets, self._webauthn, uid):
                self._fail(uid, now)
            amr = (AuthMethod.PASSWORD,)
        else:
            self._fail(uid, now)
        return self._issue(uid, amr, now)

    def webauthn_options(self, uid: str, password: str) -> dict[str, object]:
        """Assertion options for ``uid``'s security keys, once their password is right."""
        now = self._clock.now()
        self._check_password(uid, password, now)
        options = None if self._webauthn is None \
            else self._webauthn.authentication_options(uid, now)
        if options is None:
            self._fail(uid, now)
        return options

    def sign_in_webauthn(self, uid: str, credential: dict[str, object]) -> IssuedSession:
        """Check a security key's answer to the options given after the password was checked."""
        now = self._clock.now()
        self._refuse_if_locked(uid, now)
        principal = self._directory.get(uid)
        if principal is None or not principal.active or self._webauthn is None \
                or not self._webauthn.authenticate(uid, credential, now):
            self._fail(uid, now)
        return self._issue(uid, (AuthMethod.PASSWORD, AuthMethod.HARDWARE_KEY), now)

    def step_up(self, token: str, otp: str) -> IssuedSession:
        """Check a fresh TOTP code and issue a new token whose ``auth_time`` is now."""
        now = self._clock.now()
        current = self._signer.verify(token, now)
        self._refuse_if_locked(current.sub, now)
        principal = self._directory.get(current.sub)
        if principal is None or not principal.active:
            self._fail(current.sub, now)
        step = self._check_otp(current.sub, otp, now)
        if step is None or not self._ledger.claim(current.sub, step, now):
            self._fail(current.sub, now)
        self._ledger.reset_failures(current.sub)
        amr = tuple(dict.fromkeys((*current.amr, AuthMethod.OTP)))
        remaining = max(0.0, current.exp - now)
        new_token, claims = self._signer.issue(
            current.sub, amr, auth_time=now, now=now, ttl_s=min(self._ttl_s, remaining)
        )
        return IssuedSession(new_token, claims)

    def verify(self, token: str) -> SessionClaims:
        return self._signer.verify(token, self._clock.now())

    def _check_password(self, uid: str, password: str, now: float) -> None:
        self._refuse_if_locked(uid, now)
        principal = self._directory.get(uid)
        if principal is None:
            # Same work, same failure count and the same outage behaviour (an LDAP verifier
            # raises DirectoryUnavailable for everyone) as a real account: nothing tells them
            # apart. Every verifier spends a dummy hash on an unknown user.
            self._passwords.verify_password(uid, password)
            self._fail(uid, now)
        if not self._passwords.verify_password(uid, password) or not principal.active:
            self._fail(uid, now)

    def _issue(self, uid: str, amr: tuple[AuthMethod, ...], now: float) -> IssuedSession:
        self._ledger.reset_failures(uid)
        ttl = self._ttl_s if len(amr) > 1 else min(self._ttl_s, self._enrolment_ttl_s)
        token, claims = self._signer.issue(uid, amr, auth_time=now, now=now, ttl_s=ttl)
        return IssuedSession(token, claims)

    def _check_otp(self, uid: str, code: str, now: float) -> int | None:
        secret = self._secrets.totp_secret(uid)
        if secret is None:
            return None
        return totp.matching_timestep(secret, code, now)

    def _refuse_if_locked(self, uid: str, now: float) -> None:
        failures, last = self._ledger.failures(uid)
        remaining = last + self._lockout.locked_for(failures) - now
        if remaining > 0:
            raise AccountLocked(f"too many failed attempts; try again in {math.ceil(remaining)} s")

    def _fail(self, uid: str, now: float) -> NoReturn:
        self._ledger.record_failure(uid, now)
        raise InvalidCredentials("invalid user, password or code")

"""Signing in with password and TOTP, stepping up, and verifying session tokens.

Failures never say which factor was wrong. Each TOTP code is accepted once (the time step is
claimed in the shared :class:`~guardian.ports.OtpLedger`), and repeated failures lock the
account for a period that doubles with every further failure, up to a ceiling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NoReturn

from guardian.errors import AccountLocked, InvalidCredentials
from guardian.identity import totp
from guardian.identity.passwords import DUMMY_HASH, verify_password
from guardian.identity.tokens import SessionClaims, TokenSigner
from guardian.policy.vocabulary import AuthMethod
from guardian.ports import Clock, Directory, MfaSecrets, OtpLedger, PasswordVerifier


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
    ) -> None:
        self._directory = directory
        self._passwords = passwords
        self._secrets = secrets
        self._ledger = ledger
        self._signer = signer
        self._clock = clock
        self._ttl_s = ttl_s
        self._lockout = lockout or LockoutPolicy()

    def sign_in(self, uid: str, password: str, otp: str) -> IssuedSession:
        now = self._clock.now()
        self._refuse_if_locked(uid, now)
        principal = self._directory.get(uid)
        if principal is None:
            # Same work and same failure count as for a real account: nothing tells them apart.
            verify_password(password, DUMMY_HASH)
            self._fail(uid, now)
        password_ok = self._passwords.verify_password(uid, password)
        step = self._check_otp(uid, otp, now) if password_ok else None
        if not (password_ok and step is not None and principal.active):
            self._fail(uid, now)
        if not self._ledger.claim(uid, step if step is not None else -1, now):
            self._fail(uid, now)
        self._ledger.reset_failures(uid)
        token, claims = self._signer.issue(
            uid, (AuthMethod.PASSWORD, AuthMethod.OTP), auth_time=now, now=now, ttl_s=self._ttl_s
        )
        return IssuedSession(token, claims)

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

"""Enrolling second factors: a TOTP seed is pending until its first valid code, then active.

Starting an enrolment makes a fresh 160-bit seed (kept sealed by the store), its provisioning
URI and ten recovery codes, shown once. Someone with no second factor yet enrols with the
password-only session that their password and an invitation opened (a password alone opens
none, see :mod:`guardian.identity.invitations`); replacing or adding a factor needs a second
factor at most ``fresh_mfa_s`` old, so a stolen password alone never changes anyone's factors.
Wrong first codes count towards the lockout like failed sign-ins (per person and source).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyotp

from guardian.errors import CodeMismatch, FreshMfaRequired, NotFound
from guardian.identity import recovery_codes, totp
from guardian.identity.attempts import SignInAttempts
from guardian.identity.authorisation import mfa_is_fresh
from guardian.identity.factors import has_second_factor
from guardian.identity.tokens import SessionClaims
from guardian.ports import Clock, MfaSecrets, OtpLedger, TotpFactors, WebAuthnCeremonies

LOCAL = "local"


@dataclass(frozen=True, slots=True)
class Provisioning:
    """What a person needs to set up their authenticator; shown once, never stored in clear."""

    uid: str
    uri: str
    recovery_codes: tuple[str, ...]


def new_totp_secret() -> str:
    return pyotp.random_base32(32)


class MfaEnrolment:
    def __init__(
        self,
        factors: TotpFactors,
        secrets: MfaSecrets,
        ledger: OtpLedger,
        clock: Clock,
        *,
        recovery_key: bytes,
        issuer: str = "Guardian",
        fresh_mfa_s: float = 900.0,
        webauthn: WebAuthnCeremonies | None = None,
        attempts: SignInAttempts,
    ) -> None:
        self._factors = factors
        self._secrets = secrets
        self._ledger = ledger
        self._clock = clock
        self._recovery_key = recovery_key
        self._issuer = issuer
        self._fresh_mfa_s = fresh_mfa_s
        self._webauthn = webauthn
        self._attempts = attempts

    def has_second_factor(self, uid: str) -> bool:
        return has_second_factor(self._secrets, self._webauthn, uid)

    def authorise_change(self, claims: SessionClaims) -> None:
        """Refuse a factor change to a session that is not enough for it (see module doc)."""
        if not self.has_second_factor(claims.sub):
            return
        if not mfa_is_fresh(claims, self._clock.now(), self._fresh_mfa_s):
            raise FreshMfaRequired(
                "changing second factors needs a second factor at most "
                f"{int(self._fresh_mfa_s)} s old: step up first")

    def start_totp(self, uid: str) -> Provisioning:
        secret = new_totp_secret()
        codes = recovery_codes.generate()
        digests = [recovery_codes.digest(self._recovery_key, c) for c in codes]
        self._factors.begin_totp(uid, secret, digests, self._clock.now())
        uri = pyotp.TOTP(secret).provisioning_uri(name=uid, issuer_name=self._issuer)
        return Provisioning(uid, uri, codes)

    def activate_totp(self, uid: str, code: str, *, source: str = LOCAL) -> None:
        """Activate the pending seed if ``code`` is its current code (then used up)."""
        now = self._clock.now()
        pending = self._factors.pending_totp(uid)
        if pending is None:
            raise NotFound(f"no TOTP enrolment of {uid} is waiting for its first code")
        attempt = self._attempts.reserve(uid, source, now)
        step = totp.matching_timestep(pending, code, now)
        if step is None:
            raise CodeMismatch("the code does not match the new authenticator")
        # Used up so that it cannot also open a session. A step already claimed (a sign-in or
        # step-up with the old authenticator a moment ago) is used up just the same.
        self._ledger.claim(uid, step, now)
        if not self._factors.activate_totp(uid, now):
            raise NotFound(f"no TOTP enrolment of {uid} is waiting for its first code")
        self._attempts.succeeded(attempt)


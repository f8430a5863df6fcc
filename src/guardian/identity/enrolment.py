"""Enrolling second factors: a TOTP seed is pending until its first valid code, then active.

Starting an enrolment makes a fresh 160-bit seed (kept sealed by the store), its provisioning
URI and ten recovery codes, shown once. Someone with no second factor yet enrols with the
password-only session that their password and an invitation opened (a password alone opens
none, see :mod:`guardian.identity.invitations`); replacing or adding a factor needs a second
factor at most ``fresh_mfa_s`` old, so a stolen password alone never changes anyone's factors.
Wrong first codes count towards the lockout like failed sign-ins (per person and source).

Each step is one use case, the same from every entry point (HTTP for oneself, the CLI for an
administrator): checked, journalled, then stored, so no factor changes without its record.
``actor`` is who made the change when it is not the person themself (``cli``, an officer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyotp

from guardian.audit.events import AuditAction, session_event
from guardian.errors import CodeMismatch, FreshMfaRequired, NotFound, PermissionDenied, UnknownUser
from guardian.identity import recovery_codes, totp
from guardian.identity.attempts import SignInAttempts
from guardian.identity.authorisation import mfa_is_fresh
from guardian.identity.factors import has_second_factor
from guardian.identity.tokens import SessionClaims
from guardian.ports import (
    AuditJournal,
    Clock,
    Directory,
    MfaSecrets,
    OtpLedger,
    TotpFactors,
    WebAuthnCeremonies,
)

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
        journal: AuditJournal,
        directory: Directory | None = None,
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
        self._journal = journal
        self._directory = directory

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

    def start_totp(self, uid: str, *, session: SessionClaims | None = None,
                   actor: str | None = None) -> Provisioning:
        """A fresh pending seed and recovery codes for ``uid``: by the person themself in
        ``session`` (which must be enough for a change), or by ``actor`` on their behalf."""
        if session is not None:
            self._authorise_own(uid, session)
        self._known(uid)
        secret = new_totp_secret()
        codes = recovery_codes.generate()
        digests = [recovery_codes.digest(self._recovery_key, c) for c in codes]
        now = self._clock.now()
        self._journal.append(session_event(
            AuditAction.MFA_ENROLMENT_STARTED, uid, now, factor="totp",
            **_who(session, actor)))
        self._factors.begin_totp(uid, secret, digests, now)
        uri = pyotp.TOTP(secret).provisioning_uri(name=uid, issuer_name=self._issuer)
        return Provisioning(uid, uri, codes)

    def activate_totp(self, uid: str, code: str, *, source: str = LOCAL,
                      session: SessionClaims | None = None, actor: str | None = None) -> None:
        """Activate the pending seed if ``code`` is its current code (then used up)."""
        now = self._clock.now()
        pending = self._factors.pending_totp(uid)
        if pending is None:
            raise NotFound(f"no TOTP enrolment of {uid} is waiting for its first code")
        attempt = self._attempts.reserve(uid, source, now)
        step = totp.matching_timestep(pending, code, now)
        if step is None:
            raise CodeMismatch("the code does not match the new authenticator")
        self._journal.append(session_event(
            AuditAction.MFA_FACTOR_ACTIVATED, uid, now, factor="totp", **_who(session, actor)))
        # Used up so that it cannot also open a session. A step already claimed (a sign-in or
        # step-up with the old authenticator a moment ago) is used up just the same.
        self._ledger.claim(uid, step, now)
        if not self._factors.activate_totp(uid, now):
            raise NotFound(f"no TOTP enrolment of {uid} is waiting for its first code")
        self._attempts.succeeded(attempt)

    def webauthn_options(self, session: SessionClaims) -> dict[str, Any]:
        """Options for registering a security key, for the person signed in ``session``."""
        self.authorise_change(session)
        webauthn = self._ceremonies()
        principal = self._directory.get(session.sub) if self._directory is not None else None
        name = principal.name if principal is not None else session.sub
        return webauthn.registration_options(session.sub, name, self._clock.now())

    def register_key(self, session: SessionClaims, credential: dict[str, Any]) -> str:
        """Register the security key answering the options; its id. The relying party checks
        and stores it in one step, so the event follows the (checked) registration."""
        self.authorise_change(session)
        now = self._clock.now()
        credential_id = self._ceremonies().register(session.sub, credential, now)
        self._journal.append(session_event(
            AuditAction.MFA_WEBAUTHN_REGISTERED, session.sub, now, factor="webauthn",
            credential_id=credential_id, session_id=session.sid))
        return credential_id

    def _authorise_own(self, uid: str, session: SessionClaims) -> None:
        if session.sub != uid:
            raise PermissionDenied("a session enrols factors only for the person signed in")
        self.authorise_change(session)

    def _known(self, uid: str) -> None:
        if self._directory is not None and self._directory.get(uid) is None:
            raise UnknownUser(f"{uid} is not in the directory")

    def _ceremonies(self) -> WebAuthnCeremonies:
        if self._webauthn is None:
            raise NotFound("security keys are not enabled")
        return self._webauthn


def _who(session: SessionClaims | None, actor: str | None) -> dict[str, str]:
    """The event's fields naming how the change was made: the session, or another actor."""
    who: dict[str, str] = {}
    if session is not None:
        who["session_id"] = session.sid
    if actor is not None:
        who["actor"] = actor
    return who

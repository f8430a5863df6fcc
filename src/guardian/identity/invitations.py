"""Invitations to enrol a first second factor, made by a security officer.

Knowing someone's password is not enough to give them an authenticator: whoever did would
enrol their own and act as that person. A first enrolment needs the password *and* an
invitation: a single-use code of 100 random bits, handed to the person out of band, expiring
(72 h by default). Only its keyed digest is stored; making one is journalled before it is
stored, and it is spent by the sign-in that opens the (short, enrolment-only) session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from guardian.audit.events import AuditAction, governance_event
from guardian.errors import AlreadyEnrolled, UnknownUser
from guardian.identity import recovery_codes
from guardian.ports import AuditJournal, Clock, Directory, MfaInvitations

_LENGTH = 20  # 20 letters of a 31-letter alphabet: over 99 bits
_GROUP = 4


@dataclass(frozen=True, slots=True)
class Invitation:
    """What the officer hands over; the code is shown once."""

    uid: str
    code: str
    expires_at: float


def new_code() -> str:
    alphabet = recovery_codes.ALPHABET
    raw = "".join(secrets.choice(alphabet) for _ in range(_LENGTH))
    return "-".join(raw[i:i + _GROUP] for i in range(0, _LENGTH, _GROUP))


class InvitationService:
    def __init__(
        self,
        store: MfaInvitations,
        directory: Directory,
        has_second_factor: Callable[[str], bool],
        journal: AuditJournal,
        clock: Clock,
        *,
        key: bytes,
        ttl_s: float = 72 * 3600,
    ) -> None:
        if len(key) < 16:
            raise ValueError("the invitation key must be at least 16 bytes")
        self._store = store
        self._directory = directory
        self._has_second_factor = has_second_factor
        self._journal = journal
        self._clock = clock
        self._key = key
        self.ttl_s = ttl_s

    def digest(self, code: str) -> str:
        normal = recovery_codes.normalise(code)
        return hmac.new(self._key, normal.encode("utf-8", "surrogatepass"),
                        hashlib.sha256).hexdigest()

    def invite(self, officer: str, uid: str) -> Invitation:
        """A fresh invitation for ``uid`` (replacing an unused one), journalled, then kept."""
        principal = self._directory.get(uid)
        if principal is None or not principal.active:
            raise UnknownUser(f"{uid} is not an active member of the directory")
        if self._has_second_factor(uid):
            raise AlreadyEnrolled(
                f"{uid} already has a second factor: they change it themselves, "
                "with a fresh second factor")
        now = self._clock.now()
        invitation = Invitation(uid, new_code(), now + self.ttl_s)
        self._journal.append(governance_event(
            AuditAction.MFA_INVITATION_CREATED, officer, now, subject=uid,
            expires_at=invitation.expires_at))
        self._store.add_invitation(uid, self.digest(invitation.code), officer, now,
                                   invitation.expires_at)
        return invitation

    def use(self, uid: str, code: str, at: float) -> bool:
        """Spend ``uid``'s invitation with this code; ``False`` if it is not a valid one."""
        return self._store.use_invitation(uid, self.digest(code), at)

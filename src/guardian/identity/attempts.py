"""Counting sign-in attempts so that guessing is bounded but nobody can lock someone else out.

Three counters, each reserved atomically in the :class:`~guardian.ports.OtpLedger` *before*
the password is checked (so 32 concurrent guesses count as 32 and at most the limit are
checked):

- one person from one source address — a hard, doubling lock: the guesser meets it;
- one source address, every person — a hard lock against credential stuffing;
- one person from every source — only a growing delay before the check, never a refusal, so
  failures made from elsewhere never stop the right password and factor from a clean source.

A success forgets the person's counters and takes back its own attempt on the source's.
Unknown user ids are never used verbatim: :meth:`SignInAttempts.subject` turns them into a
keyed digest (``unknown:<16 hex>``), for these counters and for the audit trail alike, so a
password typed into the user field is not kept anywhere; counters are purged once quiet.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from guardian.errors import AccountLocked
from guardian.identity.lockout import SignInLimits
from guardian.ports import Directory, OtpLedger

UNKNOWN_PREFIX = "unknown:"
_SOURCE_MAX = 64
LOCKED = "too many failed attempts; try again later"
"""The same words whichever counter locked: the caller learns nothing about which."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One reserved attempt: the keys it was counted under."""

    subject: str
    """The user id, or its keyed digest for someone the directory does not know."""
    user_source: str
    source: str
    user: str


class SignInAttempts:
    def __init__(
        self, ledger: OtpLedger, directory: Directory, limits: SignInLimits, digest_key: bytes
    ) -> None:
        if len(digest_key) < 16:
            raise ValueError("the unknown-user digest key must be at least 16 bytes")
        self._ledger = ledger
        self._directory = directory
        self._limits = limits
        self._key = digest_key

    def subject(self, uid: str) -> str:
        """``uid`` if the directory knows it, else ``unknown:`` and a keyed digest of it."""
        if self._directory.get(uid) is not None:
            return uid
        mac = hmac.new(self._key, uid.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return UNKNOWN_PREFIX + mac.hexdigest()[:16]

    def delay_s(self, uid: str, at: float) -> float:
        """How long to wait before checking a sign-in of ``uid`` (failures from every source)."""
        key = _user_key(self.subject(uid))
        return self._limits.user_delay_s(self._ledger.attempts(key, at, self._limits.per_user))

    def reserve(self, uid: str, source: str, at: float) -> Attempt:
        """Count one attempt of ``uid`` from ``source``, or raise :class:`AccountLocked`."""
        subject = self.subject(uid)
        source = _source(source)
        attempt = Attempt(subject, f"user:{subject}|src:{source}", f"src:{source}",
                          _user_key(subject))
        limits = self._limits
        self._ledger.purge_attempts(at - limits.per_user_source.forget_after_s)
        if self._ledger.reserve_attempt(attempt.source, at, limits.per_source) is None:
            raise AccountLocked(LOCKED)
        if self._ledger.reserve_attempt(attempt.user_source, at, limits.per_user_source) is None:
            self._ledger.refund_attempt(attempt.source)
            raise AccountLocked(LOCKED)
        self._ledger.reserve_attempt(attempt.user, at, limits.per_user)
        return attempt

    def succeeded(self, attempt: Attempt) -> None:
        self._ledger.release_attempts(attempt.user_source)
        self._ledger.release_attempts(attempt.user)
        self._ledger.refund_attempt(attempt.source)


def _user_key(subject: str) -> str:
    return f"user:{subject}"


def _source(source: str) -> str:
    """Source addresses as keys: bounded, and never empty."""
    source = source.strip() or "unknown"
    if len(source) <= _SOURCE_MAX:
        return source
    return "h:" + hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:32]



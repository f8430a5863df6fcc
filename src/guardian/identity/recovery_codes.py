"""One-time recovery codes: ten per TOTP enrolment, 80 random bits each, stored as keyed digests.

A code stands in for the authenticator once. Only ``HMAC-SHA256(key, normalised code)`` is
stored, so a copy of the database alone neither reveals nor lets anyone test a code, and the
store looks a code up by that digest — its timing tells nothing about the codes it holds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

COUNT = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed by hand
_LENGTH = 16  # 16 characters of a 31-letter alphabet: over 79 bits
_GROUP = 4


def generate(count: int = COUNT) -> tuple[str, ...]:
    """``count`` distinct fresh codes, formatted ``abcd-efgh-jkmn-pqrs``."""
    codes: set[str] = set()
    while len(codes) < count:
        raw = "".join(secrets.choice(ALPHABET) for _ in range(_LENGTH))
        codes.add("-".join(raw[i:i + _GROUP] for i in range(0, _LENGTH, _GROUP)))
    return tuple(sorted(codes))


def normalise(code: str) -> str:
    """Case, spaces and dashes do not matter when a code is typed back."""
    return "".join(ch for ch in code.lower() if ch not in "- \t")


def digest(key: bytes, code: str) -> str:
    return hmac.new(key, normalise(code).encode("utf-8"), hashlib.sha256).hexdigest()

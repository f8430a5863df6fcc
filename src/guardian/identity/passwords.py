"""Password hashing with scrypt (standard library), in a self-describing encoded form.

``scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>``; verification is constant-time and always
does the full work, even for an unknown user (:data:`DUMMY_HASH`), so timing does not tell
whether an account exists.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

_LOG2_N = 14
_R = 8
_P = 1
_LEN = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=2**_LOG2_N, r=_R, p=_P, dklen=_LEN,
        maxmem=64 * 1024 * 1024,
    )
    return f"scrypt${_LOG2_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, log2_n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt" or not 10 <= int(log2_n) <= 20:
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"), salt=_unb64(salt), n=2 ** int(log2_n), r=int(r),
            p=int(p), dklen=len(expected), maxmem=128 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


DUMMY_HASH = hash_password("guardian-dummy-password", salt=b"\x00" * 16)
"""Verified against when the user is unknown, so both paths cost the same."""

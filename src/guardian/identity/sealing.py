"""Sealing secrets at rest (TOTP seeds): AES-256-GCM under a key derived from settings.

Sealed text looks like ``v1:<base64 nonce+ciphertext>``; the user id is bound in as associated
data, so a seed copied onto another account does not open.
"""

from __future__ import annotations

import base64
import os
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from guardian.errors import ConfigurationError


class KeyPurpose(StrEnum):
    """Every key derived from the configured secret, one per use; a sealed value opens only
    under the purpose it was sealed for, so each purpose is spelled once, here."""

    TOTP_SEEDS = "totp-seeds"
    SESSION_TOKENS = "session-tokens"
    RECOVERY_CODES = "recovery-codes"
    DIRECTORY_SNAPSHOT = "directory-snapshot"
    AUDIT_CHECKPOINTS = "audit-checkpoints"
    UNKNOWN_USERS = "unknown-users"
    MFA_INVITATIONS = "mfa-invitations"
    WEBAUTHN_DECOYS = "webauthn-decoys"


def derive_key(master: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, so one master secret never serves two uses directly."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"guardian", info=purpose.encode()
    ).derive(master.encode("utf-8"))


class Sealer:
    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return "v1:" + base64.b64encode(nonce + ct).decode("ascii")

    def open(self, sealed: str, context: str) -> str:
        if not sealed.startswith("v1:"):
            raise ConfigurationError("sealed secret has an unknown format")
        try:
            raw = base64.b64decode(sealed[3:], validate=True)
            plain = self._aead.decrypt(raw[:12], raw[12:], context.encode("utf-8"))
        except (ValueError, InvalidTag) as exc:
            raise ConfigurationError(
                "a sealed secret does not open with the configured secret key"
            ) from exc
        return plain.decode("utf-8")

"""The audit signing key at rest: a PEM file (mode 0600) or a value sealed with the secret key.

``GUARDIAN_AUDIT_SIGNING_KEY`` holds either a path to an unencrypted PKCS#8 PEM file, or a
sealed value (``v1:…``, AES-GCM under a key derived from ``GUARDIAN_SECRET_KEY``) that opens to
the raw Ed25519 private key. Unset, the key is derived from the secret key, but only for the
demo (``allow_derived``): outside it the signing key must be its own key, or anyone holding the
server's secret key could re-sign a rewritten trail. Nothing here logs or returns the key in
clear.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from guardian.audit.checkpoints import CheckpointSigner, parse_trust
from guardian.errors import ConfigurationError
from guardian.identity.sealing import KeyPurpose, Sealer, derive_key

SEAL_CONTEXT = "audit-signing-key"


def _sealer(secret_key: str) -> Sealer:
    return Sealer(derive_key(secret_key, SEAL_CONTEXT))


def load_signer(
    configured: str | None, secret_key: str, *, allow_derived: bool = True
) -> CheckpointSigner:
    """The checkpoint signer from the setting's value (path or sealed), or derived (demo)."""
    if not configured:
        if not allow_derived:
            raise ConfigurationError(
                "GUARDIAN_AUDIT_SIGNING_KEY must be set outside demo mode: run `guardian keys "
                "init` and set it to the file (or sealed value) it prints; the signing key is "
                "never derived from GUARDIAN_SECRET_KEY there")
        seed = derive_key(secret_key, KeyPurpose.AUDIT_CHECKPOINTS)
        return CheckpointSigner(Ed25519PrivateKey.from_private_bytes(seed), "derived")
    if configured.startswith("v1:"):
        raw = _sealer(secret_key).open(configured, SEAL_CONTEXT)
        try:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw, validate=True))
        except (ValueError, binascii.Error) as exc:
            raise ConfigurationError("the sealed audit signing key is not an Ed25519 key") \
                from exc
        return CheckpointSigner(key, "sealed")
    path = Path(configured)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"GUARDIAN_AUDIT_SIGNING_KEY: cannot read {path}: {exc.strerror}") from exc
    try:
        loaded = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{path} is not an unencrypted PEM private key") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ConfigurationError(f"{path} is not an Ed25519 key")
    return CheckpointSigner(loaded, "file")


def write_new_key(path: Path) -> CheckpointSigner:
    """Generate a key into a new file readable by its owner only; never overwrite one."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise ConfigurationError(f"{path} already exists; not overwriting a signing key") \
            from exc
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    return CheckpointSigner(key, "file")


def new_sealed_key(secret_key: str) -> tuple[str, CheckpointSigner]:
    """A new key sealed with the secret key (to put in GUARDIAN_AUDIT_SIGNING_KEY), and it."""
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    sealed = _sealer(secret_key).seal(base64.b64encode(raw).decode("ascii"), SEAL_CONTEXT)
    return sealed, CheckpointSigner(key, "sealed")


def read_trust_files(paths: list[Path]) -> list[Ed25519PublicKey]:
    """The pinned public keys of the auditors' trust files (``guardian audit verify --trust``)."""
    out: list[Ed25519PublicKey] = []
    for path in paths:
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not ASCII text"
            raise ConfigurationError(f"cannot read trust file {path}: {why}") from exc
        out += parse_trust(text, f"trust file {path}")
    return out

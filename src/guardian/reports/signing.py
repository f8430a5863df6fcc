"""Sealing a report: its SHA-256 over canonical JSON and an Ed25519 signature with the audit key.

The hashed bytes are the report's JSON without ``sha256``, ``signature`` and ``key_id``, with
sorted keys and no spaces (orjson ``OPT_SORT_KEYS``). The signature is over
``guardian-report:v1:<sha256>`` (:func:`guardian.audit.checkpoints.report_message`). Anyone
holding the audit public key can check a downloaded JSON report with :func:`verify_report`
(``guardian report verify FILE``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any, Protocol

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from guardian.audit.checkpoints import key_id, report_message

SEAL_FIELDS = ("sha256", "signature", "key_id")


class ReportSigner(Protocol):
    """The audit signing key, as :class:`~guardian.audit.checkpoints.CheckpointSigner` holds it."""

    key_id: str

    def sign_report(self, sha256: str) -> str: ...


def canonical(report: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in report.items() if k not in SEAL_FIELDS}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def digest(report: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(report)).hexdigest()


def seal(report: Mapping[str, Any], signer: ReportSigner) -> dict[str, Any]:
    """The report with its ``sha256``, ``signature`` and ``key_id``."""
    sha = digest(report)
    return {**report, "sha256": sha, "signature": signer.sign_report(sha),
            "key_id": signer.key_id}


def verify_report(report: Mapping[str, Any], public_key: Ed25519PublicKey) -> str | None:
    """``None`` when the report is whole and signed by ``public_key``; else what is wrong."""
    sha = digest(report)
    if report.get("sha256") != sha:
        return f"the SHA-256 does not match the content (computed {sha})"
    if report.get("key_id") not in (None, key_id(public_key)):
        return f"signed with key {str(report.get('key_id'))[:16]!r}, not the key given"
    try:
        signature = base64.b64decode(str(report.get("signature", "")), validate=True)
        public_key.verify(signature, report_message(sha))
    except (InvalidSignature, binascii.Error, ValueError):
        return "the signature does not verify with the key given"
    return None

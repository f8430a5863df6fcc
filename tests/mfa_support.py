"""Test helpers for second factors: a software WebAuthn authenticator (EC P-256, ``none``
attestation, built by hand with cbor2 and cryptography) and a demo organisation with one more
person, otto, who has a password but no second factor yet."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from pathlib import Path
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from guardian.identity.passwords import hash_password
from support import ROOT

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


class SoftAuthenticator:
    """A security key in software: answers registration and assertion options as a browser
    with a FIDO2 key would, for the origin it is told it is on."""

    def __init__(self, origin: str = "http://localhost:8000") -> None:
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge,
                           "origin": origin or self.origin, "crossOrigin": False}).encode()

    def register(self, options: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        auth_data = (hashlib.sha256(options["rp"]["id"].encode()).digest()
                     + bytes([UP | UV | AT]) + struct.pack(">I", self.sign_count)
                     + b"\0" * 16 + struct.pack(">H", len(self.credential_id))
                     + self.credential_id + self._cose_key())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
                "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data),
                             "attestationObject": b64url(attestation)}}

    def assertion(
        self, options: dict[str, Any], *, origin: str | None = None,
        sign_count: int | None = None,
    ) -> dict[str, Any]:
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = (hashlib.sha256(options["rpId"].encode()).digest() + bytes([UP | UV])
                     + struct.pack(">I", self.sign_count))
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
                "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data),
                             "authenticatorData": b64url(auth_data),
                             "signature": b64url(signature)}}


def directory_with_newcomer(tmp_path: Path) -> Path:
    """The demo directory plus otto (password ``otto-demo-pass``, no TOTP seed) and olga, a
    security officer just as new (``olga-demo-pass``, no seed)."""
    target = tmp_path / "directory.yaml"
    demo = (ROOT / "policies/demo/directory.yaml").read_text()
    newcomers = "".join(
        f"\n- uid: {uid}\n  name: {name}\n  roles:\n  - {role}\n  type: employee\n"
        f"  active: true\n  password_hash: {hash_password(uid + '-demo-pass')}"
        for uid, name, role in (("otto", "Otto Newman", "customer-care"),
                                ("olga", "Olga Fresh", "security-officer")))
    target.write_text(demo.rstrip("\n") + newcomers + "\n")
    return target

"""WebAuthn (security keys, passkeys) as a phishing-resistant second factor, with py_webauthn.

The relying party id and origin come from settings: a browser signs the origin it is on, so an
assertion made for a look-alike site does not verify here. Challenges are kept in the store,
one outstanding per person and ceremony, and removed when answered (or past their lifetime), so
each serves once whichever worker receives the answer. A signature counter that does not move
forward is refused (a cloned key), and the counter advances with a compare-and-set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    UserVerificationRequirement,
)

from guardian.errors import InvalidWebAuthn
from guardian.identity.security_keys import WebAuthnCredential
from guardian.ports import SecurityKeyStore

REGISTER = "register"
AUTHENTICATE = "authenticate"
_BAD_INPUT = (WebAuthnException, ValueError, KeyError, TypeError, AttributeError)
"""What py_webauthn raises on a malformed or forged response: a refusal, never a crash."""


class WebAuthnRelyingParty:
    """Implements :class:`~guardian.ports.WebAuthnCeremonies` on a ``SecurityKeyStore``."""

    def __init__(
        self, store: SecurityKeyStore, *, rp_id: str, rp_name: str, origin: str,
        challenge_ttl_s: float = 300.0,
    ) -> None:
        self._store = store
        self.rp_id = rp_id
        self.rp_name = rp_name
        self.origin = origin
        self._ttl_s = challenge_ttl_s

    def has_credentials(self, uid: str) -> bool:
        return bool(self._store.credentials(uid))

    def registration_options(self, uid: str, display_name: str, at: float) -> dict[str, Any]:
        options = generate_registration_options(
            rp_id=self.rp_id, rp_name=self.rp_name, user_name=uid,
            user_id=hashlib.sha256(f"guardian-user:{uid}".encode()).digest()[:32],
            user_display_name=display_name,
            attestation=AttestationConveyancePreference.NONE,
            authenticator_selection=AuthenticatorSelectionCriteria(
                user_verification=UserVerificationRequirement.PREFERRED),
            exclude_credentials=self._descriptors(uid),
        )
        self._store.put_challenge(uid, REGISTER, bytes_to_base64url(options.challenge),
                                  at + self._ttl_s)
        return _as_dict(options_to_json(options))

    def register(self, uid: str, credential: Mapping[str, Any], at: float) -> str:
        challenge = self._store.take_challenge(uid, REGISTER, at)
        if challenge is None:
            raise InvalidWebAuthn("no security key registration is waiting (or it expired)")
        try:
            verified = verify_registration_response(
                credential=dict(credential), expected_challenge=base64url_to_bytes(challenge),
                expected_rp_id=self.rp_id, expected_origin=self.origin)
        except _BAD_INPUT as exc:
            raise InvalidWebAuthn(f"security key registration refused: {exc}") from exc
        credential_id = bytes_to_base64url(verified.credential_id)
        added = self._store.add_credential(WebAuthnCredential(
            credential_id=credential_id, uid=uid,
            public_key=bytes_to_base64url(verified.credential_public_key),
            sign_count=verified.sign_count, created_at=at))
        if not added:
            raise InvalidWebAuthn("this security key is already registered")
        return credential_id

    def authentication_options(self, subject: str, decoys: Sequence[bytes],
                               at: float) -> dict[str, Any]:
        allowed = self._descriptors(subject) or [
            PublicKeyCredentialDescriptor(id=d) for d in decoys]
        options = generate_authentication_options(
            rp_id=self.rp_id, allow_credentials=allowed,
            user_verification=UserVerificationRequirement.PREFERRED)
        self._store.put_challenge(subject, AUTHENTICATE, bytes_to_base64url(options.challenge),
                                  at + self._ttl_s)
        return _as_dict(options_to_json(options))

    def authenticate(self, uid: str, credential: Mapping[str, Any], at: float) -> bool:
        challenge = self._store.take_challenge(uid, AUTHENTICATE, at)
        credential_id = credential.get("id")
        if challenge is None or not isinstance(credential_id, str):
            return False
        known = self._store.credential(credential_id)
        if known is None or known.uid != uid:
            return False
        try:
            verified = verify_authentication_response(
                credential=dict(credential), expected_challenge=base64url_to_bytes(challenge),
                expected_rp_id=self.rp_id, expected_origin=self.origin,
                credential_public_key=base64url_to_bytes(known.public_key),
                credential_current_sign_count=known.sign_count)
        except _BAD_INPUT:
            return False
        return self._store.advance_sign_count(
            credential_id, known.sign_count, verified.new_sign_count, at)

    def _descriptors(self, uid: str) -> list[PublicKeyCredentialDescriptor]:
        return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(c.credential_id))
                for c in self._store.credentials(uid)]


def _as_dict(options_json: str) -> dict[str, Any]:
    parsed: dict[str, Any] = orjson.loads(options_json)
    return parsed

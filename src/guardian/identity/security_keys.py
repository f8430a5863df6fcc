"""A registered WebAuthn security key, as the relying party keeps it between ceremonies.

The record lives here, with the identity domain, so that the relying party (an adapter of the
``webauthn`` library) and the store that keeps its keys (an SQL adapter) meet at the
:class:`~guardian.ports.SecurityKeyStore` port instead of importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WebAuthnCredential:
    credential_id: str
    """base64url, as the browser reports it."""
    uid: str
    public_key: str
    """The COSE public key, base64url."""
    sign_count: int
    created_at: float
    last_used_at: float | None = None

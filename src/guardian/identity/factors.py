"""Which second factors a person has: TOTP seeds from several sources, and security keys.

Seeds enrolled in the store come first; the directory's (the demo organisation's file) only for
people with none there, so an enrolment replaces a seed handed out with the demo directory.
"""

from __future__ import annotations

from guardian.ports import MfaSecrets, WebAuthnCeremonies


class LayeredMfaSecrets:
    """An ``MfaSecrets`` asking each source in turn; the first seed found wins."""

    def __init__(self, *sources: MfaSecrets) -> None:
        self._sources = sources

    def totp_secret(self, uid: str) -> str | None:
        for source in self._sources:
            secret = source.totp_secret(uid)
            if secret is not None:
                return secret
        return None


def has_second_factor(
    secrets: MfaSecrets, webauthn: WebAuthnCeremonies | None, uid: str
) -> bool:
    """Whether ``uid`` has an active TOTP seed or a registered security key."""
    if secrets.totp_secret(uid) is not None:
        return True
    return webauthn is not None and webauthn.has_credentials(uid)

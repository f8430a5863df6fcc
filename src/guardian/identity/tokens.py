"""Signed, expiring session tokens carrying who signed in, when, and with which factors.

Format: ``v1.<base64url JSON claims>.<base64url HMAC-SHA256>``, unpadded; only that exact
spelling verifies (no ``=``, no spare bits), so one session has one token. The key is derived
from the configured secret (see :func:`guardian.identity.sealing.derive_key`). Tokens are
stateless so any replica verifies them; the signature comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import orjson

from guardian.errors import InvalidToken
from guardian.identity.vocabulary import AuthMethod


@dataclass(frozen=True, slots=True)
class SessionClaims:
    sub: str
    sid: str
    auth_time: float
    """When the last factor was checked (sign-in or step-up)."""
    amr: tuple[AuthMethod, ...]
    iat: float
    exp: float

    @property
    def multi_factor(self) -> bool:
        return any(m is not AuthMethod.PASSWORD for m in self.amr)


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _b64d(text: str) -> bytes:
    """Decode unpadded base64url, refusing every spelling but the one :func:`_b64e` writes
    (padding, characters outside the alphabet, spare bits set in the last character), so a
    token has exactly one accepted form."""
    if len(text) % 4 == 1 or not _B64URL.issuperset(text):
        raise ValueError("not canonical base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64e(data) != text:
        raise ValueError("not canonical base64url")
    return data


_CACHE_SIZE = 65_536


class TokenSigner:
    """Issues and verifies tokens; remembers tokens it already verified (the same string is the
    same signature), so the decision path pays the HMAC once per session, not per decision."""

    __slots__ = ("_key", "_verified")

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("token key must be at least 32 bytes")
        self._key = key
        self._verified: dict[str, SessionClaims] = {}

    def issue(
        self, sub: str, amr: tuple[AuthMethod, ...], auth_time: float, now: float, ttl_s: float
    ) -> tuple[str, SessionClaims]:
        claims = SessionClaims(
            sub=sub, sid=secrets.token_urlsafe(12), auth_time=auth_time, amr=amr, iat=now,
            exp=now + ttl_s,
        )
        payload = _b64e(orjson.dumps({
            "sub": claims.sub, "sid": claims.sid, "auth_time": claims.auth_time,
            "amr": [m.value for m in amr], "iat": claims.iat, "exp": claims.exp,
        }))
        body = "v1." + payload
        return body + "." + _b64e(self._mac(body)), claims

    def verify(self, token: str, now: float) -> SessionClaims:
        """Return the claims of a genuine, unexpired token, else raise :class:`InvalidToken`."""
        known = self._verified.get(token)
        if known is not None:
            if now >= known.exp:
                raise InvalidToken("session token has expired")
            return known
        claims = self._verify_signature(token)
        if now >= claims.exp:
            raise InvalidToken("session token has expired")
        if len(self._verified) >= _CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = claims
        return claims

    def _verify_signature(self, token: str) -> SessionClaims:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != "v1" or len(token) > 4096 or not token.isascii():
            raise InvalidToken("malformed session token")
        body = parts[0] + "." + parts[1]
        try:
            mac = _b64d(parts[2])
            _b64d(parts[1])
        except ValueError as exc:
            raise InvalidToken("malformed session token") from exc
        if not hmac.compare_digest(mac, self._mac(body)):
            raise InvalidToken("session token signature is invalid")
        try:
            raw = orjson.loads(_b64d(parts[1]))
            claims = SessionClaims(
                sub=str(raw["sub"]), sid=str(raw["sid"]), auth_time=float(raw["auth_time"]),
                amr=tuple(AuthMethod(m) for m in raw["amr"]), iat=float(raw["iat"]),
                exp=float(raw["exp"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidToken("malformed session token") from exc
        return claims

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()

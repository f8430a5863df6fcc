"""The demo people's public TOTP seeds (base32 of ``guardian-demo-<uid>``, unpadded, as
DESIGN.md says) and the code their authenticator shows at a moment, with its seconds left;
the codes are RFC 6238's, so the login accepts them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

import pytest

from guardian.identity.demo_codes import demo_code, demo_seed
from guardian.identity.totp import matching_timestep


def _rfc6238(seed: str, at: float) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits) written out, independent of pyotp."""
    key = base64.b32decode(seed + "=" * (-len(seed) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def test_the_seed_is_the_unpadded_base32_of_the_public_text() -> None:
    assert demo_seed("alice") == "M52WC4TENFQW4LLEMVWW6LLBNRUWGZI"
    for uid in ("alice", "bob", "a", "officer-1"):
        seed = demo_seed(uid)
        assert "=" not in seed
        assert base64.b32decode(seed + "=" * (-len(seed) % 8)) == f"guardian-demo-{uid}".encode()


def test_people_have_different_seeds() -> None:
    assert demo_seed("alice") != demo_seed("bob")


@pytest.mark.parametrize("at", [59.9, 60.0, 1_790_000_000.0, 1_790_000_029.5])
def test_the_code_is_the_rfc6238_code_the_login_accepts(at: float) -> None:
    code, _left = demo_code("alice", at)

    assert code == _rfc6238(demo_seed("alice"), at)
    assert matching_timestep(demo_seed("alice"), code, at) == int(at // 30)


@pytest.mark.parametrize(("at", "left"), [(60.0, 30), (60.9, 30), (75.0, 15), (89.9, 1)])
def test_the_seconds_left_count_down_to_the_next_step(at: float, left: int) -> None:
    assert demo_code("bob", at)[1] == left


def test_the_code_changes_with_the_step() -> None:
    assert demo_code("alice", 59.9)[0] != demo_code("alice", 60.0)[0]
    assert demo_code("alice", 60.0)[0] == demo_code("alice", 89.9)[0]

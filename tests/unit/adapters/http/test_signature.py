"""The body signature every sender puts on its POSTs: ``sha256=`` and the HMAC-SHA256 hex of the
exact body bytes under the shared secret, the same for a str or bytes secret; any change to the
body or the secret changes it."""

from __future__ import annotations

import re

from guardian.adapters.http.signature import SIGNATURE_HEADER, body_signature

# RFC 4231, test case 2: HMAC-SHA256 of "what do ya want for nothing?" under the key "Jefe"
RFC4231_KEY, RFC4231_DATA = "Jefe", b"what do ya want for nothing?"
RFC4231_MAC = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"

SECRET = "a-webhook-secret-of-32-bytes-...."
BODY = b'{"event":"report.produced","n":1}'


def test_a_known_key_and_body_give_the_known_signature() -> None:
    assert body_signature(RFC4231_KEY, RFC4231_DATA) == "sha256=" + RFC4231_MAC


def test_a_str_secret_signs_as_its_utf8_bytes() -> None:
    assert body_signature("clé", BODY) == body_signature("clé".encode(), BODY)
    assert body_signature(SECRET, BODY) == body_signature(SECRET.encode(), BODY)


def test_the_value_is_sha256_and_64_lowercase_hex_digits() -> None:
    assert re.fullmatch(r"sha256=[0-9a-f]{64}", body_signature(SECRET, BODY))
    assert SIGNATURE_HEADER == "X-Guardian-Signature"


def test_any_change_to_the_body_changes_the_signature() -> None:
    signed = body_signature(SECRET, BODY)
    for changed in (BODY + b" ", BODY.replace(b"1", b"2"), b"", BODY[:-1]):
        assert body_signature(SECRET, changed) != signed


def test_any_change_to_the_secret_changes_the_signature() -> None:
    signed = body_signature(SECRET, BODY)
    for other in (SECRET + "x", SECRET[:-1], SECRET.upper(), ""):
        assert body_signature(other, BODY) != signed


def test_the_secret_does_not_appear_in_the_signature() -> None:
    assert SECRET not in body_signature(SECRET, SECRET.encode())

"""Session tokens: genuine and unexpired verify; anything else is an InvalidToken, never a crash."""

from __future__ import annotations

import base64
import hashlib
import hmac

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardian.errors import InvalidToken
from guardian.identity.tokens import TokenSigner
from guardian.identity.vocabulary import AuthMethod

KEY = b"s" * 32
NOW = 1_790_000_000.0
SIGNER = TokenSigner(KEY)
PWD_OTP = (AuthMethod.PASSWORD, AuthMethod.OTP)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _signed(payload: bytes, key: bytes = KEY) -> str:
    """A token whose signature is genuine but whose payload is whatever the test says."""
    body = "v1." + _b64(payload)
    return body + "." + _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def test_an_issued_token_verifies_to_the_same_claims() -> None:
    token, claims = SIGNER.issue("alice", PWD_OTP, auth_time=NOW - 5, now=NOW, ttl_s=60)

    verified = SIGNER.verify(token, NOW + 1)

    assert verified == claims
    assert (verified.sub, verified.auth_time, verified.iat, verified.exp) == (
        "alice", NOW - 5, NOW, NOW + 60)
    assert verified.amr == PWD_OTP


def test_each_issued_token_gets_its_own_session_id() -> None:
    _, first = SIGNER.issue("alice", PWD_OTP, auth_time=NOW, now=NOW, ttl_s=60)
    _, second = SIGNER.issue("alice", PWD_OTP, auth_time=NOW, now=NOW, ttl_s=60)

    assert first.sid != second.sid


def test_a_password_only_session_is_not_multi_factor() -> None:
    token, _ = SIGNER.issue("alice", (AuthMethod.PASSWORD,), auth_time=NOW, now=NOW, ttl_s=60)

    assert not SIGNER.verify(token, NOW).multi_factor


def test_a_token_expires_at_its_exp() -> None:
    token, _ = SIGNER.issue("alice", PWD_OTP, auth_time=NOW, now=NOW, ttl_s=60)

    assert SIGNER.verify(token, NOW + 59.9).sub == "alice"
    with pytest.raises(InvalidToken, match="expired"):
        SIGNER.verify(token, NOW + 60)


def test_a_payload_swapped_under_a_genuine_signature_is_refused() -> None:
    token, _ = SIGNER.issue("mallory", PWD_OTP, auth_time=NOW, now=NOW, ttl_s=60)
    version, payload, signature = token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "alice"

    with pytest.raises(InvalidToken, match="signature"):
        SIGNER.verify(".".join((version, _b64(orjson.dumps(claims)), signature)), NOW)


def test_a_tampered_signature_is_refused() -> None:
    token, _ = SIGNER.issue("alice", PWD_OTP, auth_time=NOW, now=NOW, ttl_s=60)
    body, signature = token.rsplit(".", 1)
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]

    with pytest.raises(InvalidToken):
        SIGNER.verify(body + "." + flipped, NOW)


def test_a_token_signed_with_another_key_is_refused() -> None:
    token, _ = TokenSigner(b"o" * 32).issue("alice", PWD_OTP, auth_time=NOW, now=NOW, ttl_s=60)

    with pytest.raises(InvalidToken):
        SIGNER.verify(token, NOW)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        TokenSigner(b"short")


@pytest.mark.parametrize(
    "token",
    ["", ".", "..", "v1", "v1.", "v1..", "v1.a", "v2.e30.AAAA", "v1.e30.AAAA.AAAA",
     "v1.!!!!.####", "v1.e30.A", "v1.é.AAAA", "v1.e30.é", "\x00.\x00.\x00",
     "v1." + "A" * 5000 + ".AAAA", "Bearer v1.e30.AAAA"],
)
def test_a_malformed_token_is_an_invalid_token(token: str) -> None:
    with pytest.raises(InvalidToken):
        SIGNER.verify(token, NOW)


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[]", b"42", b"null", b"{}", b'{"sub": "alice"}',
     b'{"sub":"a","sid":"s","auth_time":1,"amr":["sms"],"iat":1,"exp":9e99}',
     b'{"sub":"a","sid":"s","auth_time":"soon","amr":[],"iat":1,"exp":9e99}',
     b'{"sub":"a","sid":"s","auth_time":1,"amr":"pwd","iat":1,"exp":9e99}',
     b'{"sub":"a","sid":"s","auth_time":1,"amr":[],"iat":1,"exp":null}'],
)
def test_a_genuinely_signed_token_with_bad_claims_is_an_invalid_token(payload: bytes) -> None:
    with pytest.raises(InvalidToken, match="malformed"):
        SIGNER.verify(_signed(payload), NOW)


def test_the_signed_payload_helper_makes_tokens_the_signer_accepts() -> None:
    claims = {"sub": "a", "sid": "s", "auth_time": 1, "amr": ["pwd"], "iat": 1, "exp": NOW + 1}

    assert SIGNER.verify(_signed(orjson.dumps(claims)), NOW).sub == "a"


@given(st.text(max_size=200))
def test_any_string_is_refused_with_invalid_token_only(token: str) -> None:
    with pytest.raises(InvalidToken):
        SIGNER.verify(token, NOW)


@given(st.text(max_size=80), st.text(max_size=80))
def test_any_v1_shaped_string_is_refused_with_invalid_token_only(payload: str, mac: str) -> None:
    with pytest.raises(InvalidToken):
        SIGNER.verify(f"v1.{payload}.{mac}", NOW)


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _issued() -> str:
    token, _ = TokenSigner(KEY).issue("alice", (AuthMethod.PASSWORD, AuthMethod.OTP), NOW, NOW,
                                      3600)
    return token


def test_a_padded_signature_or_one_with_spare_bits_set_is_refused() -> None:
    # Finding 9: "<token>=" and a last character differing only in its unused bits verified.
    token = _issued()
    body, _, mac = token.rpartition(".")
    last = _ALPHABET.index(mac[-1])
    spare = _ALPHABET[last ^ 0b11]  # 32 bytes → 43 characters: the last one carries 4 bits
    assert base64.urlsafe_b64decode(mac[:-1] + spare + "=") == \
        base64.urlsafe_b64decode(mac + "=")

    for variant in (token + "=", token + "==", f"{body}.{mac[:-1]}{spare}",
                    f"{body}.{mac}\n", f"{body}.{mac[:20]}!{mac[20:]}"):
        with pytest.raises(InvalidToken):
            TokenSigner(KEY).verify(variant, NOW)
    assert TokenSigner(KEY).verify(token, NOW).sub == "alice"


def test_no_other_last_character_or_padding_of_any_part_verifies() -> None:
    token = _issued()
    signer = TokenSigner(KEY)
    variants = {token + pad for pad in ("=", "==", "===", ".", "\n", " ")}
    parts = token.split(".")
    for index in (1, 2):
        for char in _ALPHABET:
            changed = list(parts)
            changed[index] = changed[index][:-1] + char
            variants.add(".".join(changed))
            changed[index] = parts[index] + "="
            variants.add(".".join(changed))
    variants.discard(token)

    accepted = []
    for variant in variants:
        try:
            signer.verify(variant, NOW)
            accepted.append(variant)
        except InvalidToken:
            pass
    assert accepted == []


@given(st.lists(st.tuples(st.integers(min_value=0),
                          st.sampled_from(["replace", "insert", "delete"]),
                          st.sampled_from([*_ALPHABET, "=", ".", "+", "/", " ", "\n", "é"])),
                min_size=1, max_size=3))
def test_every_mutation_of_a_genuine_token_is_refused(
    edits: list[tuple[int, str, str]],
) -> None:
    token = mutated = _issued()
    for where, how, char in edits:
        i = where % (len(mutated) + 1)
        mutated = {"replace": mutated[:i] + char + mutated[i + 1:],
                   "insert": mutated[:i] + char + mutated[i:],
                   "delete": mutated[:i] + mutated[i + 1:]}[how]
    if mutated == token:
        return
    with pytest.raises(InvalidToken):
        TokenSigner(KEY).verify(mutated, NOW)

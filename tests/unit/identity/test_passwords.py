"""Password hashing: self-describing scrypt; a malformed stored hash is False, never an error."""

from __future__ import annotations

import base64
import hashlib

import pytest

from guardian.identity.passwords import DUMMY_HASH, hash_password, verify_password


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


@pytest.fixture(scope="module")
def encoded() -> str:
    return hash_password("correct horse")


def test_the_right_password_verifies(encoded: str) -> None:
    assert verify_password("correct horse", encoded)


def test_a_wrong_password_does_not_verify(encoded: str) -> None:
    assert not verify_password("correct horsE", encoded)


def test_the_hash_names_its_scheme_and_parameters_and_hides_the_password(encoded: str) -> None:
    scheme, log2_n, r, p, salt, _ = encoded.split("$")

    assert (scheme, log2_n, r, p) == ("scrypt", "14", "8", "1")
    assert len(base64.b64decode(salt + "==")) == 16
    assert "correct" not in encoded


def test_the_same_password_with_the_same_salt_hashes_the_same_and_salts_differ() -> None:
    salt = b"\x01" * 16

    assert hash_password("pw", salt=salt) == hash_password("pw", salt=salt)
    assert hash_password("pw", salt=salt) != hash_password("pw", salt=b"\x02" * 16)


def test_the_parameters_are_read_from_the_stored_hash() -> None:
    # A hash made with cheaper parameters (log2 n = 10) still verifies with its own parameters.
    salt = b"salt-salt-salt!!"
    digest = hashlib.scrypt(b"pw", salt=salt, n=2**10, r=8, p=1, dklen=32)
    encoded = f"scrypt$10$8$1${_b64(salt)}${_b64(digest)}"

    assert verify_password("pw", encoded)
    assert not verify_password("pW", encoded)


def test_the_dummy_hash_is_a_well_formed_scrypt_hash() -> None:
    assert DUMMY_HASH.startswith("scrypt$14$8$1$")
    assert len(DUMMY_HASH.split("$")) == 6


@pytest.mark.parametrize(
    "encoded",
    ["", "plain-text-password", "scrypt", "scrypt$14$8$1$AAAA", "scrypt$14$8$1$AA$AA$AA",
     "bcrypt$14$8$1$AAAA$AAAA", "scrypt$x$8$1$AAAA$AAAA", "scrypt$9$8$1$AAAA$AAAA",
     "scrypt$21$8$1$AAAA$AAAA", "scrypt$14$0$1$AAAA$AAAA", "scrypt$14$-1$1$AAAA$AAAA",
     "scrypt$14$8$0$AAAA$AAAA", f"scrypt$14${2**70}$1$AAAA$AAAA",
     f"scrypt$14$8${2**64}$AAAA$AAAA", "scrypt$14$8$1$AAAA$", "scrypt$14$8$1$é$AAAA",
     "scrypt$14$8$1$AAAA$A", "scrypt$20$8$1$AAAA$AAAA"],
)
def test_a_malformed_stored_hash_is_false_not_an_error(encoded: str) -> None:
    assert verify_password("anything", encoded) is False

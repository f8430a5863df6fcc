"""Sealing secrets at rest: round trip, bound to a context and a key, and refusing anything else."""

from __future__ import annotations

import base64

import pytest

from guardian.errors import ConfigurationError
from guardian.identity.sealing import Sealer, derive_key

SEALER = Sealer(derive_key("master secret", "totp-seeds"))


def test_derived_keys_are_32_bytes_stable_and_distinct_per_purpose_and_master() -> None:
    key = derive_key("master secret", "totp-seeds")

    assert len(key) == 32
    assert key == derive_key("master secret", "totp-seeds")
    assert key != derive_key("master secret", "session-tokens")
    assert key != derive_key("other secret", "totp-seeds")


def test_a_sealed_secret_opens_with_the_same_context() -> None:
    sealed = SEALER.seal("JBSWY3DPEHPK3PXP", "alice")

    assert sealed.startswith("v1:")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert SEALER.open(sealed, "alice") == "JBSWY3DPEHPK3PXP"


def test_sealing_twice_gives_different_text() -> None:
    assert SEALER.seal("seed", "alice") != SEALER.seal("seed", "alice")


def test_a_secret_copied_to_another_context_does_not_open() -> None:
    sealed = SEALER.seal("seed", "alice")

    with pytest.raises(ConfigurationError):
        SEALER.open(sealed, "mallory")


def test_a_secret_sealed_under_another_key_does_not_open() -> None:
    sealed = Sealer(derive_key("another master", "totp-seeds")).seal("seed", "alice")

    with pytest.raises(ConfigurationError):
        SEALER.open(sealed, "alice")


def test_a_tampered_ciphertext_does_not_open() -> None:
    raw = bytearray(base64.b64decode(SEALER.seal("seed", "alice")[3:]))
    raw[-1] ^= 1

    with pytest.raises(ConfigurationError):
        SEALER.open("v1:" + base64.b64encode(bytes(raw)).decode(), "alice")


@pytest.mark.parametrize(
    "sealed",
    ["", "seed", "v2:AAAA", "v1:", "v1:not base64!", "v1:" + base64.b64encode(b"short").decode(),
     "v1:" + base64.b64encode(b"\x00" * 40).decode(), "v1:é"],
)
def test_malformed_sealed_text_is_a_configuration_error(sealed: str) -> None:
    with pytest.raises(ConfigurationError):
        SEALER.open(sealed, "alice")

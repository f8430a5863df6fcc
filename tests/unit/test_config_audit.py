"""Audit trail settings: OpenSearch needs its URLs, names are safe, keys load from a file, a
sealed value or the secret key, and never show."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from guardian.adapters.files.keys import load_signer, new_sealed_key, write_new_key
from guardian.config import DEMO_SECRET_KEY, Settings
from guardian.errors import ConfigurationError
from support import TEST_SECRET_KEY


def test_opensearch_without_urls_is_refused_and_urls_are_split() -> None:
    with pytest.raises(ValidationError, match="GUARDIAN_OPENSEARCH_URLS"):
        Settings(demo=False, secret_key=SecretStr(TEST_SECRET_KEY), audit_index="opensearch")
    settings = Settings(demo=False, secret_key=SecretStr(TEST_SECRET_KEY), audit_index="opensearch",
                        opensearch_urls=" http://127.0.0.1:9251 ,http://127.0.0.1:9252,")
    assert settings.opensearch_url_list == ["http://127.0.0.1:9251", "http://127.0.0.1:9252"]


@pytest.mark.parametrize("prefix", ["Guardian", "-x", "a b", "a*", "x" * 90])
def test_an_index_prefix_that_is_not_a_safe_index_name_is_refused(prefix: str) -> None:
    with pytest.raises(ValidationError):
        Settings(opensearch_index_prefix=prefix)


def test_the_opensearch_password_and_signing_key_never_show() -> None:
    settings = Settings(opensearch_password=SecretStr("hunter2-secret"),
                        audit_signing_key=SecretStr("v1:sealed"))
    assert "hunter2" not in repr(settings) and "v1:sealed" not in repr(settings)


def test_a_key_file_a_sealed_key_and_the_derived_key_all_sign(tmp_path: Path) -> None:
    written = write_new_key(tmp_path / "k.pem")
    sealed, made = new_sealed_key(DEMO_SECRET_KEY)

    from_file = load_signer(str(tmp_path / "k.pem"), DEMO_SECRET_KEY)
    from_seal = load_signer(sealed, DEMO_SECRET_KEY)
    derived = load_signer(None, DEMO_SECRET_KEY)

    assert (from_file.key_id, from_file.source) == (written.key_id, "file")
    assert (from_seal.key_id, from_seal.source) == (made.key_id, "sealed")
    assert derived.source == "derived"
    assert derived.key_id == load_signer(None, DEMO_SECRET_KEY).key_id  # stable
    assert derived.key_id != load_signer(None, "another-secret-key-of-32-chars-or-more").key_id


def test_a_sealed_key_only_opens_with_its_secret_and_a_missing_file_is_named(
    tmp_path: Path,
) -> None:
    sealed, _ = new_sealed_key(DEMO_SECRET_KEY)
    with pytest.raises(ConfigurationError, match="does not open"):
        load_signer(sealed, "another-secret-key-of-32-chars-or-more")
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_signer(str(tmp_path / "missing.pem"), DEMO_SECRET_KEY)
    (tmp_path / "junk.pem").write_text("junk")
    with pytest.raises(ConfigurationError, match="not an unencrypted PEM"):
        load_signer(str(tmp_path / "junk.pem"), DEMO_SECRET_KEY)

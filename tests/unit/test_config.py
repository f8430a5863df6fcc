"""Safe by default: demo mode refuses every real component, a non-demo deployment needs its own
secret key and its own audit signing key, and what the public demo key signs is refused there."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from guardian.api import create_app
from guardian.audit.checkpoints import CheckpointVerifier
from guardian.bootstrap import build, build_checkpoint_signer, session_signer
from guardian.config import DEMO_SECRET_KEY, Settings
from guardian.errors import ConfigurationError
from guardian.identity.vocabulary import AuthMethod
from support import TEST_SECRET_KEY, demo_settings, real_settings


@pytest.mark.parametrize(("values", "named"), [
    ({"directory": "ldap", "ldap_url": "ldap://127.0.0.1:3389", "ldap_base_dn": "dc=x",
      "ldap_bind_dn": "cn=svc,dc=x", "ldap_bind_password": "pw"}, "GUARDIAN_DIRECTORY=ldap"),
    ({"ldap_url": "ldap://127.0.0.1:3389"}, "GUARDIAN_LDAP_URL"),
    ({"database_url": "postgresql+psycopg://guardian@127.0.0.1/guardian"},
     "GUARDIAN_DATABASE_URL"),
    ({"audit_index": "opensearch", "opensearch_urls": "http://127.0.0.1:9200"},
     "GUARDIAN_AUDIT_INDEX=opensearch"),
    ({"opensearch_urls": "http://127.0.0.1:9200"}, "GUARDIAN_OPENSEARCH_URLS"),
    ({"host": "0.0.0.0"}, "GUARDIAN_HOST"),  # noqa: S104 - what is refused
])
def test_demo_mode_refuses_a_real_component_naming_the_setting_and_the_way_out(
    values: dict[str, object], named: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)  # type: ignore[arg-type]
    message = str(caught.value)
    assert named in message and "GUARDIAN_DEMO=false" in message
    assert "GUARDIAN_SECRET_KEY" in message and "GUARDIAN_AUDIT_SIGNING_KEY" in message


def test_demo_mode_keeps_its_embedded_sqlite_store_and_loopback() -> None:
    settings = Settings(database_url="sqlite:///var/other.db", host="::1")
    assert settings.demo and settings.store_url == "sqlite:///var/other.db"


@pytest.mark.parametrize(("secret", "why"), [
    (None, "must be set"), (DEMO_SECRET_KEY, "must be set"), ("short-secret", "32 characters")])
def test_outside_demo_mode_the_secret_key_must_be_set_long_and_not_the_demo_key(
    secret: str | None, why: str
) -> None:
    values: dict[str, object] = {"demo": False}
    if secret is not None:
        values["secret_key"] = secret
    with pytest.raises(ValidationError, match=why):
        Settings(**values)  # type: ignore[arg-type]


def test_outside_demo_mode_the_signing_key_is_never_derived_from_the_secret_key(
    tmp_path: Path,
) -> None:
    settings = real_settings(tmp_path, audit_signing_key=None)
    with pytest.raises(ConfigurationError, match="GUARDIAN_AUDIT_SIGNING_KEY must be set"):
        build_checkpoint_signer(settings)
    with pytest.raises(ConfigurationError, match="guardian keys init"):
        build(settings, prepare=True)
    own = build_checkpoint_signer(real_settings(tmp_path))
    demo = build_checkpoint_signer(demo_settings(tmp_path))
    assert (own.source, demo.source) == ("file", "derived")


def test_a_checkpoint_signed_with_the_demo_key_does_not_verify_for_a_real_deployment(
    tmp_path: Path,
) -> None:
    from guardian.audit.checkpoints import checkpoint_event

    real = build_checkpoint_signer(real_settings(tmp_path))
    forged = checkpoint_event(build_checkpoint_signer(demo_settings(tmp_path)), 41, "ab" * 32,
                              1_790_000_000.0)

    point, why = CheckpointVerifier([real.public_key]).check(forged)

    assert point is None and "not a trusted key" in why


def test_a_hand_made_session_token_with_the_demo_key_is_refused_by_a_real_deployment(
    tmp_path: Path,
) -> None:
    guardian = build(real_settings(tmp_path), prepare=True)
    try:
        now = guardian.clock.now()
        token, _ = session_signer(demo_settings(tmp_path)).issue(
            "ivan", (AuthMethod.PASSWORD, AuthMethod.OTP), now, now, 3600)
        with TestClient(create_app(guardian)) as client:
            listed = client.get("/v1/keys", headers={"Authorization": f"Bearer {token}"})
    finally:
        guardian.close()
    assert listed.status_code == 401, listed.text
    assert listed.json()["error"]["code"] == "invalid_token"
    assert guardian.settings.secret_key.get_secret_value() == TEST_SECRET_KEY

"""Directory settings: the file default, what LDAP needs, and the bounds of sync and age."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from guardian.config import Settings
from support import TEST_SECRET_KEY

LDAP = {"demo": False, "secret_key": TEST_SECRET_KEY, "directory": "ldap", "ldap_url": "ldap://127.0.0.1:3389",
        "ldap_base_dn": "dc=guardian,dc=test", "ldap_bind_dn": "cn=svc,dc=guardian,dc=test",
        "ldap_bind_password": "svc-pass"}


def test_the_default_directory_is_the_file_synced_every_minute_stale_after_an_hour() -> None:
    settings = Settings()
    assert settings.directory == "file"
    assert settings.directory_sync_interval_s == 60 and settings.directory_max_age_s == 3600


def test_ldap_settings_come_from_guardian_environment_variables(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GUARDIAN_DEMO", "false")
    monkeypatch.setenv("GUARDIAN_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("GUARDIAN_DIRECTORY", "ldap")
    monkeypatch.setenv("GUARDIAN_LDAP_URL", "ldaps://a.test:636, ldaps://b.test:636")
    monkeypatch.setenv("GUARDIAN_LDAP_BIND_DN", "cn=svc,dc=x")
    monkeypatch.setenv("GUARDIAN_LDAP_BIND_PASSWORD", "s3cret")
    monkeypatch.setenv("GUARDIAN_LDAP_BASE_DN", "dc=x")
    monkeypatch.setenv("GUARDIAN_LDAP_GROUP_ROLES", '{"cn=agents,ou=groups,dc=x": "customer-care"}')
    monkeypatch.setenv("GUARDIAN_LDAP_START_TLS", "false")
    monkeypatch.setenv("GUARDIAN_DIRECTORY_SYNC_INTERVAL_S", "5")
    monkeypatch.setenv("GUARDIAN_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.ldap_urls == ("ldaps://a.test:636", "ldaps://b.test:636")
    assert settings.ldap_group_roles == {"cn=agents,ou=groups,dc=x": "customer-care"}
    assert settings.directory_sync_interval_s == 5
    assert settings.directory_snapshot_file == tmp_path / "directory" / "snapshot.json"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize("missing", ["ldap_url", "ldap_base_dn", "ldap_bind_dn",
                                     "ldap_bind_password"])
def test_an_ldap_directory_without_its_connection_settings_is_refused(missing: str) -> None:
    values = {k: v for k, v in LDAP.items() if k != missing}
    with pytest.raises(ValidationError, match=f"GUARDIAN_{missing.upper()}"):
        Settings(**values)  # type: ignore[arg-type]


def test_a_sync_interval_under_five_seconds_is_refused() -> None:
    with pytest.raises(ValidationError, match="directory_sync_interval_s"):
        Settings(directory_sync_interval_s=4.9)


def test_a_maximum_age_not_above_the_interval_is_refused() -> None:
    with pytest.raises(ValidationError, match="MAX_AGE"):
        Settings(**LDAP, directory_sync_interval_s=60, directory_max_age_s=60)  # type: ignore[arg-type]

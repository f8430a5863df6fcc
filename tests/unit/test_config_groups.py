"""Each component's settings group is read from the same ``GUARDIAN_*`` variables as the flat
settings (the names the README documents), derived once per access and never stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardian.config import Settings

SECRET = "x" * 40


def test_the_groups_come_from_the_documented_variables(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {
        "GUARDIAN_DEMO": "false", "GUARDIAN_SECRET_KEY": SECRET,
        "GUARDIAN_DATA_DIR": str(tmp_path), "GUARDIAN_DIRECTORY": "ldap",
        "GUARDIAN_LDAP_URL": "ldaps://a:636, ldaps://b:636",
        "GUARDIAN_LDAP_BIND_DN": "cn=reader", "GUARDIAN_LDAP_BIND_PASSWORD": "pw",
        "GUARDIAN_LDAP_BASE_DN": "dc=example", "GUARDIAN_DATABASE_URL": "postgresql://db/g",
        "GUARDIAN_AUDIT_INDEX": "opensearch", "GUARDIAN_OPENSEARCH_URLS": "https://os1:9200",
        "GUARDIAN_OPENSEARCH_PASSWORD": "ospw", "GUARDIAN_SMTP_HOST": "mail.example",
        "GUARDIAN_REPORT_RECIPIENTS": "a@example, b@example",
        "GUARDIAN_AUDIT_ROLLOVER_MAX_GB": "2",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.ldap.urls == ("ldaps://a:636", "ldaps://b:636")
    assert settings.ldap.bind_password == "pw"
    assert settings.people.kind == "ldap"
    assert settings.people.snapshot_file == tmp_path / "directory" / "snapshot.json"
    assert settings.store.url == "postgresql://db/g" and settings.store.configured
    assert settings.audit.index == "opensearch"
    assert settings.audit.rollover_max_bytes == 2 * 1024 ** 3
    assert settings.audit.journal_file == tmp_path / "audit" / "journal.jsonl"
    assert settings.opensearch.urls == ("https://os1:9200",)
    assert settings.opensearch.password == "ospw"
    assert settings.smtp.host == "mail.example"
    assert settings.reports.recipients == ("a@example", "b@example")


def test_the_defaults_are_the_embedded_demo(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.store.url == f"sqlite:///{tmp_path / 'guardian.db'}"
    assert not settings.store.configured
    assert settings.audit.index_file == tmp_path / "audit" / "index.db"
    assert settings.people.kind == "file"
    assert settings.audit.witness.url is None


def test_a_copy_with_a_change_has_groups_that_follow_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    changed = settings.model_copy(update={"session_ttl_s": 600})
    assert changed.identity.session_ttl_s == 600
    assert settings.identity.session_ttl_s != 600

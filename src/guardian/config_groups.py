"""The settings of each component, as frozen value objects (``settings.ldap.urls``, ...).

:class:`~guardian.config.Settings` reads the ``GUARDIAN_*`` variables once, flat, under the
names the README documents; each group here is built from those fields by one function of its
own (the mapping flat → nested, read top to bottom), so a component is handed its own group
only and never the whole of the settings. Adding a flat setting means adding it to one group
function here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pydantic import SecretStr

    from guardian.config import Settings


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _listed(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class DirectorySettings:
    """Who the people are: the YAML file, or LDAP served from a synced snapshot."""

    kind: Literal["file", "ldap"]
    file: Path
    reload_interval_s: float
    sync_interval_s: float
    max_age_s: float
    snapshot_file: Path
    demo: bool
    """Demo mode: beneath LDAP, the demo organisation's sealed seeds (file) still count."""


def directory_of(s: Settings) -> DirectorySettings:
    return DirectorySettings(
        kind=s.directory, file=s.directory_file, reload_interval_s=s.directory_reload_interval_s,
        sync_interval_s=s.directory_sync_interval_s, max_age_s=s.directory_max_age_s,
        snapshot_file=s.data_dir / "directory" / "snapshot.json", demo=s.demo)


@dataclass(frozen=True, slots=True)
class LdapSettings:
    """The LDAP servers, the read account, the layout, and the optional write account."""

    urls: tuple[str, ...]
    bind_dn: str | None
    bind_password: str | None
    base_dn: str | None
    users_dn: str | None
    groups_dn: str | None
    group_roles: dict[str, str] | None
    attributes: dict[str, str] | None
    start_tls: bool
    ca_file: Path | None
    timeout_s: float
    pool_size: int
    paged_size: int
    write_bind_dn: str | None
    write_password: str | None


def ldap_of(s: Settings) -> LdapSettings:
    return LdapSettings(
        urls=_listed(s.ldap_url), bind_dn=s.ldap_bind_dn,
        bind_password=_secret(s.ldap_bind_password), base_dn=s.ldap_base_dn,
        users_dn=s.ldap_users_dn, groups_dn=s.ldap_groups_dn, group_roles=s.ldap_group_roles,
        attributes=s.ldap_attributes, start_tls=s.ldap_start_tls, ca_file=s.ldap_ca_file,
        timeout_s=s.ldap_timeout_s, pool_size=s.ldap_pool_size, paged_size=s.ldap_paged_size,
        write_bind_dn=s.ldap_write_bind_dn, write_password=_secret(s.ldap_write_password))


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """The SQL store (SQLite in the data folder by default) and how its changes travel."""

    url: str
    configured: bool
    """``GUARDIAN_DATABASE_URL`` was set (else the SQLite default, which may not exist yet)."""
    default_file: Path
    changes_poll_interval_s: float


def store_of(s: Settings) -> StoreSettings:
    default = s.data_dir / "guardian.db"
    return StoreSettings(url=s.database_url or f"sqlite:///{default}",
                         configured=s.database_url is not None, default_file=default,
                         changes_poll_interval_s=s.changes_poll_interval_s)


@dataclass(frozen=True, slots=True)
class WitnessSettings:
    url: str | None
    secret: str | None
    queue: int
    attempts: int
    timeout_s: float


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """The journal, the index it is shipped to, checkpoints, the witness, retention."""

    journal_file: Path
    fsync: bool
    index: Literal["sqlite", "opensearch"]
    index_file: Path
    design_dir: Path
    retention_days: int
    rollover_days: int
    rollover_max_bytes: int
    retention_schedule: Literal["off", "daily"]
    ship: bool
    ship_batch_size: int
    ship_interval_s: float
    ship_max_backoff_s: float
    trim_bytes: int
    checkpoint_every_events: int
    checkpoint_every_s: float
    signing_key: str | None
    trust_file: Path | None
    witness: WitnessSettings


def audit_of(s: Settings) -> AuditSettings:
    return AuditSettings(
        journal_file=s.journal_path or s.data_dir / "audit" / "journal.jsonl",
        fsync=s.journal_fsync, index=s.audit_index,
        index_file=s.audit_index_path or s.data_dir / "audit" / "index.db",
        design_dir=s.audit_dir / "opensearch", retention_days=s.audit_retention_days,
        rollover_days=s.audit_rollover_days,
        rollover_max_bytes=int(s.audit_rollover_max_gb * 1024 ** 3),
        retention_schedule=s.audit_retention_schedule, ship=s.audit_ship,
        ship_batch_size=s.audit_ship_batch_size, ship_interval_s=s.audit_ship_interval_s,
        ship_max_backoff_s=s.audit_ship_max_backoff_s, trim_bytes=s.audit_trim_bytes,
        checkpoint_every_events=s.audit_checkpoint_every_events,
        checkpoint_every_s=s.audit_checkpoint_every_s,
        signing_key=_secret(s.audit_signing_key), trust_file=s.audit_trust_file,
        witness=WitnessSettings(s.audit_witness_url, _secret(s.audit_witness_secret),
                                s.audit_witness_queue, s.audit_witness_attempts,
                                s.audit_witness_timeout_s))


@dataclass(frozen=True, slots=True)
class OpenSearchSettings:
    urls: tuple[str, ...]
    username: str | None
    password: str | None
    ca_file: Path | None
    verify_certs: bool
    client_cert: Path | None
    client_key: Path | None
    timeout_s: float
    index_prefix: str
    replicas: int


def opensearch_of(s: Settings) -> OpenSearchSettings:
    return OpenSearchSettings(
        urls=_listed(s.opensearch_urls), username=s.opensearch_username,
        password=_secret(s.opensearch_password), ca_file=s.opensearch_ca_file,
        verify_certs=s.opensearch_verify_certs, client_cert=s.opensearch_client_cert,
        client_key=s.opensearch_client_key, timeout_s=s.opensearch_timeout_s,
        index_prefix=s.opensearch_index_prefix, replicas=s.opensearch_replicas)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """The mail server reports and review notices go through (``host`` ``None``: no mail)."""

    host: str | None
    port: int
    username: str | None
    password: str | None
    sender: str
    starttls: bool | None


def smtp_of(s: Settings) -> SmtpSettings:
    return SmtpSettings(s.smtp_host, s.smtp_port, s.smtp_username, _secret(s.smtp_password),
                        s.smtp_from, s.smtp_starttls)


@dataclass(frozen=True, slots=True)
class ReportSettings:
    schedule: Literal["off", "monthly"]
    recipients: tuple[str, ...]
    webhook_url: str | None
    webhook_secret: str | None
    delivery_attempts: int
    delivery_backoff_s: float


def reports_of(s: Settings) -> ReportSettings:
    return ReportSettings(s.reports_schedule, _listed(s.report_recipients), s.report_webhook_url,
                          _secret(s.report_webhook_secret), s.report_delivery_attempts,
                          s.report_delivery_backoff_s)


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    schedule: bool
    check_s: float
    refresh_interval_s: float
    mail_domain: str | None
    console_url: str
    webhook_url: str | None
    webhook_secret: str | None


def reviews_of(s: Settings) -> ReviewSettings:
    return ReviewSettings(s.reviews_schedule, s.reviews_check_s, s.reviews_refresh_interval_s,
                          s.review_mail_domain, s.review_console_url, s.review_webhook_url,
                          _secret(s.review_webhook_secret))


@dataclass(frozen=True, slots=True)
class IdentitySettings:
    """Sessions, sign-in limits and second factors."""

    session_ttl_s: int
    lockout_max_failures: int
    lockout_base_s: float
    lockout_max_s: float
    lockout_source_max_failures: int
    lockout_user_delay_max_s: float
    mfa_invitation_ttl_s: int
    admin_mfa_max_age_s: int
    totp_issuer: str
    webauthn_rp_id: str
    webauthn_rp_name: str
    webauthn_origin: str


def identity_of(s: Settings) -> IdentitySettings:
    return IdentitySettings(
        s.session_ttl_s, s.lockout_max_failures, s.lockout_base_s, s.lockout_max_s,
        s.lockout_source_max_failures, s.lockout_user_delay_max_s, s.mfa_invitation_ttl_s,
        s.admin_mfa_max_age_s, s.totp_issuer, s.webauthn_rp_id, s.webauthn_rp_name,
        s.webauthn_origin)


@dataclass(frozen=True, slots=True)
class ViewSettings:
    """How the in-memory views of the decision path stay current."""

    consent_refresh_interval_s: float
    views_refresh_interval_s: float


def views_of(s: Settings) -> ViewSettings:
    return ViewSettings(s.consent_refresh_interval_s, s.views_refresh_interval_s)


@dataclass(frozen=True, slots=True)
class CliSettings:
    """The command line as a client of a running server."""

    url: str | None
    session_file: Path
    timeout_s: float
    serve_state_file: Path


def cli_of(s: Settings) -> CliSettings:
    base = s.cli_config_dir
    if base is None:
        xdg = os.environ.get("XDG_CONFIG_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".config") / "guardian"
    return CliSettings(s.url, base / "session.json", s.cli_timeout_s,
                       s.data_dir / "serve.json")


@dataclass(frozen=True, slots=True)
class GovernanceSettings:
    """Grants and consent: their limits, the policy folder, the demo customers file."""

    grant_max_s: int
    customer_id_pattern: re.Pattern[str]
    customers_file: Path | None
    applications_file: Path
    policy_dir: Path


def governance_of(s: Settings) -> GovernanceSettings:
    return GovernanceSettings(s.grant_max_s, s.customer_id_pattern, s.customers_file,
                              s.applications_file, s.policy_dir)

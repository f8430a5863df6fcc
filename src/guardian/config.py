"""Settings: read once from ``GUARDIAN_*`` environment variables (or a ``.env``), passed explicitly.

The defaults are the embedded demo: file directory and policy from ``policies/``, SQLite store
and local audit journal under ``var/``. Safe by default: demo mode (``GUARDIAN_DEMO``, on unless
turned off) runs only the embedded parts on loopback and refuses to start with any real
component configured (LDAP, a database server, OpenSearch, a non-loopback bind), because its
secret key is public; a non-demo deployment must set its own ``GUARDIAN_SECRET_KEY`` (at least
32 characters, not the demo key) and its own audit signing key (checked when the signer is
built, so that ``guardian keys init`` can make one).
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from guardian import config_groups as groups

DEMO_SECRET_KEY = "guardian-demo-secret-key--not-for-production--0123456789"  # noqa: S105 - public demo key
"""Seals the demo organisation's TOTP seeds and signs demo session tokens. Public: demo only."""


_LISTEN_ADDRESS = (r"^(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]]+)"
                   r":([0-5]?\d{1,4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])$")
"""``host:port`` or ``[v6]:port``, port 0–65535."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUARDIAN_", env_file=".env", extra="ignore")

    demo: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    policy_dir: Path = Path("policies")
    directory_file: Path = Path("policies/demo/directory.yaml")

    # -- directory: the YAML file, or LDAP served from a synced snapshot --------------------
    directory: Literal["file", "ldap"] = "file"
    ldap_url: str | None = None
    """``ldap://host:port`` (loopback only, or with ``ldap_start_tls``) or ``ldaps://host:port``;
    several, comma-separated, are tried in order."""
    ldap_bind_dn: str | None = None
    """The service account that reads people and groups."""
    ldap_bind_password: SecretStr | None = None
    ldap_base_dn: str | None = None
    ldap_users_dn: str | None = None
    """Default: ``ou=people,<base>``."""
    ldap_groups_dn: str | None = None
    """Default: ``ou=groups,<base>``."""
    ldap_group_roles: dict[str, str] | None = None
    """Group DN → role (JSON); default: ``cn=<role>,<groups_dn>`` for every declared role."""
    ldap_attributes: dict[str, str] | None = None
    """Attribute names other than the Guardian schema's, e.g. ``{"disabled": "nsAccountLock"}``."""
    ldap_start_tls: bool = False
    ldap_ca_file: Path | None = None
    ldap_timeout_s: float = Field(default=5.0, gt=0, le=120)
    ldap_pool_size: int = Field(default=4, ge=1, le=64)
    ldap_paged_size: int = Field(default=1000, ge=10, le=100_000)
    directory_sync_interval_s: float = Field(default=60.0, ge=5)
    directory_max_age_s: float = Field(default=3600.0, ge=10)
    """Past this age of the last successful sync, decisions deny (``directory_stale``)."""
    applications_file: Path = Path("policies/demo/applications.yaml")
    customers_file: Path | None = Path("policies/demo/customers.yaml")
    """Consents to seed into an empty store (the demo customers)."""
    consent_refresh_interval_s: float = Field(default=1.0, gt=0, le=60)
    """How often a process reads the consent changes other processes stored (decisions count a
    withdrawal made elsewhere within this long; one made in this process at once)."""
    views_refresh_interval_s: float = Field(default=30.0, gt=0, le=3600)
    """How often every in-memory view of the decision path (grants, keys, consent) is re-read
    whole: the net under a change-feed message missed (changes arrive within a second)."""
    changes_poll_interval_s: float = Field(default=0.15, gt=0, le=5)
    """Embedded (SQLite) store: how often a process reads the changes other processes made."""
    reviews_refresh_interval_s: float = Field(default=30.0, gt=0, le=3600)
    """How often a process re-reads every access-review revocation other processes stored:
    the net under a change-feed message missed (a ``revocation`` change arrives within a
    second; in the revoking process a revocation counts at once)."""

    data_dir: Path = Path("var")
    database_url: str | None = None
    """SQLAlchemy URL of the store; default: SQLite file in ``data_dir``."""
    journal_path: Path | None = None
    """Audit journal file; default: ``data_dir/audit/journal.jsonl``."""
    journal_fsync: bool = True

    # -- audit trail: index, shipper, checkpoints (DESIGN.md "Audit trail") --------------
    audit_index: Literal["sqlite", "opensearch"] = "sqlite"
    """Where the journal is shipped for search and verification: embedded SQLite or OpenSearch."""
    audit_index_path: Path | None = None
    """SQLite audit index; default: ``data_dir/audit/index.db``."""
    audit_dir: Path = Path("audit")
    """Index design files (template, mapping, ISM policy) applied by ``guardian audit init``."""
    opensearch_urls: str = ""
    """Comma-separated OpenSearch URLs, e.g. ``https://os1:9200,https://os2:9200``."""
    opensearch_username: str | None = None
    opensearch_password: SecretStr | None = None
    opensearch_ca_file: Path | None = None
    opensearch_verify_certs: bool = True
    opensearch_client_cert: Path | None = None
    opensearch_client_key: Path | None = None
    opensearch_timeout_s: float = Field(default=10.0, gt=0)
    opensearch_index_prefix: str = Field(
        default="guardian-audit", pattern=r"^[a-z0-9][a-z0-9_-]{0,80}$")
    opensearch_replicas: int = Field(default=1, ge=0)
    audit_retention_days: int = Field(default=365, ge=1)
    """Events are deleted this long after they happened (by the ISM policy where OpenSearch
    has it, else by Guardian's retention job)."""
    audit_rollover_days: int = Field(default=30, ge=1)
    audit_rollover_max_gb: float = Field(default=30.0, gt=0)
    """Without ISM, the retention job also rolls the write index over at this primary size."""
    audit_retention_schedule: Literal["off", "daily"] = "daily"
    """``daily``: ``guardian serve`` runs the retention job at start and once a day."""
    reports_schedule: Literal["off", "monthly"] = "off"
    """``monthly``: ``guardian serve`` makes last month's periodic report when it is missing."""
    audit_ship: bool = True
    """Run the shipper (journal → index) in ``guardian serve``."""
    audit_ship_batch_size: int = Field(default=5000, ge=1, le=100_000)
    audit_ship_interval_s: float = Field(default=0.5, gt=0)
    """A partial batch is sent once its oldest event waited this long."""
    audit_ship_max_backoff_s: float = Field(default=30.0, gt=0)
    audit_trim_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    """Trim the journal once this many acknowledged bytes precede its last shipped checkpoint."""
    audit_checkpoint_every_events: int = Field(default=1000, ge=1)
    audit_checkpoint_every_s: float = Field(default=60.0, gt=0)
    audit_signing_key: SecretStr | None = None
    """Ed25519 checkpoint key: a PEM file path or a sealed value (``guardian keys init``);
    required outside demo mode (the demo derives it from the public demo secret key)."""
    audit_trust_file: Path | None = None
    """The auditors' pinned public keys for ``guardian audit verify`` (``--trust``)."""
    audit_witness_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    """Webhook that receives every checkpoint (a witness outside the host)."""
    audit_witness_secret: SecretStr | None = None
    """HMAC-SHA256 key signing each witness request body (``X-Guardian-Signature``)."""
    audit_witness_queue: int = Field(default=10_000, ge=1, le=1_000_000)
    """Checkpoints waiting for the witness at most; past it the oldest are dropped (counted)."""
    audit_witness_attempts: int = Field(default=5, ge=1, le=100)
    audit_witness_timeout_s: float = Field(default=5.0, gt=0, le=120)

    secret_key: SecretStr = SecretStr(DEMO_SECRET_KEY)
    session_ttl_s: int = Field(default=8 * 3600, ge=60)
    lockout_max_failures: int = Field(default=5, ge=1)
    lockout_base_s: float = Field(default=60.0, ge=1)
    lockout_max_s: float = Field(default=3600.0, ge=1)
    """Failures are counted per (user, source address) — ``lockout_max_failures`` then a lock
    of ``lockout_base_s`` doubling up to this — and per source (``lockout_source_*``)."""
    lockout_source_max_failures: int = Field(default=50, ge=1)
    """Attempts without success from one source address, any users, before it locks."""
    lockout_user_delay_max_s: float = Field(default=2.0, ge=0, le=30)
    """Failures of one user from every source only delay their sign-ins, up to this."""
    trusted_proxies: str = ""
    """Comma-separated addresses or networks of reverse proxies whose ``X-Forwarded-For`` is
    believed; by default the source of a sign-in is the connection's own address."""
    mfa_invitation_ttl_s: int = Field(default=72 * 3600, ge=60)
    """How long an invitation to enrol a first second factor stays valid."""
    admin_mfa_max_age_s: int = Field(default=900, ge=30)
    """Administrative endpoints and factor changes need a second factor at most this old."""
    grant_max_s: int = Field(default=7 * 24 * 3600, ge=60)
    """Longest a temporary grant may last from now."""
    totp_issuer: str = "Guardian"
    webauthn_rp_id: str = "localhost"
    webauthn_rp_name: str = "Guardian"
    webauthn_origin: str = "http://localhost:8000"

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    customer_id_pattern: re.Pattern[str] = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
    """What a customer id looks like in this organisation, matched in full after NFC."""
    request_head_timeout_s: float = Field(default=10.0, gt=0, le=300)
    """A request's line and headers must arrive within this long (else 408, closed)."""
    request_body_timeout_s: float = Field(default=30.0, gt=0, le=600)
    """A request's body must arrive within this long after its headers (else 408, closed)."""
    metrics_token: SecretStr | None = None
    """Bearer token of monitoring: opens ``/v1/metrics`` and the details of ``/v1/health``."""
    api_docs: bool | None = None
    """Serve ``/docs`` and ``/openapi.json``; default: in demo mode only (loopback)."""
    directory_reload_interval_s: float = Field(default=1.0, gt=0, le=3600)
    """How often the directory file is checked for a change (file directory only)."""
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    metrics_address: str | None = Field(default=None, pattern=_LISTEN_ADDRESS)
    """``host:port`` serving the Prometheus metrics on a listen address of their own, beside
    ``/v1/metrics`` (demo mode: loopback only). No authentication there: bind it where only
    monitoring reaches."""
    demo_history: bool = True
    """Demo mode only: the first start on an empty data folder journals 90 days of demo
    history (marked ``guardian.demo_data``); ``GUARDIAN_DEMO_HISTORY=0`` starts it empty."""
    smtp_host: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.:\[\]-]{1,253}$")
    """The mail server scheduled reports (and notifications) are sent through."""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    """Only handed to the server's ``AUTH``; never logged."""
    smtp_from: str = Field(default="guardian@localhost", pattern=r"^[^@\s,]+@[^@\s,]+$")
    smtp_starttls: bool | None = None
    """``STARTTLS`` before anything is sent; default: on unless the server is on loopback."""
    report_recipients: str = ""
    """Comma-separated addresses (auditors, DPO) each scheduled report is mailed to (PDF and
    signed JSON attached); needs ``GUARDIAN_SMTP_HOST``."""
    report_webhook_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    """Receives each scheduled report's summary, seal and links (JSON, HMAC-signed)."""
    report_webhook_secret: SecretStr | None = None
    """HMAC-SHA256 key of the report webhook's ``X-Guardian-Signature`` (≥ 16 characters)."""
    report_delivery_attempts: int = Field(default=3, ge=1, le=20)
    report_delivery_backoff_s: float = Field(default=30.0, ge=0, le=3600)
    """The pause after a failed delivery attempt, doubled after each further one."""
    url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    """``GUARDIAN_URL``: the server the command line's administrative commands go through
    (as the person signed in with ``guardian login``); default: the one running on this data
    folder, if any (``serve.json``), else they act on the data folder locally."""
    cli_config_dir: Path | None = None
    """Where ``guardian login`` keeps its session (mode 0600); default: the user's config
    folder (``$XDG_CONFIG_HOME/guardian`` or ``~/.config/guardian``)."""
    cli_timeout_s: float = Field(default=30.0, gt=0, le=600)
    """How long the command line waits for the server's answer."""
    reviews_schedule: bool = True
    """Run the access review clock in ``guardian serve`` (on the leader replica only)."""
    reviews_check_s: float = Field(default=300.0, ge=1, le=86400)
    """How often the review clock looks for reminders, deadlines and remediation to retry."""
    review_mail_domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]{1,253}$")
    """Reviewers are mailed at ``<uid>@<domain>`` through ``GUARDIAN_SMTP_*``; unset: no mail."""
    review_console_url: str = Field(default="http://127.0.0.1:8080/console/",
                                    pattern=r"^https?://\S+$")
    """The console link in review notifications."""
    review_webhook_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    """Receives one JSON notice per reviewer with pending items (HMAC-signed)."""
    review_webhook_secret: SecretStr | None = None
    """HMAC-SHA256 key of the review webhook's ``X-Guardian-Signature`` (≥ 16 characters)."""
    ldap_write_bind_dn: str | None = None
    """The LDAP account that removes memberships revoked by a review; unset: remediation list."""
    ldap_write_password: SecretStr | None = None

    # -- workers and writers (DESIGN.md "Growing past one machine") -----------------------
    writer_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    """This server's writer id, in every event it journals and in the index ``_id``; default:
    one made once and kept in ``data_dir/writer-id``. Worker k of ``serve --workers`` is
    ``<id>-w<k>``."""
    workers: int | None = Field(default=None, ge=1, le=64)
    """``guardian serve`` worker processes (each its own journal and chain); default 1: each
    worker holds its own in-memory views, so N workers take N times the memory (README)."""

    @model_validator(mode="after")
    def _reviews_complete(self) -> Settings:
        if self.review_mail_domain and not self.smtp_host:
            raise ValueError("GUARDIAN_REVIEW_MAIL_DOMAIN needs GUARDIAN_SMTP_HOST")
        if self.review_webhook_url and (
                self.review_webhook_secret is None
                or len(self.review_webhook_secret.get_secret_value()) < 16):
            raise ValueError("GUARDIAN_REVIEW_WEBHOOK_URL needs GUARDIAN_REVIEW_WEBHOOK_SECRET "
                             "(at least 16 characters) to sign what it sends")
        if (self.ldap_write_bind_dn is None) != (self.ldap_write_password is None):
            raise ValueError("GUARDIAN_LDAP_WRITE_BIND_DN and GUARDIAN_LDAP_WRITE_PASSWORD go "
                             "together")
        if self.ldap_write_bind_dn is not None and self.directory != "ldap":
            raise ValueError("GUARDIAN_LDAP_WRITE_BIND_DN needs GUARDIAN_DIRECTORY=ldap")
        return self

    @model_validator(mode="after")
    def _safe(self) -> Settings:
        if self.demo:
            self._demo_only_embedded()
        else:
            secret = self.secret_key.get_secret_value()
            if secret == DEMO_SECRET_KEY:
                raise ValueError("GUARDIAN_SECRET_KEY must be set outside demo mode (your own "
                                 "random value of at least 32 characters, not the demo key)")
            if len(secret) < 32:
                raise ValueError("GUARDIAN_SECRET_KEY must be at least 32 characters")
        try:
            self.trusted_proxy_networks  # noqa: B018 - parsed here to fail at start-up
        except ValueError as exc:
            raise ValueError(f"GUARDIAN_TRUSTED_PROXIES: {exc}") from exc
        if self.audit_index == "opensearch" and not self.opensearch_url_list:
            raise ValueError("GUARDIAN_AUDIT_INDEX=opensearch needs GUARDIAN_OPENSEARCH_URLS")
        self._report_delivery_complete()
        if self.audit_witness_url and (
                self.audit_witness_secret is None
                or len(self.audit_witness_secret.get_secret_value()) < 16):
            raise ValueError("GUARDIAN_AUDIT_WITNESS_URL needs GUARDIAN_AUDIT_WITNESS_SECRET "
                             "(at least 16 characters) to sign what it sends")
        return self

    def _demo_only_embedded(self) -> None:
        """Demo mode's keys are public: refuse every real component, naming the setting."""
        real = [name for name, configured in (
            ("GUARDIAN_HOST (not loopback)", not is_loopback(self.host)),
            ("GUARDIAN_METRICS_ADDRESS (not loopback)", self.metrics_address is not None
             and not is_loopback(self.metrics_address.rpartition(":")[0].strip("[]"))),
            ("GUARDIAN_DIRECTORY=ldap", self.directory == "ldap"),
            ("GUARDIAN_LDAP_URL", bool(self.ldap_url)),
            ("GUARDIAN_DATABASE_URL (not SQLite)",
             self.database_url is not None and not self.database_url.startswith("sqlite")),
            ("GUARDIAN_AUDIT_INDEX=opensearch", self.audit_index == "opensearch"),
            ("GUARDIAN_OPENSEARCH_URLS", bool(self.opensearch_url_list)),
        ) if configured]
        if real:
            raise ValueError(
                f"demo mode (GUARDIAN_DEMO=true, the default) refuses real components: "
                f"{', '.join(real)} {'is' if len(real) == 1 else 'are'} set. Its secret and "
                "signing keys are public, so sessions and checkpoints could be forged. Set "
                "GUARDIAN_DEMO=false with your own GUARDIAN_SECRET_KEY (32+ characters) and "
                "GUARDIAN_AUDIT_SIGNING_KEY (`guardian keys init`), or remove the setting(s)")

    @model_validator(mode="after")
    def _ldap_complete(self) -> Settings:
        if self.directory != "ldap":
            return self
        missing = [name for name in ("ldap_url", "ldap_base_dn", "ldap_bind_dn",
                                     "ldap_bind_password") if getattr(self, name) is None]
        if missing:
            names = ", ".join("GUARDIAN_" + m.upper() for m in missing)
            raise ValueError(f"GUARDIAN_DIRECTORY=ldap needs {names}")
        if self.directory_max_age_s <= self.directory_sync_interval_s:
            raise ValueError("GUARDIAN_DIRECTORY_MAX_AGE_S must exceed "
                             "GUARDIAN_DIRECTORY_SYNC_INTERVAL_S (else every gap between two "
                             "syncs would deny)")
        return self

    @property
    def api_docs_served(self) -> bool:
        return self.demo if self.api_docs is None else self.api_docs

    @property
    def ldap_urls(self) -> tuple[str, ...]:
        return tuple(u.strip() for u in (self.ldap_url or "").split(",") if u.strip())

    @property
    def directory_snapshot_file(self) -> Path:
        """The last LDAP snapshot, loaded at start so a restart while LDAP is down decides."""
        return self.data_dir / "directory" / "snapshot.json"

    @property
    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'guardian.db'}"

    @property
    def journal_file(self) -> Path:
        return self.journal_path or self.data_dir / "audit" / "journal.jsonl"

    @property
    def audit_index_file(self) -> Path:
        return self.audit_index_path or self.data_dir / "audit" / "index.db"

    @property
    def report_recipient_list(self) -> tuple[str, ...]:
        return tuple(r.strip() for r in self.report_recipients.split(",") if r.strip())

    def _report_delivery_complete(self) -> None:
        recipients = self.report_recipient_list
        if any(not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", r) for r in recipients):
            raise ValueError("GUARDIAN_REPORT_RECIPIENTS must be comma-separated mail addresses")
        if recipients and not self.smtp_host:
            raise ValueError("GUARDIAN_REPORT_RECIPIENTS needs GUARDIAN_SMTP_HOST")
        if self.report_webhook_url and (
                self.report_webhook_secret is None
                or len(self.report_webhook_secret.get_secret_value()) < 16):
            raise ValueError("GUARDIAN_REPORT_WEBHOOK_URL needs GUARDIAN_REPORT_WEBHOOK_SECRET "
                             "(at least 16 characters) to sign what it sends")

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(p.strip(), strict=False)
                     for p in self.trusted_proxies.split(",") if p.strip())

    @property
    def serve_state_file(self) -> Path:
        """Written by ``guardian serve`` while it runs: its address, for the command line."""
        return self.data_dir / "serve.json"

    @property
    def cli_session_file(self) -> Path:
        base = self.cli_config_dir
        if base is None:
            xdg = os.environ.get("XDG_CONFIG_HOME")
            base = (Path(xdg) if xdg else Path.home() / ".config") / "guardian"
        return base / "session.json"

    @property
    def opensearch_url_list(self) -> list[str]:
        return [u.strip() for u in self.opensearch_urls.split(",") if u.strip()]

    # -- the settings of each component, nested (``guardian.config_groups``): a component
    # receives its own group only. Built from the flat fields above on each access (cheap, and
    # never stale after ``model_copy``); the composition root reads each once.

    @property
    def people(self) -> groups.DirectorySettings:
        """The directory group (``directory`` is the flat ``GUARDIAN_DIRECTORY`` itself)."""
        return groups.directory_of(self)

    @property
    def ldap(self) -> groups.LdapSettings:
        return groups.ldap_of(self)

    @property
    def store(self) -> groups.StoreSettings:
        return groups.store_of(self)

    @property
    def audit(self) -> groups.AuditSettings:
        return groups.audit_of(self)

    @property
    def opensearch(self) -> groups.OpenSearchSettings:
        return groups.opensearch_of(self)

    @property
    def smtp(self) -> groups.SmtpSettings:
        return groups.smtp_of(self)

    @property
    def reports(self) -> groups.ReportSettings:
        return groups.reports_of(self)

    @property
    def reviews(self) -> groups.ReviewSettings:
        return groups.reviews_of(self)

    @property
    def identity(self) -> groups.IdentitySettings:
        return groups.identity_of(self)

    @property
    def views(self) -> groups.ViewSettings:
        return groups.views_of(self)

    @property
    def cli(self) -> groups.CliSettings:
        return groups.cli_of(self)

    @property
    def governance(self) -> groups.GovernanceSettings:
        return groups.governance_of(self)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False

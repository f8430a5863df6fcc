"""Settings: read once from ``GUARDIAN_*`` environment variables (or a ``.env``), passed explicitly.

The defaults are the embedded demo: file directory and policy from ``policies/``, SQLite store
and local audit journal under ``var/``. Demo mode refuses to listen on anything but loopback,
and a non-demo deployment must set its own ``GUARDIAN_SECRET_KEY``.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET_KEY = "guardian-demo-secret-key--not-for-production--0123456789"  # noqa: S105 - public demo key
"""Seals the demo organisation's TOTP seeds and signs demo session tokens. Public: demo only."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUARDIAN_", env_file=".env", extra="ignore")

    demo: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    policy_dir: Path = Path("policies")
    directory_file: Path = Path("policies/demo/directory.yaml")
    applications_file: Path = Path("policies/demo/applications.yaml")
    customers_file: Path | None = Path("policies/demo/customers.yaml")
    """Consents to seed into an empty store (the demo customers)."""

    data_dir: Path = Path("var")
    database_url: str | None = None
    """SQLAlchemy URL of the store; default: SQLite file in ``data_dir``."""
    journal_path: Path | None = None
    """Audit journal file; default: ``data_dir/audit/journal.jsonl``."""
    journal_fsync: bool = True

    secret_key: SecretStr = SecretStr(DEMO_SECRET_KEY)
    session_ttl_s: int = Field(default=8 * 3600, ge=60)
    lockout_max_failures: int = Field(default=5, ge=1)
    lockout_base_s: float = Field(default=60.0, ge=1)
    lockout_max_s: float = Field(default=3600.0, ge=1)

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @model_validator(mode="after")
    def _safe(self) -> Settings:
        if self.demo and not is_loopback(self.host):
            raise ValueError(
                f"demo mode only listens on loopback (127.0.0.1 or ::1), not {self.host!r}; "
                "set GUARDIAN_DEMO=false with your own GUARDIAN_SECRET_KEY to go further")
        if not self.demo and self.secret_key.get_secret_value() == DEMO_SECRET_KEY:
            raise ValueError("GUARDIAN_SECRET_KEY must be set outside demo mode")
        if len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("GUARDIAN_SECRET_KEY must be at least 32 characters")
        return self

    @property
    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'guardian.db'}"

    @property
    def journal_file(self) -> Path:
        return self.journal_path or self.data_dir / "audit" / "journal.jsonl"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False

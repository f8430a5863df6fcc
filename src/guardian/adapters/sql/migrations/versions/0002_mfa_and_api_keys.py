"""Second factors (sealed TOTP seeds, recovery codes, WebAuthn) and application API keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "totp_enrolments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("uid", sa.String(128), nullable=False),
        sa.Column("sealed_seed", sa.String(512), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("activated_at", sa.Float, nullable=True),
        sa.UniqueConstraint("uid", "state", name="uq_totp_enrolments_uid_state"),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("uid", sa.String(128), primary_key=True),
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("enrolment_id", sa.String(32), nullable=False),
        sa.Column("used_at", sa.Float, nullable=True),
    )
    op.create_index("ix_recovery_codes_enrolment_id", "recovery_codes", ["enrolment_id"])
    op.create_table(
        "webauthn_credentials",
        sa.Column("credential_id", sa.String(1400), primary_key=True),
        sa.Column("uid", sa.String(128), nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("sign_count", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_used_at", sa.Float, nullable=True),
    )
    op.create_index("ix_webauthn_credentials_uid", "webauthn_credentials", ["uid"])
    op.create_table(
        "webauthn_challenges",
        sa.Column("uid", sa.String(128), primary_key=True),
        sa.Column("purpose", sa.String(16), primary_key=True),
        sa.Column("challenge", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("key_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
        sa.UniqueConstraint("key_sha256", name="uq_api_keys_key_sha256"),
    )


def downgrade() -> None:
    op.drop_index("ix_webauthn_credentials_uid", table_name="webauthn_credentials")
    op.drop_index("ix_recovery_codes_enrolment_id", table_name="recovery_codes")
    for table in ("api_keys", "webauthn_challenges", "webauthn_credentials", "recovery_codes",
                  "totp_enrolments"):
        op.drop_table(table)

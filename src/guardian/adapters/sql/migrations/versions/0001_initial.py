"""The first schema: consents, one-time-code claims, failed sign-ins, temporary grants.

Revision ID: 0001
Revises:
Create Date: 2026-11-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("customer_id", sa.String(128), primary_key=True),
        sa.Column("purpose", sa.String(128), primary_key=True),
        sa.Column("granted_at", sa.Float, nullable=False),
    )
    op.create_table(
        "otp_claims",
        sa.Column("uid", sa.String(128), primary_key=True),
        sa.Column("timestep", sa.Integer, primary_key=True),
        sa.Column("used_at", sa.Float, nullable=False),
    )
    op.create_table(
        "auth_failures",
        sa.Column("uid", sa.String(128), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("last_at", sa.Float, nullable=False),
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("uid", sa.String(128), nullable=False),
        sa.Column("role", sa.String(128), nullable=False),
        sa.Column("starts_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("reason", sa.String(1024), nullable=False),
        sa.Column("granted_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_grants_uid", "grants", ["uid"])


def downgrade() -> None:
    op.drop_index("ix_grants_uid", table_name="grants")
    for table in ("grants", "auth_failures", "otp_claims", "consents"):
        op.drop_table(table)

"""Sign-in attempts under keys (user and source), and invitations to enrol a second factor.

``auth_failures`` counted per user id only (anyone could lock anyone, and every unknown id
tried stayed forever); ``auth_attempts`` counts per (user, source), per source and per user,
with unknown ids as keyed digests, and is purged after the lock window. Old counters are
dropped: at worst a lock in progress ends early.

Revision ID: 0003_signin
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_signin"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("auth_failures")
    op.create_table(
        "auth_attempts",
        sa.Column("attempt_key", sa.String(256), primary_key=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_at", sa.Float, nullable=False),
    )
    op.create_index("ix_auth_attempts_last_at", "auth_attempts", ["last_at"])
    op.create_table(
        "mfa_invitations",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("uid", sa.String(128), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("used_at", sa.Float, nullable=True),
    )
    op.create_index("ix_mfa_invitations_uid", "mfa_invitations", ["uid"])


def downgrade() -> None:
    op.drop_index("ix_mfa_invitations_uid", table_name="mfa_invitations")
    op.drop_table("mfa_invitations")
    op.drop_index("ix_auth_attempts_last_at", table_name="auth_attempts")
    op.drop_table("auth_attempts")
    op.create_table(
        "auth_failures",
        sa.Column("uid", sa.String(128), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("last_at", sa.Float, nullable=False),
    )

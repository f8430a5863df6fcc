"""Revocable grants (who revoked, when, why) and revocations of the applications file's keys.

A grant is never deleted: revoking it sets ``revoked_at``, ``revoked_by`` and
``revoke_reason``. The applications file is never rewritten, so the revocation of one of its
keys is a row of ``file_key_revocations``, by the key's SHA-256.

Revision ID: 0004_grants
Revises: 0003_signin
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_grants"
down_revision = "0003_signin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        batch.add_column(sa.Column("revoked_at", sa.Float, nullable=True))
        batch.add_column(sa.Column("revoked_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("revoke_reason", sa.String(1024), nullable=True))
    op.create_table(
        "file_key_revocations",
        sa.Column("key_sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("file_key_revocations")
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("revoke_reason")
        batch.drop_column("revoked_by")
        batch.drop_column("revoked_at")

"""Policy versions: every policy applied with ``guardian policy apply``, write-once.

The latest row (highest ``id``) is the policy in force; servers load it at start and on a
``policy`` change. ``version`` is the SHA-256 of the three files, unique: a version applied
once is never stored twice.

Revision ID: 0010_policy_versions
Revises: 0009_reviews
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_policy_versions"
down_revision = "0009_reviews"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(80), nullable=False, unique=True),
        sa.Column("previous", sa.String(80), nullable=True),
        sa.Column("applied_at", sa.Float, nullable=False),
        sa.Column("applied_by", sa.String(128), nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("rules", sa.Text, nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("policy_versions")

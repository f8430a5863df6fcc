"""The embedded change feed: a small ``changes`` table other processes on the machine poll.

Each row says that something decisions read changed (``kind``: grant, key, consent, revocation,
directory; ``key``: which one) and which process changed it (``origin``), so every other worker
re-reads it within a poll interval (``guardian.adapters.sql.changes_table``). Rows are pruned after
a few minutes. PostgreSQL deployments use LISTEN/NOTIFY instead and leave the table empty.

Revision ID: 0008_changes
Revises: 0006_consent
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_changes"
down_revision = "0007_report_deliveries"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_changes_at", "changes", ["at"])


def downgrade() -> None:
    op.drop_index("ix_changes_at", "changes")
    op.drop_table("changes")

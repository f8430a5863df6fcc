"""Deliveries of scheduled reports (email, webhook): what was sent, when, and whether it failed.

Revision ID: 0007_report_deliveries
Revises: 0006_consent
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_report_deliveries"
down_revision = "0006_consent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("report_id", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipients", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_report_deliveries_report_id", "report_deliveries", ["report_id"])


def downgrade() -> None:
    op.drop_index("ix_report_deliveries_report_id", table_name="report_deliveries")
    op.drop_table("report_deliveries")

"""Access reviews: campaigns, items (each with its decision history) and revocations.

A campaign and an item are kept whole as a JSON document (``doc``) beside the columns they are
searched by (state, campaign, reviewer, decision); ``review_revocations`` holds the standing
roles a review revoked, which every process loads into memory for decisions.

Revision ID: 0009_reviews
Revises: 0008_changes
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_reviews"
down_revision = "0008_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_campaigns",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("definition", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("opened_at", sa.Float, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
    )
    op.create_index("ix_review_campaigns_state", "review_campaigns", ["state"])
    op.create_table(
        "review_items",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("campaign_id", sa.String(32), nullable=False),
        sa.Column("reviewer", sa.String(128), nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("defaulted", sa.Boolean, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
    )
    op.create_index("ix_review_items_campaign_id", "review_items", ["campaign_id"])
    op.create_index("ix_review_items_reviewer", "review_items", ["reviewer"])
    op.create_table(
        "review_revocations",
        sa.Column("item_id", sa.String(32), primary_key=True),
        sa.Column("uid", sa.String(128), nullable=False),
        sa.Column("role", sa.String(128), nullable=False),
        sa.Column("campaign_id", sa.String(32), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("ended_at", sa.Float, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("review_revocations")
    op.drop_index("ix_review_items_reviewer", "review_items")
    op.drop_index("ix_review_items_campaign_id", "review_items")
    op.drop_table("review_items")
    op.drop_index("ix_review_campaigns_state", "review_campaigns")
    op.drop_table("review_campaigns")

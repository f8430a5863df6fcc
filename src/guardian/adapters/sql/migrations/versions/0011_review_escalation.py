"""Review items by (reviewer, id) and (campaign_id, id): a reviewer's inbox page and a
campaign's items are read in id order, so each walks its index in order and stops at the page
instead of reading and sorting every item of the reviewer (thousands of documents for a
manager at 100 000 people). Escalation needs no column: it is part of the item's document.

Revision ID: 0011_review_escalation
Revises: 0010_policy_versions
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0011_review_escalation"
down_revision = "0010_policy_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_review_items_reviewer_id", "review_items", ["reviewer", "id"])
    op.create_index("ix_review_items_campaign_id_id", "review_items", ["campaign_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_review_items_campaign_id_id", "review_items")
    op.drop_index("ix_review_items_reviewer_id", "review_items")

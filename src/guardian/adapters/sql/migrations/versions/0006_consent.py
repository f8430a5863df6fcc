"""Consent from the consent system: its history, the current state per purpose, key scopes.

``consent_changes`` keeps every change (granted or withdrawn, when, from which source, by which
application and key), never updated; ``id`` orders them and is what other processes poll to
keep their in-memory view current. ``consent_states`` holds the latest change per customer and
purpose (by ``at``, then ``change_id``). The seeded ``consents`` table is carried over into
both (source ``migrated``) and dropped. API keys gain ``scopes``: existing keys keep ``decide``.

Revision ID: 0006_consent
Revises: 0005_reports
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_consent"
down_revision = "0005_reports"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    changes = op.create_table(
        "consent_changes",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("purpose", sa.String(128), nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("recorded_at", sa.Float, nullable=False),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_consent_changes_customer_id", "consent_changes", ["customer_id"])
    op.create_table(
        "consent_states",
        sa.Column("customer_id", sa.String(128), primary_key=True),
        sa.Column("purpose", sa.String(128), primary_key=True),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("change_id", sa.BigInteger, nullable=False),
    )
    conn = op.get_bind()
    old = sa.table("consents", sa.column("customer_id", sa.String), sa.column("purpose", sa.String),
                   sa.column("granted_at", sa.Float))
    rows = conn.execute(sa.select(old.c.customer_id, old.c.purpose, old.c.granted_at)
                        .order_by(old.c.granted_at, old.c.customer_id, old.c.purpose)).all()
    for customer_id, purpose, at in rows:
        inserted = conn.execute(sa.insert(changes).values(
            customer_id=customer_id, purpose=purpose, granted=True, at=at, recorded_at=at,
            source="migrated", actor="guardian", key_id=None)).inserted_primary_key
        assert inserted is not None
        change_id = inserted[0]
        conn.execute(sa.text(
            "INSERT INTO consent_states (customer_id, purpose, granted, at, change_id) "
            "VALUES (:c, :p, :g, :a, :i)"), {"c": customer_id, "p": purpose, "g": True,
                                             "a": at, "i": change_id})
    op.drop_table("consents")
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("scopes", sa.String(64), nullable=False,
                                   server_default="decide"))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("scopes")
    op.create_table(
        "consents",
        sa.Column("customer_id", sa.String(128), primary_key=True),
        sa.Column("purpose", sa.String(128), primary_key=True),
        sa.Column("granted_at", sa.Float, nullable=False),
    )
    op.execute("INSERT INTO consents (customer_id, purpose, granted_at) "
               "SELECT customer_id, purpose, at FROM consent_states WHERE granted")
    op.drop_table("consent_states")
    op.drop_index("ix_consent_changes_customer_id", "consent_changes")
    op.drop_table("consent_changes")

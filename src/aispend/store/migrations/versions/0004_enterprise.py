"""enterprise credit rates

A contract rate per connection, effective-dated, that turns seat-plan credits (ChatGPT
Enterprise Codex) into dollars at report time. Like every table with an ``org_id``, it gets
the row-level security policy of migration 0003 on PostgreSQL. This revision branches from
0002 beside 0003; ``store.db.migrate`` upgrades every head.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-26 05:33:54.414663
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aispend.store.types

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

# The rule of migration 0003: a transaction that set app.org_id sees only that organisation.
ORG_RULE = (
    "NULLIF(current_setting('app.org_id', true), '') IS NULL "
    "OR org_id = NULLIF(current_setting('app.org_id', true), '')::integer"
)


def upgrade() -> None:
    op.create_table(
        "credit_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("usd_per_credit", aispend.store.types.Money(), nullable=False),
        sa.Column("created_at", aispend.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_credit_rates_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_credit_rates_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_rates")),
        sa.UniqueConstraint("connection_id", "effective_from", name=op.f("uq_credit_rates_connection_id")),
    )
    with op.batch_alter_table("credit_rates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_rates_org_id"), ["org_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE credit_rates ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE credit_rates FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY org_isolation ON credit_rates USING ({ORG_RULE}) WITH CHECK ({ORG_RULE})")


def downgrade() -> None:
    # Dropping the table drops its policy too.
    with op.batch_alter_table("credit_rates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_rates_org_id"))
    op.drop_table("credit_rates")

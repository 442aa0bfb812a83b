"""cost engine: rate cards, credits, re-ratings and the price of every usage fact

Rate cards and their immutable versions, prepaid and promotional credits, applied
re-ratings, and ``fact_prices`` (the list and effective price of each usage fact and the
rate card version behind it). Like every table with an ``org_id``, each gets the row-level
security policy of migration 0003 on PostgreSQL. This revision branches from 0002 beside
0003 and 0004; ``store.db.migrate`` upgrades every head.

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-26 06:12:04.859830
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aispend.store.types

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("rate_cards", "rate_card_versions", "credit_grants", "rerate_runs", "fact_prices")
# The rule of migration 0003: a transaction that set app.org_id sees only that organisation.
ORG_RULE = (
    "NULLIF(current_setting('app.org_id', true), '') IS NULL "
    "OR org_id = NULLIF(current_setting('app.org_id', true), '')::integer"
)


def upgrade() -> None:
    op.create_table(
        "credit_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("provider", sa.String(length=40), server_default="", nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount_usd", aispend.store.types.Money(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("created_at", aispend.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_credit_grants_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_grants")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_credit_grants_org_id")),
    )
    with op.batch_alter_table("credit_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_grants_org_id"), ["org_id"], unique=False)

    op.create_table(
        "rate_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("provider", sa.String(length=40), server_default="", nullable=False),
        sa.Column("model_pattern", sa.String(length=200), server_default="*", nullable=False),
        sa.Column("created_at", aispend.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_rate_cards_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_cards")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_rate_cards_org_id")),
    )
    with op.batch_alter_table("rate_cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_cards_org_id"), ["org_id"], unique=False)

    op.create_table(
        "rerate_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("applied_at", aispend.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_email", sa.String(length=320), server_default="", nullable=False),
        sa.Column("facts_changed", sa.Integer(), nullable=False),
        sa.Column("delta_usd", aispend.store.types.Money(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_rerate_runs_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rerate_runs")),
    )
    with op.batch_alter_table("rerate_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rerate_runs_org_id"), ["org_id"], unique=False)

    op.create_table(
        "rate_card_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("auto_from", sa.Date(), nullable=False),
        sa.Column("discount_pct", aispend.store.types.Money(), server_default="0", nullable=False),
        sa.Column("rates", sa.JSON(), nullable=False),
        sa.Column("commitment_usd", aispend.store.types.Money(), nullable=True),
        sa.Column("note", sa.String(length=400), server_default="", nullable=False),
        sa.Column("created_at", aispend.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["rate_cards.id"], name=op.f("fk_rate_card_versions_card_id_rate_cards")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_rate_card_versions_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_card_versions")),
        sa.UniqueConstraint("card_id", "version", name=op.f("uq_rate_card_versions_card_id")),
    )
    with op.batch_alter_table("rate_card_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_card_versions_org_id"), ["org_id"], unique=False)

    op.create_table(
        "fact_prices",
        sa.Column("usage_fact_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stream", sa.String(length=40), server_default="", nullable=False),
        sa.Column("model", sa.String(length=200), server_default="", nullable=False),
        sa.Column("list_usd", aispend.store.types.Money(), server_default="0", nullable=False),
        sa.Column("unpriced", sa.Boolean(), nullable=False),
        sa.Column("unpriced_kinds", sa.String(length=200), server_default="", nullable=False),
        sa.Column("effective_usd", aispend.store.types.Money(), nullable=True),
        sa.Column("rate_card_version_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_fact_prices_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_fact_prices_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["rate_card_version_id"],
            ["rate_card_versions.id"],
            name=op.f("fk_fact_prices_rate_card_version_id_rate_card_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["usage_fact_id"],
            ["usage_facts.id"],
            name=op.f("fk_fact_prices_usage_fact_id_usage_facts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("usage_fact_id", name=op.f("pk_fact_prices")),
    )
    with op.batch_alter_table("fact_prices", schema=None) as batch_op:
        batch_op.create_index("ix_fact_prices_conn_day", ["connection_id", "day"], unique=False)
        batch_op.create_index("ix_fact_prices_org_day", ["org_id", "day"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY org_isolation ON {table} USING ({ORG_RULE}) WITH CHECK ({ORG_RULE})")


def downgrade() -> None:
    # Dropping a table drops its policy too.
    with op.batch_alter_table("fact_prices", schema=None) as batch_op:
        batch_op.drop_index("ix_fact_prices_org_day")
        batch_op.drop_index("ix_fact_prices_conn_day")

    op.drop_table("fact_prices")
    with op.batch_alter_table("rate_card_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_card_versions_org_id"))

    op.drop_table("rate_card_versions")
    with op.batch_alter_table("rerate_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rerate_runs_org_id"))

    op.drop_table("rerate_runs")
    with op.batch_alter_table("rate_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_cards_org_id"))

    op.drop_table("rate_cards")
    with op.batch_alter_table("credit_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_grants_org_id"))

    op.drop_table("credit_grants")

"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 02:18:59.764994
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aispend.store.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", aispend.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("provider_account_id", sa.String(length=200), nullable=False),
        sa.Column("provider_account_name", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=60), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", aispend.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_sync_at", aispend.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", aispend.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disconnected_at", aispend.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_connections_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_connections_org_id")),
    )
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connections_org_id"), ["org_id"], unique=False)

    op.create_table(
        "allocated_costs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("workspace_id", sa.String(length=200), server_default="", nullable=False),
        sa.Column("model", sa.String(length=200), server_default="", nullable=False),
        sa.Column("cost_type", sa.String(length=40), server_default="", nullable=False),
        sa.Column("token_type", sa.String(length=40), server_default="", nullable=False),
        sa.Column("api_key_id", sa.String(length=200), server_default="", nullable=False),
        sa.Column("amount_usd", aispend.store.types.Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_allocated_costs_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_allocated_costs_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocated_costs")),
    )
    with op.batch_alter_table("allocated_costs", schema=None) as batch_op:
        batch_op.create_index("ix_allocated_costs_conn_day", ["connection_id", "day"], unique=False)
        batch_op.create_index(batch_op.f("ix_allocated_costs_org_id"), ["org_id"], unique=False)

    op.create_table(
        "cost_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("workspace_id", sa.String(length=200), server_default="", nullable=False),
        sa.Column("description", sa.String(length=400), server_default="", nullable=False),
        sa.Column("cost_type", sa.String(length=40), server_default="", nullable=False),
        sa.Column("model", sa.String(length=200), server_default="", nullable=False),
        sa.Column("token_type", sa.String(length=40), server_default="", nullable=False),
        sa.Column("service_tier", sa.String(length=40), server_default="", nullable=False),
        sa.Column("context_window", sa.String(length=40), server_default="", nullable=False),
        sa.Column("inference_geo", sa.String(length=40), server_default="", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_usd", aispend.store.types.Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_cost_facts_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_cost_facts_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_facts")),
        sa.UniqueConstraint(
            "connection_id",
            "day",
            "workspace_id",
            "description",
            "cost_type",
            "model",
            "token_type",
            "service_tier",
            "context_window",
            "inference_geo",
            "currency",
            name="uq_cost_facts_natural",
        ),
    )
    with op.batch_alter_table("cost_facts", schema=None) as batch_op:
        batch_op.create_index("ix_cost_facts_org_day", ["org_id", "day"], unique=False)

    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("kek_id", sa.String(length=64), nullable=False),
        sa.Column("wrapped_data_key", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", aispend.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_credentials_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_credentials_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("connection_id", name=op.f("uq_credentials_connection_id")),
    )
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credentials_org_id"), ["org_id"], unique=False)

    op.create_table(
        "directory",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("provider_id", sa.String(length=200), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("updated_at", aispend.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_directory_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_directory_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("connection_id", "kind", "provider_id", name=op.f("pk_directory")),
    )
    with op.batch_alter_table("directory", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directory_org_id"), ["org_id"], unique=False)

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("started_at", aispend.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", aispend.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requests_made", sa.Integer(), nullable=False),
        sa.Column("rows_written", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_sync_runs_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_sync_runs_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_runs_connection_id"), ["connection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_runs_org_id"), ["org_id"], unique=False)

    op.create_table(
        "sync_state",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=60), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("backfill_from", sa.Date(), nullable=True),
        sa.Column("complete_through", sa.Date(), nullable=True),
        sa.Column("pending_until", sa.Date(), nullable=True),
        sa.Column("updated_at", aispend.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_sync_state_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_sync_state_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("connection_id", "stream", name=op.f("pk_sync_state")),
    )
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_state_org_id"), ["org_id"], unique=False)

    op.create_table(
        "usage_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stream", sa.String(length=40), server_default="", nullable=False),
        sa.Column("model", sa.String(length=200), server_default="", nullable=False),
        sa.Column("workspace_id", sa.String(length=200), server_default="", nullable=False),
        sa.Column("api_key_id", sa.String(length=200), server_default="", nullable=False),
        sa.Column("user_id", sa.String(length=320), server_default="", nullable=False),
        sa.Column("service_tier", sa.String(length=40), server_default="", nullable=False),
        sa.Column("context_window", sa.String(length=40), server_default="", nullable=False),
        sa.Column("inference_geo", sa.String(length=40), server_default="", nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cache_write_5m_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cache_write_1h_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cache_write_other_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("web_search_requests", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("estimated_cost_usd", aispend.store.types.Money(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_usage_facts_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_usage_facts_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_facts")),
        sa.UniqueConstraint(
            "connection_id",
            "day",
            "stream",
            "model",
            "workspace_id",
            "api_key_id",
            "user_id",
            "service_tier",
            "context_window",
            "inference_geo",
            name="uq_usage_facts_natural",
        ),
    )
    with op.batch_alter_table("usage_facts", schema=None) as batch_op:
        batch_op.create_index("ix_usage_facts_org_day", ["org_id", "day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("usage_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_facts_org_day")

    op.drop_table("usage_facts")
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_state_org_id"))

    op.drop_table("sync_state")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_runs_org_id"))
        batch_op.drop_index(batch_op.f("ix_sync_runs_connection_id"))

    op.drop_table("sync_runs")
    with op.batch_alter_table("directory", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_org_id"))

    op.drop_table("directory")
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_org_id"))

    op.drop_table("credentials")
    with op.batch_alter_table("cost_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_cost_facts_org_day")

    op.drop_table("cost_facts")
    with op.batch_alter_table("allocated_costs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocated_costs_org_id"))
        batch_op.drop_index("ix_allocated_costs_conn_day")

    op.drop_table("allocated_costs")
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connections_org_id"))

    op.drop_table("connections")
    op.drop_table("organisations")

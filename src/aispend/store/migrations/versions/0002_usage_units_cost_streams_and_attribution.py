"""usage units, cost streams and attribution

Usage facts gain product, batch, variant and unit dimensions with non-token quantities and
per-modality token splits (OpenAI); cost facts gain a stream, API key, user, product and SKU,
the amount in the billing currency, list cost and how each figure was obtained; allocated
costs gain a user and the method and basis of their split. Existing cost rows all came from
the Anthropic cost report (stream ``cost``) and are in USD.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 05:06:23.167515
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aispend.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("allocated_costs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.String(length=320), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("method", sa.String(length=20), server_default="reported", nullable=False)
        )
        batch_op.add_column(sa.Column("basis", sa.String(length=60), server_default="", nullable=False))

    with op.batch_alter_table("cost_facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stream", sa.String(length=40), server_default="", nullable=False))
        batch_op.add_column(sa.Column("api_key_id", sa.String(length=200), server_default="", nullable=False))
        batch_op.add_column(sa.Column("user_id", sa.String(length=320), server_default="", nullable=False))
        batch_op.add_column(sa.Column("product", sa.String(length=40), server_default="", nullable=False))
        batch_op.add_column(sa.Column("sku_id", sa.String(length=60), server_default="", nullable=False))
        batch_op.add_column(sa.Column("amount", aispend.store.types.Money(), nullable=True))
        batch_op.add_column(sa.Column("conversion_rate", aispend.store.types.Money(), nullable=True))
        batch_op.add_column(sa.Column("list_amount_usd", aispend.store.types.Money(), nullable=True))
        batch_op.add_column(sa.Column("quantity", aispend.store.types.Money(), nullable=True))
        batch_op.add_column(sa.Column("unit", sa.String(length=40), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("method", sa.String(length=20), server_default="reported", nullable=False)
        )
        batch_op.drop_constraint(batch_op.f("uq_cost_facts_natural"), type_="unique")
        batch_op.create_unique_constraint(
            "uq_cost_facts_natural",
            [
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
                "stream",
                "api_key_id",
                "user_id",
                "product",
                "sku_id",
            ],
        )

    op.execute("UPDATE cost_facts SET amount = amount_usd, stream = 'cost'")
    with op.batch_alter_table("cost_facts", schema=None) as batch_op:
        batch_op.alter_column("amount", existing_type=aispend.store.types.Money(), nullable=False)

    with op.batch_alter_table("usage_facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("product", sa.String(length=40), server_default="", nullable=False))
        batch_op.add_column(sa.Column("batch", sa.String(length=5), server_default="", nullable=False))
        batch_op.add_column(sa.Column("variant", sa.String(length=100), server_default="", nullable=False))
        batch_op.add_column(sa.Column("unit", sa.String(length=20), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("quantity", aispend.store.types.Money(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("requests", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("input_text_tokens", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("input_cached_text_tokens", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("input_audio_tokens", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("input_cached_audio_tokens", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("input_image_tokens", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("input_cached_image_tokens", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("output_text_tokens", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("output_audio_tokens", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("output_image_tokens", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("reasoning_tokens", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("credits", aispend.store.types.Money(), server_default="0", nullable=False)
        )
        batch_op.drop_constraint(batch_op.f("uq_usage_facts_natural"), type_="unique")
        batch_op.create_unique_constraint(
            "uq_usage_facts_natural",
            [
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
                "product",
                "batch",
                "variant",
                "unit",
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("usage_facts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_usage_facts_natural", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_usage_facts_natural"),
            [
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
            ],
        )
        batch_op.drop_column("credits")
        batch_op.drop_column("reasoning_tokens")
        batch_op.drop_column("output_image_tokens")
        batch_op.drop_column("output_audio_tokens")
        batch_op.drop_column("output_text_tokens")
        batch_op.drop_column("input_cached_image_tokens")
        batch_op.drop_column("input_image_tokens")
        batch_op.drop_column("input_cached_audio_tokens")
        batch_op.drop_column("input_audio_tokens")
        batch_op.drop_column("input_cached_text_tokens")
        batch_op.drop_column("input_text_tokens")
        batch_op.drop_column("requests")
        batch_op.drop_column("quantity")
        batch_op.drop_column("unit")
        batch_op.drop_column("variant")
        batch_op.drop_column("batch")
        batch_op.drop_column("product")

    with op.batch_alter_table("cost_facts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_cost_facts_natural", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_cost_facts_natural"),
            [
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
            ],
        )
        batch_op.drop_column("method")
        batch_op.drop_column("unit")
        batch_op.drop_column("quantity")
        batch_op.drop_column("list_amount_usd")
        batch_op.drop_column("conversion_rate")
        batch_op.drop_column("amount")
        batch_op.drop_column("sku_id")
        batch_op.drop_column("product")
        batch_op.drop_column("user_id")
        batch_op.drop_column("api_key_id")
        batch_op.drop_column("stream")

    with op.batch_alter_table("allocated_costs", schema=None) as batch_op:
        batch_op.drop_column("basis")
        batch_op.drop_column("method")
        batch_op.drop_column("user_id")

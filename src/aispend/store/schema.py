"""The database schema. Tables are created only by migrations (``store/migrations``).

Every table carries ``org_id``: every query filters on it. Facts are keyed by their
natural key (a unique index over the connection, day and every dimension), so
re-importing a window upserts onto the same rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import JSON

from aispend.store.types import Money, UTCDateTime

__all__ = [
    "COST_DIMENSIONS",
    "COST_MEASURES",
    "USAGE_DIMENSIONS",
    "USAGE_MEASURES",
    "AllocatedCost",
    "Base",
    "Connection",
    "CostFact",
    "Credential",
    "DirectoryItem",
    "Organisation",
    "SyncRun",
    "SyncState",
    "UsageFact",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _dim(length: int = 200) -> Mapped[str]:
    return mapped_column(String(length), nullable=False, default="", server_default="")


def _count() -> Mapped[int]:
    return mapped_column(BigInteger, nullable=False, default=0, server_default="0")


def _method() -> Mapped[str]:
    return mapped_column(String(20), nullable=False, default="reported", server_default="reported")


def _decimal() -> Mapped[Decimal]:
    return mapped_column(Money, nullable=False, default=Decimal(0), server_default="0")


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Connection(Base):
    """A provider account connected to an organisation. Survives disconnection (its data stays)."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    provider_account_id: Mapped[str] = mapped_column(String(200), nullable=False)
    provider_account_name: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    # active | error | disconnected
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="active")
    options: Mapped[dict[str, object]] = mapped_column(JSON, nullable=False, default=dict)
    key_fingerprint: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Credential(Base):
    """A sealed secret (see ``vault``). Deleted, never blanked, on disconnect."""

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    kek_id: Mapped[str] = mapped_column(String(64), nullable=False)
    wrapped_data_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class SyncState(Base):
    """Checkpoint of one stream of one connection.

    ``complete_through`` is the exclusive end of the contiguous imported period that
    daily runs extend; ``pending_until`` is the end of a window a run was still
    working on when it stopped (so a restart resumes it without re-reading).
    """

    __tablename__ = "sync_state"

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    stream: Mapped[str] = mapped_column(String(60), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    backfill_from: Mapped[date | None] = mapped_column(Date)
    complete_through: Mapped[date | None] = mapped_column(Date)
    pending_until: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class SyncRun(Base):
    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), nullable=False, index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # running | succeeded | failed | interrupted
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="running")
    requests_made: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_written: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class DirectoryItem(Base):
    """A provider id and its human name: workspaces, API keys, users."""

    __tablename__ = "directory"

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


USAGE_DIMENSIONS = (
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
)
USAGE_MEASURES = (
    "input_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_write_other_tokens",
    "cache_read_tokens",
    "output_tokens",
    "web_search_requests",
    "estimated_cost_usd",
    "quantity",
    "requests",
    "input_text_tokens",
    "input_cached_text_tokens",
    "input_audio_tokens",
    "input_cached_audio_tokens",
    "input_image_tokens",
    "input_cached_image_tokens",
    "output_text_tokens",
    "output_audio_tokens",
    "output_image_tokens",
    "reasoning_tokens",
    "credits",
)


class UsageFact(Base):
    __tablename__ = "usage_facts"
    __table_args__ = (
        UniqueConstraint("connection_id", "day", *USAGE_DIMENSIONS, name="uq_usage_facts_natural"),
        Index("ix_usage_facts_org_day", "org_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), nullable=False
    )
    day: Mapped[date] = mapped_column(Date, nullable=False)
    stream: Mapped[str] = _dim(40)
    model: Mapped[str] = _dim()
    workspace_id: Mapped[str] = _dim()
    api_key_id: Mapped[str] = _dim()
    user_id: Mapped[str] = _dim(320)
    service_tier: Mapped[str] = _dim(40)
    context_window: Mapped[str] = _dim(40)
    inference_geo: Mapped[str] = _dim(40)
    input_tokens: Mapped[int] = _count()
    cache_write_5m_tokens: Mapped[int] = _count()
    cache_write_1h_tokens: Mapped[int] = _count()
    cache_write_other_tokens: Mapped[int] = _count()
    cache_read_tokens: Mapped[int] = _count()
    output_tokens: Mapped[int] = _count()
    web_search_requests: Mapped[int] = _count()
    estimated_cost_usd: Mapped[Decimal] = _decimal()
    product: Mapped[str] = _dim(40)
    batch: Mapped[str] = _dim(5)
    variant: Mapped[str] = _dim(100)
    unit: Mapped[str] = _dim(20)
    # Exact non-token quantity (Money's type: nine decimal places, exact on both databases).
    quantity: Mapped[Decimal] = _decimal()
    requests: Mapped[int] = _count()
    input_text_tokens: Mapped[int] = _count()
    input_cached_text_tokens: Mapped[int] = _count()
    input_audio_tokens: Mapped[int] = _count()
    input_cached_audio_tokens: Mapped[int] = _count()
    input_image_tokens: Mapped[int] = _count()
    input_cached_image_tokens: Mapped[int] = _count()
    output_text_tokens: Mapped[int] = _count()
    output_audio_tokens: Mapped[int] = _count()
    output_image_tokens: Mapped[int] = _count()
    reasoning_tokens: Mapped[int] = _count()
    credits: Mapped[Decimal] = _decimal()


COST_DIMENSIONS = (
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
)
COST_MEASURES = (
    "amount_usd",
    "amount",
    "conversion_rate",
    "list_amount_usd",
    "quantity",
    "unit",
    "method",
)


class CostFact(Base):
    __tablename__ = "cost_facts"
    __table_args__ = (
        UniqueConstraint("connection_id", "day", *COST_DIMENSIONS, name="uq_cost_facts_natural"),
        Index("ix_cost_facts_org_day", "org_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), nullable=False
    )
    day: Mapped[date] = mapped_column(Date, nullable=False)
    workspace_id: Mapped[str] = _dim()
    description: Mapped[str] = _dim(400)
    cost_type: Mapped[str] = _dim(40)
    model: Mapped[str] = _dim()
    token_type: Mapped[str] = _dim(40)
    service_tier: Mapped[str] = _dim(40)
    context_window: Mapped[str] = _dim(40)
    inference_geo: Mapped[str] = _dim(40)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD")
    amount_usd: Mapped[Decimal] = mapped_column(Money, nullable=False)
    stream: Mapped[str] = _dim(40)
    api_key_id: Mapped[str] = _dim()
    user_id: Mapped[str] = _dim(320)
    product: Mapped[str] = _dim(40)
    sku_id: Mapped[str] = _dim(60)
    # In ``currency``; equal to ``amount_usd`` for USD.
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    conversion_rate: Mapped[Decimal | None] = mapped_column(Money)
    list_amount_usd: Mapped[Decimal | None] = mapped_column(Money)
    quantity: Mapped[Decimal | None] = mapped_column(Money)
    unit: Mapped[str] = _dim(40)
    # reported | parsed_line_item (see ``model.CostMethod``)
    method: Mapped[str] = _method()


class AllocatedCost(Base):
    """Reported cost at the finest grain usage explains: per API key, user and model.

    A cost line the provider already reports at that grain is copied (``method`` says how
    it was obtained); a coarser one is spread in proportion to usage (``allocated``, with
    the usage measure it was spread by in ``basis``; see ``pricing.allocate``).

    Rebuilt for a whole day whenever that day's usage or cost changes, in the same
    transaction, so it always sums exactly to the day's cost facts.
    """

    __tablename__ = "allocated_costs"
    __table_args__ = (Index("ix_allocated_costs_conn_day", "connection_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), nullable=False
    )
    day: Mapped[date] = mapped_column(Date, nullable=False)
    workspace_id: Mapped[str] = _dim()
    model: Mapped[str] = _dim()
    cost_type: Mapped[str] = _dim(40)
    token_type: Mapped[str] = _dim(40)
    api_key_id: Mapped[str] = _dim()
    amount_usd: Mapped[Decimal] = mapped_column(Money, nullable=False)
    user_id: Mapped[str] = _dim(320)
    method: Mapped[str] = _method()
    basis: Mapped[str] = _dim(60)

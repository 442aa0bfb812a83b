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
    Boolean,
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
    "ApiToken",
    "AuditEntry",
    "Base",
    "Connection",
    "CostFact",
    "Credential",
    "CreditGrant",
    "CreditRate",
    "DirectoryItem",
    "FactPrice",
    "LoginAttempt",
    "Membership",
    "Organisation",
    "PasswordReset",
    "RateCard",
    "RateCardVersion",
    "RerateRun",
    "SyncRun",
    "SyncState",
    "UsageFact",
    "User",
    "WebSession",
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
    __table_args__ = (
        Index("ix_allocated_costs_conn_day", "connection_id", "day"),
        Index("ix_allocated_costs_org_day", "org_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
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


# Access control (see ``aispend.auth``). Users span organisations, so ``users`` and the
# per-person tables keyed by email or address have no ``org_id``; everything a person
# does inside an organisation does, and is scoped like every other table.


def _owner() -> Mapped[int]:
    return mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)


class User(Base):
    """A person who signs in. ``password_hash`` is None for single sign-on only accounts."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lower-cased, so lookups need no case-folding index.
    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Membership(Base):
    """A user's one role in one organisation (see ``auth.permissions.Role``)."""

    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class WebSession(Base):
    """A signed-in browser. Only the SHA-256 of its cookie token is stored."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = _owner()
    # The organisation the browser is working in; the user switches among their memberships.
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    address: Mapped[str] = _dim(64)
    user_agent: Mapped[str] = _dim(400)


class LoginAttempt(Base):
    """One password sign-in attempt; throttling counts recent failures per account and address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "attempted_at"),
        Index("ix_login_attempts_address_at", "address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    address: Mapped[str] = _dim(64)
    succeeded: Mapped[bool] = mapped_column(Boolean, nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class ApiToken(Base):
    """A personal token for ``/api/v1``, acting for its owner in one organisation.

    Only the SHA-256 of the token is stored; ``prefix`` (its first characters) lets a
    person recognise it. ``scope`` is ``read`` or ``full``, always bounded by the
    owner's current role.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    user_id: Mapped[int] = _owner()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    prefix: Mapped[str] = mapped_column(String(20), nullable=False)
    scope: Mapped[str] = mapped_column(String(10), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordReset(Base):
    """A one-time password reset link. Only the SHA-256 of its token is stored."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = _owner()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One line of the append-only audit log (written only by ``aispend.audit.record``).

    The actor's id and email are copied, not referenced, so they outlive the user.
    ``org_id`` is None for events outside any organisation (a failed sign-in to an
    unknown email).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_org_at", "org_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_email: Mapped[str] = _dim(320)
    action: Mapped[str] = mapped_column(String(80), nullable=False)
    target: Mapped[str] = _dim(300)
    before: Mapped[dict[str, object] | None] = mapped_column(JSON)
    after: Mapped[dict[str, object] | None] = mapped_column(JSON)
    address: Mapped[str] = _dim(64)
    user_agent: Mapped[str] = _dim(400)


class CreditRate(Base):
    """A contract rate turning a connection's seat-plan credits (Codex) into US dollars.

    Effective-dated: a rate applies from ``effective_from`` until the connection's next
    rate. Credits of days before its first rate are unpriced: shown as credits, never as $0.
    """

    __tablename__ = "credit_rates"
    __table_args__ = (UniqueConstraint("connection_id", "effective_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), nullable=False
    )
    effective_from: Mapped[date] = mapped_column(Date, nullable=False)
    usd_per_credit: Mapped[Decimal] = mapped_column(Money, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


# Cost engine (see ``aispend.pricing``): rate cards and their immutable versions, credits,
# re-ratings, and the list and effective price of every usage fact.


class RateCard(Base):
    """An organisation's negotiated pricing for one provider (``""``: all) and model pattern.

    Its terms live in :class:`RateCardVersion` rows; a card's scope never changes.
    """

    __tablename__ = "rate_cards"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    provider: Mapped[str] = _dim(40)
    # An fnmatch pattern over model ids ("*": every model).
    model_pattern: Mapped[str] = mapped_column(String(200), nullable=False, default="*", server_default="*")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class RateCardVersion(Base):
    """The terms of a rate card from ``effective_from`` until its next version. Never changed.

    ``discount_pct`` comes off list price; ``rates`` are explicit USD per million tokens per
    token kind (as decimal strings); ``commitment_usd`` is a committed monthly spend.
    ``auto_from`` is the first day it prices on its own: days before it were in a closed
    period when the version was made, and only an applied re-rating lets it price them.
    """

    __tablename__ = "rate_card_versions"
    __table_args__ = (UniqueConstraint("card_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("rate_cards.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    effective_from: Mapped[date] = mapped_column(Date, nullable=False)
    auto_from: Mapped[date] = mapped_column(Date, nullable=False)
    discount_pct: Mapped[Decimal] = _decimal()
    rates: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False, default=dict)
    commitment_usd: Mapped[Decimal | None] = mapped_column(Money)
    note: Mapped[str] = _dim(400)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by: Mapped[str] = _dim(320)


class CreditGrant(Base):
    """Prepaid or promotional credit: ``amount_usd`` to spend on ``provider`` (``""``: any)
    between ``valid_from`` and ``valid_until`` (inclusive). Burned down at report time."""

    __tablename__ = "credit_grants"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    provider: Mapped[str] = _dim(40)
    # prepaid | promotional
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    amount_usd: Mapped[Decimal] = mapped_column(Money, nullable=False)
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by: Mapped[str] = _dim(320)


class RerateRun(Base):
    """An applied re-rating of ``[since, until]``: every rate card version made before
    ``applied_at`` may price those days, closed or not."""

    __tablename__ = "rerate_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    since: Mapped[date] = mapped_column(Date, nullable=False)
    until: Mapped[date] = mapped_column(Date, nullable=False)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    actor_email: Mapped[str] = _dim(320)
    facts_changed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    delta_usd: Mapped[Decimal] = _decimal()


class FactPrice(Base):
    """The list and effective price of one usage fact, and the rate card version behind it.

    ``list_usd`` prices the kinds that have a list price; ``unpriced`` says some kind had
    none (``unpriced_kinds`` names them), so the fact is flagged, never counted as free.
    ``effective_usd`` is None where no rate card prices the fact (the reported cost stands).
    Rewritten with its usage, in the same transaction.
    """

    __tablename__ = "fact_prices"
    __table_args__ = (
        Index("ix_fact_prices_conn_day", "connection_id", "day"),
        Index("ix_fact_prices_org_day", "org_id", "day"),
    )

    usage_fact_id: Mapped[int] = mapped_column(
        ForeignKey("usage_facts.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), nullable=False
    )
    day: Mapped[date] = mapped_column(Date, nullable=False)
    stream: Mapped[str] = _dim(40)
    model: Mapped[str] = _dim()
    list_usd: Mapped[Decimal] = _decimal()
    unpriced: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    unpriced_kinds: Mapped[str] = _dim(200)
    effective_usd: Mapped[Decimal | None] = mapped_column(Money)
    rate_card_version_id: Mapped[int | None] = mapped_column(ForeignKey("rate_card_versions.id"))

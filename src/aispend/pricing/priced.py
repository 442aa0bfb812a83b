"""The stored price of every usage fact (``fact_prices``), written with its usage.

The sync runner prices the days a usage page wrote, in the page's transaction, so every
usage fact always has its list price, its effective price and the rate card version behind
it (see :mod:`aispend.pricing.rates` for which version that is). Adding a rate card version
re-prices the open days it covers at once; closed days change only through an applied
re-rating (:mod:`aispend.pricing.rerate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from aispend.pricing.kinds import UNPRICED_PROVIDERS, UNPRICED_STREAMS
from aispend.pricing.listcost import price_usage
from aispend.pricing.rates import CardResolver, RateVersion, add_rate_version, load_resolver
from aispend.store.facts import insert_rows
from aispend.store.schema import Connection, FactPrice, UsageFact

__all__ = [
    "PRICING_COLUMNS",
    "FactPriceRow",
    "add_rates",
    "compute_prices",
    "price_usage_days",
    "reprice",
    "usage_days",
]

PRICING_COLUMNS = [  # what pricing a usage fact reads
    getattr(UsageFact, name)
    for name in (
        "id",
        "day",
        "stream",
        "model",
        "service_tier",
        "batch",
        "context_window",
        "inference_geo",
        "product",
        "variant",
        "unit",
        "quantity",
        "input_tokens",
        "input_audio_tokens",
        "input_image_tokens",
        "cache_read_tokens",
        "input_cached_audio_tokens",
        "input_cached_image_tokens",
        "cache_write_5m_tokens",
        "cache_write_1h_tokens",
        "cache_write_other_tokens",
        "output_tokens",
        "output_audio_tokens",
        "output_image_tokens",
        "web_search_requests",
    )
]
_COLUMNS = (
    "usage_fact_id",
    "org_id",
    "connection_id",
    "day",
    "stream",
    "model",
    "list_usd",
    "unpriced",
    "unpriced_kinds",
    "effective_usd",
    "rate_card_version_id",
)
_CHUNK = 400


@dataclass(frozen=True, slots=True)
class FactPriceRow:
    """The price of one usage fact, as stored."""

    usage_fact_id: int
    day: date
    stream: str
    model: str
    list_usd: Decimal
    unpriced_kinds: tuple[str, ...]
    effective_usd: Decimal | None
    version_id: int | None


def _chunks(days: Sequence[date]) -> Iterable[list[date]]:
    ordered = sorted(set(days))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def compute_prices(
    session: Session,
    *,
    org_id: int,
    connection_id: int,
    provider: str,
    days: Sequence[date],
    resolver: CardResolver,
    stream: str | None = None,
) -> list[FactPriceRow]:
    """Price the usage facts of ``days`` (of one ``stream`` if given), without writing."""
    out: list[FactPriceRow] = []
    if provider in UNPRICED_PROVIDERS:
        return out
    for chunk in _chunks(days):
        statement = select(*PRICING_COLUMNS).where(
            UsageFact.org_id == org_id,
            UsageFact.connection_id == connection_id,
            UsageFact.day.in_(chunk),
            UsageFact.stream.not_in(UNPRICED_STREAMS),
        )
        if stream is not None:
            statement = statement.where(UsageFact.stream == stream)
        for row in session.execute(statement):
            version = None if resolver.empty else resolver.version_for(provider, row.model, row.day)
            priced = price_usage(provider, row.day, row, version.terms if version else None)
            out.append(
                FactPriceRow(
                    row.id,
                    row.day,
                    row.stream,
                    row.model,
                    priced.list_usd,
                    priced.unpriced,
                    priced.effective_usd,
                    version.id if version else None,
                )
            )
    return out


def _store(
    session: Session,
    org_id: int,
    connection_id: int,
    days: Sequence[date],
    stream: str | None,
    rows: list[FactPriceRow],
) -> None:
    for chunk in _chunks(days):
        statement = delete(FactPrice).where(
            FactPrice.org_id == org_id, FactPrice.connection_id == connection_id, FactPrice.day.in_(chunk)
        )
        if stream is not None:
            statement = statement.where(FactPrice.stream == stream)
        session.execute(statement)
    table: Table = FactPrice.__table__  # type: ignore[assignment]
    values: list[tuple[Any, ...]] = [
        (
            row.usage_fact_id,
            org_id,
            connection_id,
            row.day,
            row.stream,
            row.model,
            row.list_usd,
            bool(row.unpriced_kinds),
            ",".join(row.unpriced_kinds)[:200],
            row.effective_usd,
            row.version_id,
        )
        for row in rows
    ]
    insert_rows(session, table, _COLUMNS, values)


def price_usage_days(
    session: Session,
    *,
    org_id: int,
    connection_id: int,
    provider: str,
    days: Iterable[date],
    stream: str | None = None,
    resolver: CardResolver | None = None,
) -> int:
    """Replace the stored prices of the usage facts of ``days`` (of ``stream``). Returns rows.

    Run in the transaction that wrote the usage, so prices always match the facts.
    """
    day_list = sorted(set(days))
    if not day_list:
        return 0
    resolver = resolver or load_resolver(session, org_id)
    rows = compute_prices(
        session,
        org_id=org_id,
        connection_id=connection_id,
        provider=provider,
        days=day_list,
        resolver=resolver,
        stream=stream,
    )
    _store(session, org_id, connection_id, day_list, stream, rows)
    return len(rows)


def usage_days(
    session: Session, org_id: int, since: date, until: date | None, provider: str = ""
) -> dict[tuple[int, str], list[date]]:
    """Days with usage per (connection, provider) in ``[since, until]``, of one provider if given."""
    statement = (
        select(UsageFact.connection_id, Connection.provider, UsageFact.day)
        .join(Connection, Connection.id == UsageFact.connection_id)
        .where(UsageFact.org_id == org_id, UsageFact.day >= since)
        .distinct()
    )
    if until is not None:
        statement = statement.where(UsageFact.day <= until)
    if provider:
        statement = statement.where(Connection.provider == provider)
    out: dict[tuple[int, str], list[date]] = {}
    for connection_id, connection_provider, day in session.execute(statement):
        out.setdefault((connection_id, connection_provider), []).append(day)
    return out


def reprice(
    session: Session,
    org_id: int,
    *,
    since: date,
    until: date | None = None,
    provider: str = "",
    resolver: CardResolver | None = None,
) -> int:
    """Price again every usage fact of ``[since, until]`` (of one provider if given). Returns rows."""
    resolver = resolver or load_resolver(session, org_id)
    written = 0
    for (connection_id, connection_provider), days in usage_days(
        session, org_id, since, until, provider
    ).items():
        written += price_usage_days(
            session,
            org_id=org_id,
            connection_id=connection_id,
            provider=connection_provider,
            days=days,
            resolver=resolver,
        )
    return written


def add_rates(session: Session, org_id: int, *, today: date, **terms: Any) -> tuple[RateVersion, int]:
    """Add a rate card version (see :func:`~aispend.pricing.rates.add_rate_version`) and price
    the open days it covers. Returns the version and how many usage facts were priced again."""
    version = add_rate_version(session, org_id, today=today, **terms)
    repriced = reprice(session, org_id, since=version.auto_from, provider=version.provider)
    return version, repriced

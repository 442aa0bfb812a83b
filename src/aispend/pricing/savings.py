"""Savings insight from the usage already held, at list prices.

Per provider and model over a period:

- **cache**: the cache hit ratio (cached reads over all input tokens), what the cached reads
  would have cost as uncached input less what they cost, and the premium paid to write the
  cache (writes over the input price); their difference is what caching saved;
- **batch**: what Batch API usage saved against the same tokens at standard rates, and the
  standard-tier spend that could move to batch (*batch-eligible*) with what moving it would
  save, where the provider has a batch discount.

Everything is list price (the catalog and the tier rules of :mod:`aispend.pricing.listprice`),
so the figures compare like with like whatever the rate cards say.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal, localcontext
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from aispend.pricing.amounts import plain_usd
from aispend.pricing.kinds import UNPRICED_STREAMS, bucket_of, is_priced, usage_kinds
from aispend.pricing.listprice import TOKEN_KINDS, rule_factor, unit_price
from aispend.pricing.priced import PRICING_COLUMNS
from aispend.store.schema import Connection, UsageFact

__all__ = ["SavingsRow", "savings"]

_STANDARD: Final = frozenset({"", "standard", "default"})
_INPUT_KINDS: Final = frozenset({"input", "input_audio", "input_image"})
_CACHE_READS: Final = frozenset({"cache_read", "cache_read_audio", "cache_read_image"})
_CACHE_WRITES: Final = frozenset({"cache_write_5m", "cache_write_1h", "cache_write"})


@dataclass
class SavingsRow:
    """Savings of one provider's model (or a total) at list prices."""

    provider: str
    model: str
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_savings_usd: Decimal = Decimal(0)
    cache_write_premium_usd: Decimal = Decimal(0)
    batch_tokens: int = 0
    batch_savings_usd: Decimal = Decimal(0)
    batch_eligible_usd: Decimal = Decimal(0)
    batch_potential_savings_usd: Decimal = Decimal(0)

    def add(self, other: SavingsRow) -> None:
        for item in fields(self)[2:]:
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    def as_json(self) -> dict[str, Any]:
        prompt = self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
        ratio = Decimal(self.cache_read_tokens) / prompt if prompt else None
        return {
            "provider": self.provider,
            "model": self.model,
            "input_tokens": self.input_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cache_hit_ratio": None if ratio is None else format(ratio.quantize(Decimal("0.0001")), "f"),
            "cache_savings_usd": plain_usd(self.cache_savings_usd),
            "cache_write_premium_usd": plain_usd(self.cache_write_premium_usd),
            "cache_net_savings_usd": plain_usd(self.cache_savings_usd - self.cache_write_premium_usd),
            "batch_tokens": self.batch_tokens,
            "batch_savings_usd": plain_usd(self.batch_savings_usd),
            "batch_eligible_usd": plain_usd(self.batch_eligible_usd),
            "batch_potential_savings_usd": plain_usd(self.batch_potential_savings_usd),
        }


def _price(provider: str, row: Any, kind: str, tier: str) -> Decimal | None:
    bucket = bucket_of(row)
    found = unit_price(
        provider,
        row.model,
        kind,
        row.day,
        tier=tier,
        context=bucket.context,
        geo=bucket.geo,
        product=bucket.product,
    )
    return None if found is None else found.per_unit


def _row_savings(provider: str, row: Any) -> SavingsRow:
    out = SavingsRow(provider, row.model)
    tier = bucket_of(row).tier
    input_price = _price(provider, row, "input", tier)
    batch_factor = rule_factor(provider, row.model, row.day, tier="batch")
    for kind, quantity in usage_kinds(provider, row):
        if kind not in TOKEN_KINDS:
            continue
        tokens = int(quantity)
        price = _price(provider, row, kind, tier)
        if kind in _INPUT_KINDS:
            out.input_tokens += tokens
        elif kind in _CACHE_READS:
            out.cache_read_tokens += tokens
            if price is not None and input_price is not None:
                out.cache_savings_usd += quantity * (input_price - price)
        elif kind in _CACHE_WRITES:
            out.cache_write_tokens += tokens
            if price is not None and input_price is not None:
                out.cache_write_premium_usd += quantity * (price - input_price)
        if price is None:
            continue
        if tier == "batch":
            standard = _price(provider, row, kind, "")
            out.batch_tokens += tokens
            out.batch_savings_usd += quantity * (standard - price) if standard is not None else Decimal(0)
        elif tier in _STANDARD and batch_factor != 1:
            out.batch_eligible_usd += quantity * price
            out.batch_potential_savings_usd += quantity * price * (1 - batch_factor)
    return out


def _rows(
    session: Session, org_id: int, since: date, until: date, connection_ids: list[int] | None
) -> Iterable[Any]:
    statement = (
        select(Connection.provider, *PRICING_COLUMNS)
        .join(Connection, Connection.id == UsageFact.connection_id)
        .where(
            UsageFact.org_id == org_id,
            UsageFact.day >= since,
            UsageFact.day <= until,
            UsageFact.stream.not_in(UNPRICED_STREAMS),
            UsageFact.unit == "",
        )
    )
    if connection_ids is not None:
        statement = statement.where(UsageFact.connection_id.in_(connection_ids))
    return session.execute(statement)


def savings(
    session: Session, org_id: int, *, since: date, until: date, connection_ids: list[int] | None = None
) -> dict[str, Any]:
    """Cache and batch savings per provider and model over ``[since, until]``, and their total.

    Returns ``{"since", "until", "currency", "rows": [...], "total": {...}}``; rows are sorted by
    what caching and batching saved, largest first.
    """
    grouped: dict[tuple[str, str], SavingsRow] = {}
    with localcontext() as context:
        context.prec = 60
        for row in _rows(session, org_id, since, until, connection_ids):
            if not is_priced(row.provider, row.stream):
                continue
            found = _row_savings(row.provider, row)
            grouped.setdefault((row.provider, row.model), SavingsRow(row.provider, row.model)).add(found)
    total = SavingsRow("", "Total")
    for row in grouped.values():
        total.add(row)
    ordered = sorted(
        grouped.values(),
        key=lambda r: (
            -(r.cache_savings_usd - r.cache_write_premium_usd + r.batch_savings_usd),
            r.provider,
            r.model,
        ),
    )
    return {
        "currency": "USD",
        "since": since.isoformat(),
        "until": until.isoformat(),
        "rows": [row.as_json() for row in ordered],
        "total": total.as_json(),
    }

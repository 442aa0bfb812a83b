"""List and effective cost of one usage fact, computed exactly.

List cost is each kind's quantity times its list price on the fact's day
(:func:`~aispend.pricing.listprice.unit_price`). Effective cost applies a rate card's terms
(:class:`CardTerms`): an explicit rate for a token kind replaces its standard list price
(the tier, region and context rules still apply), and every other kind is its list cost
less the card's discount. A kind without a price leaves the fact *unpriced*: the priced
kinds still count, the fact is flagged, and nothing is taken as $0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from aispend.pricing.kinds import bucket_of, usage_kinds
from aispend.pricing.listprice import TOKEN_KINDS, rule_factor, unit_price

__all__ = ["CardTerms", "PricedUsage", "price_usage"]

_MILLION = Decimal(1_000_000)
_HUNDRED = Decimal(100)
# Headroom so every product and sum is exact; the store rounds once, to a billionth.
_PRECISION = 60


@dataclass(frozen=True, slots=True)
class CardTerms:
    """A rate card version's terms: percent off list, and explicit USD per million tokens."""

    discount_pct: Decimal = Decimal(0)
    rates: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PricedUsage:
    """``list_usd`` of the priced kinds; ``unpriced`` names kinds that have no list price.

    ``effective_usd`` is the card's price of the fact, None without a card or when some kind
    has neither a list price nor an explicit rate.
    """

    list_usd: Decimal
    unpriced: tuple[str, ...]
    effective_usd: Decimal | None


def price_usage(provider: str, day: date, row: Any, terms: CardTerms | None = None) -> PricedUsage:
    """Price one usage fact (any object with the usage fact's attributes) on ``day``."""
    bucket = bucket_of(row)
    list_usd = Decimal(0)
    effective: Decimal | None = Decimal(0) if terms is not None else None
    unpriced: list[str] = []
    with localcontext() as context:
        context.prec = _PRECISION
        off = (_HUNDRED - terms.discount_pct) / _HUNDRED if terms is not None else Decimal(1)
        for kind, quantity in usage_kinds(provider, row):
            price = unit_price(
                provider,
                bucket.model,
                kind,
                day,
                tier=bucket.tier,
                context=bucket.context,
                geo=bucket.geo,
                product=bucket.product,
            )
            if price is None:
                unpriced.append(kind)
            else:
                list_usd += price.cost(quantity)
            if effective is None or terms is None:
                continue
            rate = terms.rates.get(kind) if kind in TOKEN_KINDS else None
            if rate is not None:
                # An explicit rate is a standard price: the tier, region and context rules apply.
                factor = rule_factor(
                    provider, bucket.model, day, tier=bucket.tier, context=bucket.context, geo=bucket.geo
                )
                effective += quantity * rate / _MILLION * factor
            elif price is not None:
                effective += price.cost(quantity) * off
            else:
                effective = None
    return PricedUsage(list_usd, tuple(unpriced), effective)

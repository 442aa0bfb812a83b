"""The list price of one kind of usage, as a bucket of usage is billed.

A price is resolved per token kind (or non-token kind) and per the bucket's own service
tier, context window, region and product, never from summed tokens:

1. an explicit row of :data:`~aispend.pricing.overrides.PRICE_ROWS` for the kind, else the
   ``genai-prices`` catalog (:mod:`aispend.pricing.catalog`), each tried along the kind's
   fallback chain (image input bills as input unless a price is listed, ...);
2. for token kinds, the tier, region and context rules of
   :data:`~aispend.pricing.overrides.MULTIPLIERS` on top. A context rule replaces the
   catalog's long-context tier; a row written for one service tier replaces the tier rule.

``None`` means unpriced: the usage is counted and flagged, never priced at $0.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Final

from aispend.pricing.catalog import KIND_FALLBACK, catalog_unit_price, list_price_per_mtok
from aispend.pricing.overrides import MULTIPLIERS, PRICE_ROWS, Multiplier, PriceRow

__all__ = ["LONG_CONTEXTS", "TOKEN_KINDS", "Price", "rule_factor", "unit_price"]

TOKEN_KINDS: Final = frozenset(
    {
        "input",
        "output",
        "cache_read",
        "cache_write_5m",
        "cache_write_1h",
        "cache_write",
        "input_audio",
        "output_audio",
        "input_image",
        "output_image",
        "cache_read_audio",
        "cache_read_image",
    }
)
LONG_CONTEXTS: Final = frozenset({"200k-1M", "long"})
"""Context windows billed at a model's long-context tier (Anthropic, Google Cloud)."""

_MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class Price:
    """USD ``base`` per ``per`` units at standard rates, times ``factor`` (tier, region, context).

    ``source`` says where ``base`` came from (``catalog`` or ``override``); ``tiered`` is true
    when ``factor`` already excludes the service tier because ``base`` is that tier's price.
    Prices stay as quoted (per million tokens, per 24 GiB-hours...) so that no division rounds
    before the quantity is known.
    """

    base: Decimal
    factor: Decimal
    source: str
    tiered: bool = False
    per: int = 1

    def cost(self, quantity: Decimal) -> Decimal:
        """The exact price of ``quantity`` units (callers give the context enough precision)."""
        return quantity * self.base * self.factor / self.per

    @property
    def per_unit(self) -> Decimal:
        return self.cost(Decimal(1))


def _matches(pattern: str, model: str) -> bool:
    return fnmatchcase(model.lower(), pattern.lower())


def _row(
    provider: str, model: str, kind: str, day: date, tier: str, context_class: str, product: str
) -> PriceRow | None:
    found = [
        row
        for row in PRICE_ROWS
        if row.provider == provider
        and row.kind == kind
        and row.valid_from <= day
        and row.tier in ("*", tier)
        and row.context in ("*", context_class)
        and row.product in ("*", product)
        and _matches(row.model, model)
    ]
    if not found:
        return None
    # The most specific row wins: its tier, context, product, then the newest, then a literal model.
    return max(
        found,
        key=lambda r: (r.tier != "*", r.context != "*", r.product != "*", r.valid_from, "*" not in r.model),
    )


def _multiplier(provider: str, model: str, dimension: str, value: str, day: date) -> Multiplier | None:
    found = [
        rule
        for rule in MULTIPLIERS
        if rule.provider == provider
        and rule.dimension == dimension
        and rule.value == value
        and rule.valid_from <= day
        and _matches(rule.model, model)
    ]
    return max(found, key=lambda r: (r.model != "*", r.valid_from)) if found else None


def _chain(kind: str) -> list[str]:
    chain = [kind]
    while chain[-1] in KIND_FALLBACK:
        chain.append(KIND_FALLBACK[chain[-1]])
    return chain


def _unit_chain(kind: str) -> list[str]:
    # "web_search:low" falls back to "web_search", "images:1024x1024" has no fallback price.
    base = kind.partition(":")[0]
    return [kind] if base == kind or base == "images" else [kind, base]


@functools.lru_cache(maxsize=1 << 12)
def rule_factor(
    provider: str, model: str, day: date, *, tier: str = "", context: str = "", geo: str = ""
) -> Decimal:
    """The product of the tier, region and context rules that apply to a token bucket."""
    factor = Decimal(1)
    for dimension, value in (("service_tier", tier), ("context_window", context), ("inference_geo", geo)):
        rule = _multiplier(provider, model, dimension, value, day) if value else None
        if rule is not None:
            factor *= rule.factor
    return factor


# Bounded: keys include the day, and a long backfill prices many days.
@functools.lru_cache(maxsize=1 << 16)
def unit_price(
    provider: str,
    model: str,
    kind: str,
    day: date,
    *,
    tier: str = "",
    context: str = "",
    geo: str = "",
    product: str = "",
) -> Price | None:
    """The list price of one unit of ``kind`` used by ``model`` on ``day``; None when unpriced.

    ``tier`` is the bucket's service tier (``batch`` for Batch API usage), ``context`` its
    context window (``200k-1M``, ``long``...), ``geo`` its inference region and ``product``
    the provider product (Google Cloud's ``vertex_ai`` or ``gemini_api``).
    """
    long_context = context in LONG_CONTEXTS
    context_class = "long" if long_context else "short"
    if kind not in TOKEN_KINDS:
        for candidate in _unit_chain(kind):
            row = _row(provider, model, candidate, day, tier, context_class, product)
            if row is not None:
                return Price(row.price, Decimal(1), "override", per=row.per)
            quoted = catalog_unit_price(provider, model, candidate, day)
            if quoted is not None:
                return Price(quoted[0], Decimal(1), "catalog", per=quoted[1])
        return None
    context_rule = _multiplier(provider, model, "context_window", context, day) if context else None
    base: Decimal | None = None
    source, tiered, per = "catalog", False, _MILLION
    for candidate in _chain(kind):
        row = _row(provider, model, candidate, day, tier, context_class, product)
        if row is not None:
            base, source, tiered, per = row.price, "override", row.tier != "*", row.per
            # A row written for long context is that context's whole price.
            context_rule = None if row.context != "*" else context_rule
            break
        per_mtok = (
            list_price_per_mtok(
                provider, model, candidate, day, long_context and context_rule is None, fallback=False
            )
            if model
            else None
        )
        if per_mtok is not None:
            base = per_mtok
            break
    if base is None:
        return None
    factor = Decimal(1)
    rules = [context_rule, _multiplier(provider, model, "inference_geo", geo, day) if geo else None]
    if not tiered and tier:
        rules.append(_multiplier(provider, model, "service_tier", tier, day))
    for rule in rules:
        if rule is not None:
            factor *= rule.factor
    return Price(base, factor, source, tiered, per)

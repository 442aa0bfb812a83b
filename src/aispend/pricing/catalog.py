"""List prices from the ``genai-prices`` catalog, as in force on a given day.

Prices are per million tokens of one token kind (or per unit of a non-token kind).
Aggregated buckets are priced per token kind, never by handing summed tokens to a
per-request calculator (which would apply long-context tiers to the sum): a bucket's own
context window decides its tier. A model the catalog does not know has no price: callers
get ``None`` and must treat the usage as unpriced, never as free.

aispend's provider ids are mapped to the catalog's (Claude Enterprise bills Anthropic's
models, Google Cloud bills Google's), and :data:`~aispend.pricing.overrides.ALIASES` maps
billed model ids the catalog knows by another name.
"""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal
from typing import Any, Final

from genai_prices import data_snapshot

from aispend.pricing.overrides import ALIASES

__all__ = [
    "CATALOG_PROVIDERS",
    "KIND_FALLBACK",
    "SERVICE_TIER_FACTORS",
    "catalog_unit_price",
    "list_price_per_mtok",
    "tier_factor",
]

CATALOG_PROVIDERS: Final = {
    "anthropic": "anthropic",
    "claude_enterprise": "anthropic",
    "openai": "openai",
    "gcp": "google",
}
"""aispend provider id -> genai-prices provider id."""

# token type (see model.TokenType and the modality kinds) -> genai-prices field
_PRICE_FIELDS = {
    "input": "input_mtok",
    "output": "output_mtok",
    "cache_read": "cache_read_mtok",
    "cache_write": "cache_write_mtok",
    "cache_write_5m": "cache_write_mtok",
    "cache_write_1h": "cache_write_1h_mtok",
    "input_audio": "input_audio_mtok",
    "output_audio": "output_audio_mtok",
    "input_image": "input_image_mtok",
    "output_image": "output_image_mtok",
    "cache_read_audio": "cache_audio_read_mtok",
    "cache_read_image": "cache_image_read_mtok",
}
# Where the catalog has no separate price for a kind, the provider bills it as another:
# OpenAI bills cache writes and image tokens at the text price unless it lists one, and
# caches every modality at the cached text price.
KIND_FALLBACK: Final = {
    "cache_write": "input",
    "input_image": "input",
    "output_image": "output",
    "cache_read_image": "cache_read",
    "cache_read_audio": "cache_read",
}
# non-token kind -> (genai-prices field, units its price is quoted per)
_UNIT_FIELDS: dict[str, tuple[str, int]] = {
    "web_search": ("web_searches_kcount", 1000),
    "characters": ("input_mchars", 1_000_000),
    "seconds": ("audio_hours", 3600),
}

SERVICE_TIER_FACTORS: dict[str, Decimal] = {
    "batch": Decimal("0.5"),
    "flex": Decimal("0.5"),
    "priority": Decimal(2),
}
"""The providers' published rules of thumb for tiers the catalog does not date (OpenAI §6)."""


@functools.cache
def _model(provider: str, model: str) -> Any:
    catalog_provider = CATALOG_PROVIDERS.get(provider, provider)
    model = ALIASES.get((provider, model), model)
    try:
        return data_snapshot.get_snapshot().find_provider_model(model, None, catalog_provider, None)[1]
    except LookupError:
        return None


def _prices_on(model: Any, day: date) -> Any:
    prices = model.prices
    if not isinstance(prices, list):
        return prices
    chosen = None
    for conditional in prices:
        start = getattr(conditional.constraint, "start_date", None)
        if start is None or start <= day:
            chosen = conditional.prices
    return chosen


def _field(prices: Any, field: str, long_context: bool) -> Decimal | None:
    value = getattr(prices, field, None)
    if value is None or isinstance(value, Decimal):
        return value
    # TieredPrices: a bucket's context tier decides, never its summed tokens.
    return Decimal(value.tiers[-1].price if long_context and value.tiers else value.base)


def list_price_per_mtok(
    provider: str,
    model: str,
    token_type: str,
    day: date,
    long_context: bool = False,
    *,
    fallback: bool = True,
) -> Decimal | None:
    """USD per million tokens of ``token_type`` for ``model`` on ``day``; None when unpriced.

    With ``fallback`` a kind the catalog has no price for is priced as the kind the provider
    bills it as (:data:`KIND_FALLBACK`); without, only its own field counts.
    """
    info = _model(provider, model) if model else None
    if info is None:
        return None
    prices = _prices_on(info, day)
    if prices is None:
        return None
    kind: str | None = token_type
    while kind is not None:
        field = _PRICE_FIELDS.get(kind)
        value = _field(prices, field, long_context) if field else None
        if value is not None:
            return value
        kind = KIND_FALLBACK.get(kind) if fallback else None
    return None


def catalog_unit_price(provider: str, model: str, kind: str, day: date) -> tuple[Decimal, int] | None:
    """USD per so many units of a non-token ``kind``: ``(10, 1000)`` is $10 per 1,000 web searches."""
    base = kind.partition(":")[0]
    field = _UNIT_FIELDS.get(base)
    info = _model(provider, model) if model and field else None
    prices = _prices_on(info, day) if info is not None else None
    if field is None or prices is None:
        return None
    value = _field(prices, field[0], long_context=False)
    return None if value is None else (value, field[1])


def tier_factor(service_tier: str) -> Decimal:
    """Multiplier on the standard list price for a service tier (1 for standard/default)."""
    return SERVICE_TIER_FACTORS.get(service_tier, Decimal(1))

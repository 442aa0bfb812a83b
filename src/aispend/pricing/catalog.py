"""List prices from the ``genai-prices`` catalog, as in force on a given day.

Prices are per million tokens of one token kind. Aggregated buckets are priced per token
kind, never by handing summed tokens to a per-request calculator (which would apply
long-context tiers to the sum). A model the catalog does not know has no price: callers
get ``None`` and must treat the usage as unpriced, never as free.
"""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal
from typing import Any

from genai_prices import data_snapshot

__all__ = ["SERVICE_TIER_FACTORS", "list_price_per_mtok", "tier_factor"]

# token type (see model.TokenType and the OpenAI modality kinds) -> genai-prices field
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
}
# Where the catalog has no separate price for a kind, the provider bills it as another:
# OpenAI bills cache writes and image input at the input price unless it lists one.
_FALLBACK = {"cache_write": "input", "input_image": "input"}

SERVICE_TIER_FACTORS: dict[str, Decimal] = {
    "batch": Decimal("0.5"),
    "flex": Decimal("0.5"),
    "priority": Decimal(2),
}
"""The providers' published rules of thumb for tiers the catalog does not date (OpenAI §6)."""


@functools.cache
def _model(provider: str, model: str) -> Any:
    try:
        return data_snapshot.get_snapshot().find_provider_model(model, None, provider, None)[1]
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


def list_price_per_mtok(
    provider: str, model: str, token_type: str, day: date, long_context: bool = False
) -> Decimal | None:
    """USD per million tokens of ``token_type`` for ``model`` on ``day``; None when unpriced."""
    info = _model(provider, model) if model else None
    if info is None:
        return None
    prices = _prices_on(info, day)
    if prices is None:
        return None
    kind: str | None = token_type
    while kind is not None:
        field = _PRICE_FIELDS.get(kind)
        value = getattr(prices, field, None) if field else None
        if value is not None:
            if isinstance(value, Decimal):
                return value
            # TieredPrices: a bucket's context tier decides, never its summed tokens.
            return Decimal(value.tiers[-1].price if long_context and value.tiers else value.base)
        kind = _FALLBACK.get(kind)
    return None


def tier_factor(service_tier: str) -> Decimal:
    """Multiplier on the standard list price for a service tier (1 for standard/default)."""
    return SERVICE_TIER_FACTORS.get(service_tier, Decimal(1))

"""Reviewed price data layered over ``genai-prices``: explicit prices, tier rules and aliases.

``genai-prices`` is the list-price catalog (dated, tiered, per token kind). This table holds
what it lacks or what aispend must know differently, each row with the reason in its note:

- :data:`PRICE_ROWS`: an explicit price for one kind of usage of the models a pattern matches,
  from a day on; it wins over the catalog. Token kinds are priced per million tokens, other
  kinds per ``per`` units. A row with ``tier`` ``"*"`` is a standard price that the tier
  rules multiply; a row for one tier is that tier's whole price.
- :data:`MULTIPLIERS`: the providers' published rules for service tiers (batch, flex,
  priority), regions and long context, applied to token prices. The catalog dates tier
  prices only from the day it learned them, so tiers are priced by these rules throughout.
- :data:`ALIASES`: model ids a provider bills under that the catalog knows by another id.

Rows marked "simulator" carry the figure a simulator bills where no published price was
checked here, so that list cost computed from simulated usage equals the simulated bill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final, Literal

__all__ = ["ALIASES", "MULTIPLIERS", "PRICE_ROWS", "Multiplier", "PriceRow"]

MILLION: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class PriceRow:
    """USD per ``per`` units of ``kind`` for models matching ``model`` (an ``fnmatch`` pattern)."""

    provider: str
    model: str
    kind: str
    price: Decimal
    per: int = MILLION
    valid_from: date = date.min
    tier: str = "*"
    context: str = "*"
    product: str = "*"
    note: str = ""


@dataclass(frozen=True, slots=True)
class Multiplier:
    """A factor on token prices where a usage dimension has ``value``, from ``valid_from`` on."""

    provider: str
    model: str
    dimension: Literal["service_tier", "context_window", "inference_geo"]
    value: str
    factor: Decimal
    valid_from: date = date.min
    note: str = ""


def _p(provider: str, model: str, kind: str, price: str, per: int = MILLION, **extra: str) -> PriceRow:
    return PriceRow(provider, model, kind, Decimal(price), per, **extra)  # type: ignore[arg-type]


HALF: Final = Decimal("0.5")

MULTIPLIERS: Final[tuple[Multiplier, ...]] = (
    Multiplier("anthropic", "*", "service_tier", "batch", HALF, note="Batch API: 50% off every token kind"),
    Multiplier(
        "anthropic",
        "*",
        "service_tier",
        "priority",
        Decimal(1),
        note="Priority Tier is bought as committed capacity and is absent from the cost report; "
        "its tokens count at standard list rates",
    ),
    Multiplier("anthropic", "*", "inference_geo", "us", Decimal("1.1"), note="US-only inference, 4.6+"),
    Multiplier("claude_enterprise", "*", "inference_geo", "us", Decimal("1.1"), note="as Anthropic"),
    Multiplier(
        "claude_enterprise",
        "*",
        "context_window",
        "200k-1M",
        Decimal(2),
        note="simulator: Claude Enterprise bills every token of a long-context request double",
    ),
    Multiplier(
        "claude_enterprise",
        "claude-opus-4-6*",
        "service_tier",
        "fast",
        Decimal(6),
        note="fast mode of Opus 4.6: $30 in / $150 out (Enterprise keeps speed in service_tier)",
    ),
    Multiplier("openai", "*", "service_tier", "batch", HALF, note="Batch API"),
    Multiplier("openai", "*", "service_tier", "flex", HALF, note="Flex processing"),
    Multiplier(
        "openai",
        "*",
        "service_tier",
        "priority",
        Decimal(2),
        note="reference §6 rule of thumb, as the simulator bills it; gpt-4o/4.1 publish about 1.7x",
    ),
    Multiplier("gcp", "*", "service_tier", "batch", HALF, note="Vertex AI batch prediction"),
    Multiplier("gcp", "*", "service_tier", "flex", HALF, note="Flex PayGo"),
    Multiplier("gcp", "*", "service_tier", "priority", Decimal("1.8"), note="Priority PayGo"),
)

ALIASES: Final[dict[tuple[str, str], str]] = {
    # The billing export names the GA model; the catalog lists it under its preview id.
    ("gcp", "gemini-3-flash"): "gemini-3-flash-preview",
}

_WEB_SEARCH_BY_CONTEXT = tuple(
    _p("openai", pattern, f"web_search:{level}", price, per=1, note="search-preview models, per call")
    for pattern in ("gpt-4o*", "gpt-4.1*")
    for level, price in (("low", "0.025"), ("medium", "0.0275"), ("high", "0.03"))
)

PRICE_ROWS: Final[tuple[PriceRow, ...]] = (
    # OpenAI
    _p("openai", "omni-moderation-*", "input", "0", note="moderations are free"),
    _p("openai", "text-moderation-*", "input", "0", note="moderations are free"),
    _p("openai", "dall-e-3", "images:1024x1024", "0.04", per=1, note="standard quality, per image"),
    _p("openai", "dall-e-3", "images:1024x1792", "0.08", per=1, note="standard quality, per image"),
    _p("openai", "dall-e-3", "images:1792x1024", "0.08", per=1, note="standard quality, per image"),
    _p("openai", "dall-e-2", "images:1024x1024", "0.02", per=1, note="per image"),
    _p("openai", "dall-e-2", "images:512x512", "0.018", per=1, note="per image"),
    _p("openai", "dall-e-2", "images:256x256", "0.016", per=1, note="per image"),
    *_WEB_SEARCH_BY_CONTEXT,
    _p("openai", "*", "file_search", "0.0025", per=1, note="file search tool, per call"),
    _p("openai", "*", "code_interpreter", "0.03", per=1, note="code interpreter, per session"),
    _p("openai", "*", "vector_store", "0.10", per=24, note="$0.10 per GiB-day, usage in GiB-hours"),
    _p(
        "openai",
        "gpt-image-1",
        "cache_read_image",
        "1.25",
        note="simulator: cached image input at the cached text price (genai-prices lists 2.50)",
    ),
    # Google Cloud
    _p(
        "gcp",
        "gemini-2.5-flash",
        "cache_read",
        "0.075",
        product="gemini_api",
        note="Gemini API context caching (the catalog carries Vertex AI's 0.03)",
    ),
    _p(
        "gcp",
        "gemini-2.0-flash",
        "input",
        "0.30",
        context="long",
        product="vertex_ai",
        note="simulator: Vertex AI 'Text Input (Long)' SKU",
    ),
    _p("gcp", "*", "grounding", "35", per=1000, note="grounding with Google Search, per 1,000 prompts"),
    _p("gcp", "*", "cache_storage", "1", note="context cache storage, per million token-hours"),
)

"""List prices of the simulated models and the arithmetic that turns usage into cost.

``LIST_PRICES`` is reference §7 written out as data; :func:`price_per_mtok` stacks the
cache, batch, long-context and US-geo multipliers on top of it, and :func:`price_usage`
bills one day of :class:`~aispend.providers.anthropic.simrows.UsageRow` at those prices, so
the simulated cost report agrees with the usage report to the sixth decimal place of a cent.
:func:`estimated_cost_cents` is the cruder whole-cent estimate the Claude Code report shows.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import cast

from aispend.providers.anthropic.simrows import CostRow, UsageRow

__all__ = [
    "CENT_QUANTUM",
    "LIST_PRICES",
    "NO_SHAPE",
    "TOKEN_TYPES",
    "ModelPrice",
    "cost_description",
    "estimated_cost_cents",
    "price_per_mtok",
    "price_usage",
]

CENT_QUANTUM = Decimal("0.000001")


@dataclass(frozen=True)
class ModelPrice:
    """List prices in USD per million tokens (reference §7)."""

    model: str
    display_name: str
    input: Decimal
    output: Decimal
    geo_selectable: bool  # 4.6+ models: inference_geo "global"/"us" instead of "not_available"
    long_context_input: Decimal | None = None
    long_context_output: Decimal | None = None


LIST_PRICES: dict[str, ModelPrice] = {
    p.model: p
    for p in (
        ModelPrice("claude-opus-4-6", "Claude Opus 4.6", Decimal(5), Decimal(25), True),
        ModelPrice("claude-sonnet-4-6", "Claude Sonnet 4.6", Decimal(3), Decimal(15), True),
        ModelPrice(
            "claude-sonnet-4-5-20250929",
            "Claude Sonnet 4.5",
            Decimal(3),
            Decimal(15),
            False,
            long_context_input=Decimal(6),
            long_context_output=Decimal("22.50"),
        ),
        ModelPrice("claude-haiku-4-5-20251001", "Claude Haiku 4.5", Decimal(1), Decimal(5), False),
        ModelPrice("claude-opus-4-1-20250805", "Claude Opus 4.1", Decimal(15), Decimal(75), False),
    )
}

# (cost-report token_type, usage-row field, description suffix)
TOKEN_TYPES: tuple[tuple[str, str, str], ...] = (
    ("uncached_input_tokens", "uncached_input_tokens", "Input Tokens"),
    ("output_tokens", "output_tokens", "Output Tokens"),
    ("cache_creation.ephemeral_5m_input_tokens", "cache_creation_5m", "Input Tokens, Cache Write"),
    (
        "cache_creation.ephemeral_1h_input_tokens",
        "cache_creation_1h",
        "Input Tokens, Cache Write (1h)",
    ),
    ("cache_read_input_tokens", "cache_read_input_tokens", "Input Tokens, Cache Hit"),
)
_INPUT_MULTIPLIER = {
    "uncached_input_tokens": Decimal(1),
    "cache_creation.ephemeral_5m_input_tokens": Decimal("1.25"),
    "cache_creation.ephemeral_1h_input_tokens": Decimal(2),
    "cache_read_input_tokens": Decimal("0.1"),
}
# Where each token type's count sits in a UsageRow, so billing a row needs no getattr.
_TOKEN_INDEX: tuple[tuple[str, int], ...] = tuple(
    (token_type, UsageRow._fields.index(field)) for token_type, field, _ in TOKEN_TYPES
)
NO_SHAPE = (None, None, None, None, None)  # model and token fields of a non-token cost


@functools.cache
def price_per_mtok(
    model: str, token_type: str, service_tier: str, context_window: str, inference_geo: str
) -> Decimal:
    """Effective USD per million tokens after every stacking multiplier."""
    info = LIST_PRICES[model]
    base_in, base_out = info.input, info.output
    if context_window == "200k-1M" and info.long_context_input and info.long_context_output:
        base_in, base_out = info.long_context_input, info.long_context_output
    price = base_out if token_type == "output_tokens" else base_in * _INPUT_MULTIPLIER[token_type]
    if service_tier == "batch":
        price *= Decimal("0.5")
    if inference_geo == "us":
        price *= Decimal("1.1")
    return price


@functools.cache
def _cents_per_token(model: str, token_type: str, tier: str, ctx: str, geo: str) -> Decimal:
    return price_per_mtok(model, token_type, tier, ctx, geo).scaleb(-4)  # $/MTok -> cents/token, exact


@functools.cache
def cost_description(
    model: str, token_type: str, service_tier: str, context_window: str, inference_geo: str
) -> str:
    """Billing line name; qualifiers keep every priced combination on its own line."""
    suffix = next(s for t, _, s in TOKEN_TYPES if t == token_type)
    text = f"{LIST_PRICES[model].display_name} Usage - {suffix}"
    if service_tier == "batch":
        text += ", Batch"
    if context_window == "200k-1M":
        text += ", Long Context"
    if inference_geo == "us":
        text += ", US"
    return text


def price_usage(day: date, usage: list[UsageRow]) -> list[CostRow]:
    """Token and web-search cost rows of one day's usage, one per workspace and description.

    Rows come out in first-seen order, unsorted: the caller adds the costs that have no
    usage counterpart and sorts once.
    """
    tokens: dict[tuple[str | None, str, str, str, str, str], int] = defaultdict(int)
    searches: dict[str | None, int] = defaultdict(int)
    for row in usage:
        shape = (row.workspace_id, row.model, row.service_tier, row.context_window, row.inference_geo)
        for token_type, index in _TOKEN_INDEX:
            value = cast(int, row[index])
            if value:
                tokens[(*shape, token_type)] += value
        if row.web_search_requests:
            searches[row.workspace_id] += row.web_search_requests
    out: list[CostRow] = []
    with localcontext() as ctx:
        # Headroom so each product is exact and the quantize below is the only rounding.
        ctx.prec = 50
        for (ws, model, tier, cw, geo, token_type), count in tokens.items():
            cents = count * _cents_per_token(model, token_type, tier, cw, geo)
            amount = cents.quantize(CENT_QUANTUM, rounding=ROUND_HALF_EVEN)
            description = cost_description(model, token_type, tier, cw, geo)
            out.append(CostRow(day, ws, description, "tokens", model, token_type, tier, cw, geo, amount))
    for ws, count in searches.items():
        # $10 per 1,000 searches is exactly one cent per search.
        amount = Decimal(count).quantize(CENT_QUANTUM)
        out.append(CostRow(day, ws, "Web Search Usage", "web_search", *NO_SHAPE, amount))
    return out


def estimated_cost_cents(model: str, tokens: dict[str, int]) -> int:
    """Whole US cents the Claude Code report estimates for one model's tokens.

    List input and output prices with the 0.1x cache-read and 1.25x cache-write
    multipliers, rounded half-even to whole cents once, at the end.
    """
    info = LIST_PRICES[model]
    dollars = (
        tokens["input"] * info.input
        + tokens["output"] * info.output
        + tokens["cache_read"] * info.input * Decimal("0.1")
        + tokens["cache_creation"] * info.input * Decimal("1.25")
    ) / 1_000_000
    return int((dollars * 100).to_integral_value(ROUND_HALF_EVEN))

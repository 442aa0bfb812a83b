"""Normalised records: the contract between connectors, the store and reports.

Connectors turn provider pages into these records; the store upserts them; reports
read them back. Nothing here knows about HTTP or SQL.

Conventions:
- ``day`` is a UTC calendar day; a record covers the half-open period ``[day, day+1)``.
- A dimension the provider leaves out (the Default workspace, Console usage without
  an API key, an ungrouped field) is the empty string ``""``, never ``None``, so that
  natural keys compare equal in every database.
- Money is ``Decimal`` US dollars at full provider precision; rounding to the stored
  precision happens once, in the store, and display rounding happens once, at display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Final, Literal

__all__ = [
    "MONEY_QUANTUM",
    "NONE",
    "OVERLAPPING_STREAMS",
    "USAGE_UNITS",
    "CostMethod",
    "CostRecord",
    "DirectoryEntry",
    "TokenType",
    "UsageRecord",
    "cents_to_dollars",
]

OVERLAPPING_STREAMS: Final = frozenset(
    {
        "claude_code",
        "enterprise_user_usage",
        "enterprise_user_cost",
        "enterprise_group_cost",
        "codex_model_usage",
    }
)
"""Streams that describe usage or cost another stream already counts, per person, group or
model (Claude Code runs on API keys whose usage the messages report includes; Claude
Enterprise's per-user and per-group reports split its organisation report; Codex's
per-model rows split its per-user rows): shown on their own, never summed in."""

NONE: Final = ""
"""The value of a dimension the provider did not report."""

MONEY_QUANTUM: Final = Decimal("0.000000001")
"""Stored precision of money: one billionth of a dollar (a ten-millionth of a cent)."""

TokenType = Literal[
    "input",
    "output",
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
]


CostMethod = Literal["reported", "parsed_line_item", "allocated"]
"""How a cost figure was obtained: as the provider reported it; with its model and token kind
read from the provider's line-item text; or split from a coarser reported cost by usage."""

USAGE_UNITS: Final = ("images", "characters", "seconds", "gibibyte_hours", "sessions", "calls")
"""Units of non-token usage. Storage is kept in GiB-hours, the unit OpenAI bills it in: byte-hours
of a year of terabytes would not fit a 64-bit count at the stored precision."""


def cents_to_dollars(cents: str | Decimal) -> Decimal:
    """Convert a provider amount in cents (a decimal string such as ``"123.78912"``) to dollars.

    Exact: shifting the decimal point never rounds.
    """
    value = Decimal(cents)
    if not value.is_finite():
        raise ValueError(f"amount is not a finite number: {cents!r}")
    return value.scaleb(-2)


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """Token usage of one group of requests on one day.

    ``stream`` names the provider report the record came from (for Anthropic,
    ``"messages"`` or ``"claude_code"``); records of different streams are never
    summed together because they can describe the same requests.
    """

    day: date
    stream: str
    model: str = NONE
    workspace_id: str = NONE
    api_key_id: str = NONE
    user_id: str = NONE
    service_tier: str = NONE
    context_window: str = NONE
    inference_geo: str = NONE
    input_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    # Cache writes whose lifetime the provider does not say (Claude Code reports one number).
    cache_write_other_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    web_search_requests: int = 0
    # The provider's own estimate, when the report carries one (Claude Code); never the bill.
    estimated_cost_usd: Decimal = Decimal(0)
    # What the usage was of (``api``, ``claude_code``, ``chat``, ``codex``...), when a provider says.
    product: str = NONE
    # ``"true"``/``"false"`` where the provider reports the Batch API as its own dimension (OpenAI).
    batch: str = NONE
    # The finer kind of a non-token quantity: image size and source, web search context level.
    variant: str = NONE
    # Non-token usage: ``quantity`` of ``unit`` (see :data:`USAGE_UNITS`); ``""`` for token rows.
    unit: str = NONE
    quantity: Decimal = Decimal(0)
    requests: int = 0
    # Per-modality splits, kept as the provider reports them; they are parts of the totals above,
    # never added to them (``input_text_tokens`` is part of ``input_tokens``, and so on).
    input_text_tokens: int = 0
    input_cached_text_tokens: int = 0
    input_audio_tokens: int = 0
    input_cached_audio_tokens: int = 0
    input_image_tokens: int = 0
    input_cached_image_tokens: int = 0
    output_text_tokens: int = 0
    output_audio_tokens: int = 0
    output_image_tokens: int = 0
    # Thinking tokens, where a provider splits them out; part of ``output_tokens``.
    reasoning_tokens: int = 0
    # Seat-plan credits (Codex); priced by the connection's contract rate, never summed as dollars.
    credits: Decimal = Decimal(0)

    @property
    def cache_write_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens + self.cache_write_other_tokens


@dataclass(frozen=True, slots=True)
class CostRecord:
    """One line of a provider's cost report on one day, in US dollars.

    ``token_type`` is normalised to :data:`TokenType` for token costs and ``""`` for
    other costs; ``cost_type`` keeps the provider's own category (``tokens``,
    ``web_search``, ``code_execution``, ``session_usage``...).
    """

    day: date
    amount_usd: Decimal
    workspace_id: str = NONE
    description: str = NONE
    cost_type: str = NONE
    model: str = NONE
    token_type: str = NONE
    service_tier: str = NONE
    context_window: str = NONE
    inference_geo: str = NONE
    currency: str = "USD"
    stream: str = "cost"
    api_key_id: str = NONE
    user_id: str = NONE
    product: str = NONE
    # A provider's stable id of the priced item (a Google Cloud SKU id).
    sku_id: str = NONE
    # The amount in ``currency`` when that is not USD (``None``: the same as ``amount_usd``),
    # and the provider's rate from USD to it.
    amount: Decimal | None = None
    conversion_rate: Decimal | None = None
    # What the same usage costs at list price, when the provider says (before discounts).
    list_amount_usd: Decimal | None = None
    quantity: Decimal | None = None
    unit: str = NONE
    method: CostMethod = "reported"


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """A provider id and the human name it stands for (workspace, API key, user)."""

    kind: Literal["workspace", "api_key", "user"]
    provider_id: str
    name: str
    attributes: dict[str, str] = field(default_factory=dict)

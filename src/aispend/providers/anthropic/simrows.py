"""Finest-grain record shapes of the simulated organisation: one usage row, one cost row.

A :class:`UsageRow` is one (day, workspace, key, model, tier, context window, geo) group of
token counts; a :class:`CostRow` is one (day, workspace, billing description) amount. The
report routes aggregate these, and the ground-truth accessors sum them, so both sides read
the very same tuples.

They are ``NamedTuple`` rather than dataclasses because a year of history holds tens of
thousands of them and the report routes slice them positionally (``row[7:]`` is the
counts), which tuples make cheap.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple

__all__ = ["CostRow", "UsageRow"]


class UsageRow(NamedTuple):
    """Token counts of one finest-grain usage group on one day.

    The first seven fields say which group it is and the last six are its counts; code that
    scales or sums rows slices at ``7``, so keep that split when adding fields.
    """

    day: date
    workspace_id: str | None
    api_key_id: str | None
    model: str
    service_tier: str
    context_window: str
    inference_geo: str
    uncached_input_tokens: int
    cache_creation_5m: int
    cache_creation_1h: int
    cache_read_input_tokens: int
    output_tokens: int
    web_search_requests: int


class CostRow(NamedTuple):
    """Cents billed on one day for one workspace and billing description."""

    day: date
    workspace_id: str | None
    description: str
    cost_type: str
    model: str | None
    token_type: str | None
    service_tier: str | None
    context_window: str | None
    inference_geo: str | None
    amount_cents: Decimal

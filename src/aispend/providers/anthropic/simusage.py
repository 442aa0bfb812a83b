"""Seeded generator of one day's finest-grain usage rows for the simulated organisation.

Each API key (and the key-less Console traffic) has a :class:`KeyProfile`: which models it
uses, how many dollars a day it spends and its token habits. :func:`generate_usage` turns
the profiles into one day of :class:`~aispend.providers.anthropic.simrows.UsageRow` from a
``random.Random`` seeded with ``(seed, day)``, then replays ``version`` restatements on top,
so any day and any revision of it can be produced on its own and in any order.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from datetime import date

from aispend.providers.anthropic.simprices import LIST_PRICES, TOKEN_TYPES, price_per_mtok
from aispend.providers.anthropic.simrows import UsageRow

__all__ = ["KeyProfile", "generate_usage", "key_ratios"]


@dataclass(frozen=True)
class KeyProfile:
    """How one API key (``api_key_id`` None: the Console) spends, from its first day on."""

    api_key_id: str | None
    workspace_id: str | None
    models: tuple[tuple[str, float], ...]
    budget: float
    flags: str
    first_day: date
    stop_day: date | None
    ratios: tuple[float, float, float, float]  # output, cache read, 5m write, 1h write per input


def key_ratios(rng: random.Random, flags: str) -> tuple[float, float, float, float]:
    """A key's habits: output, cache read, 5m write and 1h write tokens per uncached input token."""
    one_hour = rng.uniform(0.02, 0.1) if "h" in flags else 0.0
    return rng.uniform(0.12, 0.35), rng.uniform(0.5, 5.0), rng.uniform(0.05, 0.3), one_hour


def _day_factor(day: date, today: date) -> float:
    age = (today - day).days
    growth = 1.6 - 0.6 * age / 365  # +60% over the last year, linear
    if age == 20:
        return 4.0 * growth  # the incident day the demo's anomaly view should catch
    return growth * (0.4 if day.weekday() >= 5 else 1.0)


def generate_usage(
    seed: int, day: date, version: int, today: date, profiles: list[KeyProfile]
) -> list[UsageRow]:
    """Usage of ``day`` as revised ``version`` times; a pure function of its arguments."""
    rng = random.Random(f"{seed}:{day.toordinal()}:0")
    factor = _day_factor(day, today)
    presence = 0.8 if day.weekday() >= 5 else 0.95
    rows: list[UsageRow] = []
    for prof in profiles:
        if day < prof.first_day or (prof.stop_day is not None and day >= prof.stop_day):
            continue
        key_budget = prof.budget * factor * rng.uniform(0.8, 1.2)
        for model, weight in prof.models:
            for tier, ctx, geo, share in _row_shapes(model, prof.flags):
                if rng.random() > presence:
                    continue
                dollars = key_budget * weight * share * rng.uniform(0.85, 1.15)
                rows.append(_usage_row(rng, day, prof, (model, tier, ctx, geo), dollars))
    # Each revision has its own stream, so revision k is the same whichever version is asked.
    for k in range(1, version + 1):
        rows = _restated(random.Random(f"{seed}:{day.toordinal()}:{k}"), rows)
    return rows


def _restated(rng: random.Random, rows: list[UsageRow]) -> list[UsageRow]:
    """A late correction: every group grows a few percent and one group disappears."""
    if not rows:
        return rows
    dropped = rng.randrange(len(rows))
    out: list[UsageRow] = []
    for i, row in enumerate(rows):
        if i == dropped:
            continue
        grow = rng.uniform(1.04, 1.10)
        out.append(UsageRow(*row[:7], *(int(v * grow) for v in row[7:])))
    return out


_Shape = tuple[str, str, str, str]  # model, service tier, context window, inference geo


@functools.cache
def _row_shapes(model: str, flags: str) -> tuple[tuple[str, str, str, float], ...]:
    """The (tier, context window, geo, budget share) combinations a key spreads a model over."""
    info = LIST_PRICES[model]
    tiers = [("standard", 0.6), ("batch", 0.4)] if "b" in flags else [("standard", 1.0)]
    ctxs = (
        [("0-200k", 0.75), ("200k-1M", 0.25)]
        if "l" in flags and model.startswith("claude-sonnet")
        else [("0-200k", 1.0)]
    )
    if not info.geo_selectable:
        geos = [("not_available", 1.0)]
    elif "u" in flags:
        geos = [("us", 0.7), ("global", 0.3)]
    else:
        geos = [("global", 1.0)]
    return tuple((t, c, g, ts * cs * gs) for t, ts in tiers for c, cs in ctxs for g, gs in geos)


_UNIT_PRICES: dict[tuple[str, str, str, str], tuple[float, ...]] = {}


def _unit_prices(model: str, tier: str, ctx: str, geo: str) -> tuple[float, ...]:
    """Float dollars per token in TOKEN_TYPES order; only used to size token counts."""
    key = (model, tier, ctx, geo)
    if key not in _UNIT_PRICES:
        _UNIT_PRICES[key] = tuple(
            float(price_per_mtok(model, t, tier, ctx, geo)) / 1e6 for t, _, _ in TOKEN_TYPES
        )
    return _UNIT_PRICES[key]


def _usage_row(rng: random.Random, day: date, prof: KeyProfile, shape: _Shape, dollars: float) -> UsageRow:
    """One finest-grain row whose list-price cost is about ``dollars``."""
    model, tier, ctx, geo = shape
    uniform = rng.uniform
    r_out, r_read, r_5m, r_1h = prof.ratios
    r_out, r_read = r_out * uniform(0.8, 1.2), r_read * uniform(0.8, 1.2)
    r_5m, r_1h = r_5m * uniform(0.8, 1.2), r_1h * uniform(0.8, 1.2)
    if ctx == "200k-1M":
        r_out *= 0.3  # huge prompts, short answers
    p_in, p_out, p_5m, p_1h, p_read = _unit_prices(model, tier, ctx, geo)
    unit = p_in + p_out * r_out + p_5m * r_5m + p_1h * r_1h + p_read * r_read
    uncached = max(1, int(dollars / unit))
    tokens = (int(uncached * r_5m), int(uncached * r_1h), int(uncached * r_read), int(uncached * r_out))
    searches = int(dollars * uniform(1.0, 3.0)) if "w" in prof.flags and tier == "standard" else 0
    return UsageRow(day, prof.workspace_id, prof.api_key_id, *shape, uncached, *tokens, searches)

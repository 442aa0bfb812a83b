"""Rebuild the split of reported cost down to API key, user and model, for whole days.

Run in the same transaction as every write of a day's usage or cost, so the stored split
always matches the stored facts, whatever order the streams arrive in.

Each cost line is matched to the usage that explains it: the same day and workspace, and
the API key, model, billed service tier and finer kind where the line names them. When no
usage matches at that grain the match is widened (tier, then model, then key). The line is
then split over the matching usage in proportion to the usage measure it bills (its
``basis``): tokens of its kind, calls, images, seconds... A line without a model (OpenAI's
model-less items) is split in proportion to *priced* usage: tokens times each model's list
price for that kind and tier, so a costly model takes its larger share. A line that matches
nothing stays whole as ``unallocated``; a line that matches a single usage group at its own
grain keeps the method it was reported with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from aispend.model import MONEY_QUANTUM, OVERLAPPING_STREAMS
from aispend.pricing.allocate import allocate
from aispend.pricing.catalog import list_price_per_mtok, tier_factor
from aispend.store.facts import insert_rows
from aispend.store.schema import AllocatedCost, CostFact, UsageFact

__all__ = ["UNALLOCATED", "reallocate_days"]

UNALLOCATED = "unallocated"
"""API-key id given to cost no usage can explain (code execution, usage not yet reported)."""

_QUANTITY_UNITS = Decimal(1) / MONEY_QUANTUM  # quantities are stored to 1e-9: scale to whole units


@dataclass(frozen=True, slots=True)
class _Usage:
    """One usage group of a day: who used what, and every measure a cost line may bill."""

    stream: str
    workspace: str
    api_key: str
    user: str
    model: str
    tier: str
    context_window: str
    inference_geo: str
    variant: str
    weights: dict[str, int]


def _tokens(row: Any) -> dict[str, int]:
    return {
        # Uncached input and output less their audio and image parts: what "input"/"output" bill.
        "input": row.input_tokens - row.input_audio_tokens - row.input_image_tokens,
        "output": row.output_tokens - row.output_audio_tokens - row.output_image_tokens,
        "cache_read": row.cache_read_tokens,
        "cache_write_5m": row.cache_write_5m_tokens,
        "cache_write_1h": row.cache_write_1h_tokens,
        "cache_write": row.cache_write_other_tokens,
        "input_audio": row.input_audio_tokens,
        "output_audio": row.output_audio_tokens,
        "input_image": row.input_image_tokens,
        "output_image": row.output_image_tokens,
        "web_search": row.web_search_requests,
    }


# usage stream of non-token usage -> the cost type its quantity explains
_QUANTITY_STREAMS = {
    "web_search_calls": "web_search",
    "file_search_calls": "file_search",
    "code_interpreter_sessions": "code_interpreter",
    "vector_stores": "vector_store",
    "images": "images",
    "audio_speeches": "audio_speech",
    "audio_transcriptions": "audio_transcription",
}
_SELF_NAMED_STREAMS = frozenset({"embeddings", "moderations"})
_TOKEN_BASES = frozenset(
    (
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
    )
)


_USAGE_COLUMNS = [
    getattr(UsageFact, name)
    for name in (
        "day",
        "stream",
        "workspace_id",
        "api_key_id",
        "user_id",
        "model",
        "service_tier",
        "batch",
        "context_window",
        "inference_geo",
        "variant",
        "unit",
        "quantity",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_5m_tokens",
        "cache_write_1h_tokens",
        "cache_write_other_tokens",
        "input_audio_tokens",
        "output_audio_tokens",
        "input_image_tokens",
        "output_image_tokens",
        "web_search_requests",
    )
]
_COST_COLUMNS = [
    getattr(CostFact, name)
    for name in (
        "day",
        "workspace_id",
        "api_key_id",
        "model",
        "cost_type",
        "token_type",
        "service_tier",
        "context_window",
        "inference_geo",
        "method",
        "amount_usd",
    )
]


def _tier_class(service_tier: str, batch: str, billed_tiers: frozenset[str]) -> str:
    if batch == "true" or service_tier == "batch":
        return "batch"
    # Tiers the provider's cost report does not bill apart (Anthropic priority) count as standard.
    return service_tier if service_tier in billed_tiers else "standard"


def _basis(cost: Any) -> str:
    if cost.token_type and cost.cost_type in ("tokens", ""):
        return str(cost.token_type)
    return str(cost.cost_type)


class _DayUsage:
    """A connection's usage of one day, searchable by the dimensions a cost line names."""

    def __init__(self, provider: str, day: date, rows: Sequence[_Usage]) -> None:
        self.provider = provider
        self.day = day
        self.by_basis: dict[tuple[str, str], list[_Usage]] = defaultdict(list)
        for usage in rows:
            for basis in usage.weights:
                self.by_basis[(usage.workspace, basis)].append(usage)

    def candidates(
        self, cost: Any, basis: str, billed_tiers: frozenset[str], keys_reported: bool
    ) -> tuple[list[_Usage], bool]:
        """The usage a line is split over, and whether the match kept every dimension it names."""
        tier = (
            cost.service_tier
            if cost.service_tier in billed_tiers or cost.service_tier == "batch"
            else "standard"
        )
        # A tool line's token_type is the kind of call (a search's context level).
        variant = cost.token_type if basis not in _TOKEN_BASES else ""
        pool = self.by_basis.get((cost.workspace_id, basis), [])
        if not cost.model and basis in _TOKEN_BASES:
            # Embeddings and moderations always bill under their model's name: a token line
            # without one is language-model usage.
            pool = [usage for usage in pool if usage.stream not in _SELF_NAMED_STREAMS]
        # A line names its model for good: it is never spread over other models. Its billed
        # tier, context window and region are matched first, then let go together.
        levels = [
            (by_key, by_tier)
            # Where the cost report names keys, a line without one is usage without a key.
            for by_key in ((True,) if keys_reported else (True, False) if cost.api_key_id else (False,))
            for by_tier in ((True, False) if cost.model else (False,))
        ]
        for level, (by_key, by_tier) in enumerate(levels):
            found = [
                usage
                for usage in pool
                if (not by_key or usage.api_key == cost.api_key_id)
                and (not cost.model or usage.model == cost.model)
                and (
                    not by_tier
                    or (usage.tier, usage.context_window, usage.inference_geo)
                    == (tier, cost.context_window, cost.inference_geo)
                )
                and (not variant or usage.variant == variant)
            ]
            if found:
                return found, level == 0
        return [], False

    def weight(self, usage: _Usage, basis: str, priced: bool) -> int:
        amount = usage.weights[basis]
        if not priced:
            return amount
        price = list_price_per_mtok(self.provider, usage.model, basis, self.day)
        if price is None:
            return 0
        # Whole billionths of a dollar per million tokens: exact integers for allocate().
        return int(amount * price * tier_factor(usage.tier) * _QUANTITY_UNITS)


def _split(
    day_usage: _DayUsage, cost: Any, billed_tiers: frozenset[str], keys_reported: bool
) -> list[tuple[_Usage | None, Decimal, bool]]:
    basis = _basis(cost)
    found, exact = day_usage.candidates(cost, basis, billed_tiers, keys_reported)
    if not found:
        return [(None, cost.amount_usd, False)]
    priced = not cost.model and basis in _TOKEN_BASES
    weights = {index: day_usage.weight(usage, basis, priced) for index, usage in enumerate(found)}
    if priced and not any(weights.values()):
        # No model here has a list price: tokens are the only fair measure left.
        weights = {index: usage.weights[basis] for index, usage in enumerate(found)}
    shares = allocate(cost.amount_usd, weights)
    single = exact and len(found) == 1
    return [(found[index], amount, single) for index, amount in shares.items()]


def _usage_rows(
    session: Session, org_id: int, connection_id: int, days: list[date], billed_tiers: frozenset[str]
) -> dict[date, list[_Usage]]:
    rows = session.execute(
        select(*_USAGE_COLUMNS).where(
            UsageFact.org_id == org_id,
            UsageFact.connection_id == connection_id,
            UsageFact.day.in_(days),
            UsageFact.stream.not_in(OVERLAPPING_STREAMS),
        )
    )
    out: dict[date, list[_Usage]] = defaultdict(list)
    for row in rows:
        weights = _tokens(row) if not row.unit else {}
        quantity_type = _QUANTITY_STREAMS.get(row.stream)
        if quantity_type:
            weights[quantity_type] = int(row.quantity * _QUANTITY_UNITS)
        weights = {name: value for name, value in weights.items() if value > 0}
        if weights:
            tier = _tier_class(row.service_tier, row.batch, billed_tiers)
            usage = _Usage(
                row.stream,
                row.workspace_id,
                row.api_key_id,
                row.user_id,
                row.model,
                tier,
                row.context_window,
                row.inference_geo,
                row.variant,
                weights,
            )
            out[row.day].append(usage)
    return out


def reallocate_days(
    session: Session,
    *,
    org_id: int,
    connection_id: int,
    days: Iterable[date],
    provider: str,
    billed_tiers: frozenset[str] = frozenset(),
    keys_reported: bool = False,
) -> None:
    """Replace the allocated cost of ``days`` with a fresh split of their cost facts.

    ``billed_tiers`` are the service tiers the provider's cost report bills as their own
    lines (besides batch), so that usage of those tiers explains only those lines;
    ``keys_reported`` says the cost report names each line's API key (see ``Connector``).
    """
    day_list = sorted(set(days))
    if not day_list:
        return
    session.execute(
        delete(AllocatedCost).where(
            AllocatedCost.org_id == org_id,
            AllocatedCost.connection_id == connection_id,
            AllocatedCost.day.in_(day_list),
        )
    )
    costs = session.execute(
        select(*_COST_COLUMNS).where(
            CostFact.org_id == org_id,
            CostFact.connection_id == connection_id,
            CostFact.day.in_(day_list),
            CostFact.stream.not_in(OVERLAPPING_STREAMS),
        )
    ).all()
    if not costs:
        return
    usage = _usage_rows(session, org_id, connection_id, day_list, billed_tiers)
    totals: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    methods: dict[tuple[Any, ...], str] = {}
    for cost in costs:
        day_usage = _DayUsage(provider, cost.day, usage.get(cost.day, []))
        for found, amount, single in _split(day_usage, cost, billed_tiers, keys_reported):
            key = (
                cost.day,
                cost.workspace_id,
                # Token lines without a model take the model whose usage they were priced by;
                # tool and storage lines keep what they say.
                cost.model or (found.model if found and _basis(cost) in _TOKEN_BASES else ""),
                cost.cost_type,
                cost.token_type,
                # With keys reported, a line without one is spend without a key, found or not.
                cost.api_key_id or (found.api_key if found else "" if keys_reported else UNALLOCATED),
                found.user if found else "",
                _basis(cost),
            )
            totals[key] += amount
            method = cost.method if single else ("allocated" if found else cost.method)
            # Rows merged from several lines are only as direct as the least direct of them.
            methods[key] = "allocated" if methods.get(key, method) == "allocated" else method
    table: Table = AllocatedCost.__table__  # type: ignore[assignment]
    columns = ("org_id", "connection_id", "day", "workspace_id", "model", "cost_type", "token_type")
    insert_rows(
        session,
        table,
        (*columns, "api_key_id", "user_id", "basis", "method", "amount_usd"),
        [(org_id, connection_id, *key, methods[key], amount) for key, amount in totals.items()],
    )

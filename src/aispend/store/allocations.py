"""Rebuild the per-API-key split of reported cost for whole days.

Run in the same transaction as every write of a day's usage or cost, so the stored
split always matches the stored facts, whatever order the streams arrive in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from aispend.pricing.allocate import allocate
from aispend.store.facts import insert_rows
from aispend.store.schema import AllocatedCost, CostFact, UsageFact

__all__ = ["UNALLOCATED", "reallocate_days"]

UNALLOCATED = "unallocated"
"""API-key id given to cost no key's usage can explain (code execution, usage not yet reported)."""

# Which usage count a cost line is proportional to.
WEIGHT_COLUMN = {
    "input": UsageFact.input_tokens,
    "output": UsageFact.output_tokens,
    "cache_read": UsageFact.cache_read_tokens,
    "cache_write_5m": UsageFact.cache_write_5m_tokens,
    "cache_write_1h": UsageFact.cache_write_1h_tokens,
    "web_search": UsageFact.web_search_requests,
}
WEIGHT_NAMES = tuple(WEIGHT_COLUMN)


def _tier_class(service_tier: str) -> str:
    # The cost report knows only `standard` and `batch`; priority and flex usage bills as standard.
    return "batch" if service_tier == "batch" else "standard"


def _weight_name(cost_type: str, token_type: str) -> str | None:
    if cost_type == "web_search":
        return "web_search"
    if token_type in WEIGHT_COLUMN:
        return token_type
    return None


# (dimensions of a match) -> API key -> counts in WEIGHT_NAMES order
_Index = dict[tuple[Any, ...], dict[str, list[int]]]


class _Weights:
    """Each API key's usage counts, indexed from the finest match to the coarsest."""

    def __init__(self, usage: Iterable[Any]) -> None:
        self.fine: _Index = defaultdict(dict)
        self.coarse: _Index = defaultdict(dict)
        self.by_workspace: _Index = defaultdict(dict)
        for day, workspace, model, tier, context, geo, key, *counts in usage:
            values = [int(count or 0) for count in counts]
            for index, index_key in (
                (self.fine, (day, workspace, model, _tier_class(tier), context, geo)),
                (self.coarse, (day, workspace, model)),
                (self.by_workspace, (day, workspace)),
            ):
                slot = index[index_key].get(key)
                if slot is None:
                    index[index_key][key] = list(values)
                else:
                    for position, count in enumerate(values):
                        slot[position] += count

    def split(self, cost: Any) -> dict[str, Decimal]:
        """The cost line's amount per API key; all of it to UNALLOCATED when no usage explains it."""
        weight_name = _weight_name(cost.cost_type, cost.token_type)
        if weight_name is not None:
            position = WEIGHT_NAMES.index(weight_name)
            tier = cost.service_tier or "standard"
            candidates = (
                self.fine.get(
                    (cost.day, cost.workspace_id, cost.model, tier, cost.context_window, cost.inference_geo)
                ),
                self.coarse.get((cost.day, cost.workspace_id, cost.model)),
                self.by_workspace.get((cost.day, cost.workspace_id)) if not cost.model else None,
            )
            for candidate in candidates:
                if candidate:
                    shares = {key: counts[position] for key, counts in candidate.items() if counts[position]}
                    if shares:
                        return allocate(cost.amount_usd, shares)
        return {UNALLOCATED: cost.amount_usd}


def reallocate_days(session: Session, *, org_id: int, connection_id: int, days: Iterable[date]) -> None:
    """Replace the allocated cost of ``days`` with a fresh split of their cost facts."""
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
        select(
            CostFact.day,
            CostFact.workspace_id,
            CostFact.model,
            CostFact.cost_type,
            CostFact.token_type,
            CostFact.service_tier,
            CostFact.context_window,
            CostFact.inference_geo,
            CostFact.amount_usd,
        ).where(
            CostFact.org_id == org_id,
            CostFact.connection_id == connection_id,
            CostFact.day.in_(day_list),
        )
    ).all()
    if not costs:
        return
    usage = session.execute(
        select(
            UsageFact.day,
            UsageFact.workspace_id,
            UsageFact.model,
            UsageFact.service_tier,
            UsageFact.context_window,
            UsageFact.inference_geo,
            UsageFact.api_key_id,
            *(func.sum(column) for column in WEIGHT_COLUMN.values()),
        )
        .where(
            UsageFact.org_id == org_id,
            UsageFact.connection_id == connection_id,
            UsageFact.stream == "messages",
            UsageFact.day.in_(day_list),
        )
        .group_by(*(UsageFact.day, UsageFact.workspace_id, UsageFact.model, UsageFact.service_tier))
        .group_by(UsageFact.context_window, UsageFact.inference_geo, UsageFact.api_key_id)
    ).all()
    weights = _Weights(usage)
    totals: dict[tuple[date, str, str, str, str, str], Decimal] = defaultdict(Decimal)
    for cost in costs:
        for key, amount in weights.split(cost).items():
            totals[(cost.day, cost.workspace_id, cost.model, cost.cost_type, cost.token_type, key)] += amount
    table: Table = AllocatedCost.__table__  # type: ignore[assignment]
    columns = ("org_id", "connection_id", "day", "workspace_id", "model", "cost_type", "token_type")
    insert_rows(
        session,
        table,
        (*columns, "api_key_id", "amount_usd"),
        [(org_id, connection_id, *key, amount) for key, amount in totals.items()],
    )

"""The three costs of each connection and day: reported, list and effective.

- *reported*: what the provider's cost report or billing export says (cost facts), counting
  each amount once (streams that split a total another stream reports, such as Claude
  Enterprise's per-group and per-user cost, are left out: ``model.OVERLAPPING_STREAMS``);
  ``provider_list_usd`` is the provider's own list-price figure where it gives one (Google
  Cloud's ``cost_at_list``, Claude Enterprise's ``list_amount``).
- *list*: usage times list price (``fact_prices.list_usd``); unpriced usage is counted
  apart, never as $0.
- *effective*: what the organisation pays after its rate cards, before its own credits:
  the reported cost, less what each rate card takes off the list price of the usage it
  prices (``list - card price`` per fact). Cost no card prices (no card, unpriced usage,
  code execution and other cost no usage explains) stays at its reported amount, and
  credits or discounts the provider already netted stay netted. On a day whose cost is not
  reported yet, the list cost stands in for it. Without rate cards, effective is reported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from aispend.model import OVERLAPPING_STREAMS
from aispend.store.schema import CostFact, FactPrice

__all__ = ["DayFigures", "day_figures"]

Key = tuple[int, date]


@dataclass
class DayFigures:
    """One connection's day (or any sum of days): the three costs and what was left unpriced."""

    reported_usd: Decimal = Decimal(0)
    provider_list_usd: Decimal | None = None
    list_usd: Decimal = Decimal(0)
    effective_usd: Decimal = Decimal(0)
    priced_rows: int = 0
    unpriced_rows: int = 0
    rated_rows: int = 0
    unpriced_models: set[str] = field(default_factory=set)

    def add(self, other: DayFigures) -> None:
        self.reported_usd += other.reported_usd
        if other.provider_list_usd is not None:
            self.provider_list_usd = (self.provider_list_usd or Decimal(0)) + other.provider_list_usd
        self.list_usd += other.list_usd
        self.effective_usd += other.effective_usd
        self.priced_rows += other.priced_rows
        self.unpriced_rows += other.unpriced_rows
        self.rated_rows += other.rated_rows
        self.unpriced_models |= other.unpriced_models


def _scope(
    statement: Any, table: Any, org_id: int, since: date, until: date, connections: list[int] | None
) -> Any:
    statement = statement.where(table.org_id == org_id, table.day >= since, table.day <= until)
    if connections is not None:
        statement = statement.where(table.connection_id.in_(connections))
    return statement


def day_figures(
    session: Session, org_id: int, since: date, until: date, connection_ids: list[int] | None = None
) -> dict[Key, DayFigures]:
    """The three costs of every (connection, day) with cost or usage in ``[since, until]``."""

    def scope(statement: Any, table: Any) -> Any:
        return _scope(statement, table, org_id, since, until, connection_ids)

    out: dict[Key, DayFigures] = defaultdict(DayFigures)
    reported: set[Key] = set()
    cost = (CostFact.connection_id, CostFact.day)
    for conn, day, amount, listed, listed_rows in session.execute(
        scope(
            select(
                *cost,
                func.sum(CostFact.amount_usd),
                func.sum(CostFact.list_amount_usd),
                func.count(CostFact.list_amount_usd),
            )
            .where(CostFact.stream.not_in(OVERLAPPING_STREAMS))
            .group_by(*cost),
            CostFact,
        )
    ):
        figures = out[(conn, day)]
        figures.reported_usd = figures.effective_usd = amount
        reported.add((conn, day))
        figures.provider_list_usd = listed if listed_rows else None
    priced = (FactPrice.connection_id, FactPrice.day, FactPrice.model)
    rated = FactPrice.effective_usd.is_not(None)
    for conn, day, model, listed, rows, unpriced, rated_rows, rated_list, effective in session.execute(
        scope(
            select(
                *priced,
                func.sum(FactPrice.list_usd),
                func.count(),
                func.sum(case((FactPrice.unpriced, 1), else_=0)),
                func.sum(case((rated, 1), else_=0)),
                func.sum(case((rated, FactPrice.list_usd), else_=0)),
                func.sum(FactPrice.effective_usd),
            ).group_by(*priced),
            FactPrice,
        )
    ):
        figures = out[(conn, day)]
        figures.list_usd += listed
        figures.priced_rows += rows
        figures.unpriced_rows += int(unpriced or 0)
        figures.rated_rows += int(rated_rows or 0)
        if unpriced:
            figures.unpriced_models.add(model)
        if rated_rows:
            figures.effective_usd -= Decimal(rated_list) - effective
    for key, figures in out.items():
        if key not in reported:
            # No cost reported for the day yet: list stands in for the provider's figure.
            figures.effective_usd += figures.list_usd
    return dict(out)

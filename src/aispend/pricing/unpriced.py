"""Warnings about usage without a list price, for every report that shows money.

Unpriced usage is never $0: its facts are counted, named and raised here, so the spend
report, the reconciliation, the CLI and the API all say which models (or non-token kinds)
could not be priced and how much usage that is.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aispend.store.schema import Connection, FactPrice

__all__ = ["unpriced_warnings"]


def unpriced_warnings(
    session: Session, org_id: int, since: date, until: date, connection_ids: list[int] | None = None
) -> list[dict[str, Any]]:
    """One warning per provider and model with unpriced usage in ``[since, until]``; none if all priced.

    Each is ``{"code": "unpriced_usage", "provider", "model", "kinds", "rows", "first_day",
    "last_day", "message"}``; ``kinds`` are the kinds of usage that had no price.
    """
    statement = (
        select(
            Connection.provider,
            FactPrice.model,
            FactPrice.unpriced_kinds,
            func.count(),
            func.min(FactPrice.day),
            func.max(FactPrice.day),
        )
        .join(Connection, Connection.id == FactPrice.connection_id)
        .where(FactPrice.org_id == org_id, FactPrice.unpriced, FactPrice.day >= since, FactPrice.day <= until)
        .group_by(Connection.provider, FactPrice.model, FactPrice.unpriced_kinds)
    )
    if connection_ids is not None:
        statement = statement.where(FactPrice.connection_id.in_(connection_ids))
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for provider, model, kinds, rows, first, last in session.execute(statement):
        warning = grouped.setdefault(
            (provider, model),
            {"code": "unpriced_usage", "provider": provider, "model": model, "kinds": set(), "rows": 0},
        )
        warning["kinds"].update(kind for kind in kinds.split(",") if kind)
        warning["rows"] += rows
        warning["first_day"] = min(warning.get("first_day", first), first)
        warning["last_day"] = max(warning.get("last_day", last), last)
    out = []
    for (provider, model), warning in sorted(grouped.items()):
        names = sorted(warning["kinds"])
        what = f"model {model!r}" if model else "usage without a model"
        out.append(
            {
                **warning,
                "kinds": names,
                "first_day": warning["first_day"].isoformat(),
                "last_day": warning["last_day"].isoformat(),
                "message": (
                    f"{provider} {what} has no list price for {', '.join(names)} "
                    f"({warning['rows']} usage rows, {warning['first_day']} to {warning['last_day']}): "
                    "it is left out of list and effective cost, not counted as $0."
                ),
            }
        )
    return out

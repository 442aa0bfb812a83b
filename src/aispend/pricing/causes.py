"""Known causes of drift between reported and list cost (``/work/shared/reference``).

Each is a fact of the data, not a guess: a cost line of a kind no usage explains, usage the
cost report leaves out, credits and discounts netted into the bill, revisions still to come.
A reconciliation row names the causes present in it, with the money each involves.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aispend.model import OVERLAPPING_STREAMS
from aispend.pricing.amounts import plain_usd
from aispend.pricing.figures import DayFigures
from aispend.store.schema import Connection, CostFact, FactPrice, UsageFact

__all__ = ["MESSAGES", "Cause", "find_causes"]

ENTERPRISE_REVISION_DAYS: Final = 30
_CENT: Final = Decimal("0.01")

MESSAGES: Final = {
    "priority_tier": "Anthropic Priority Tier usage ({amount} at list) is in the usage report but not in "
    "the cost report: it is billed under the Priority Tier commitment.",
    "code_execution": "Code execution ({amount}) is billed in the cost report only; no usage explains it.",
    "session_usage": "Managed Agents session runtime ({amount}) is billed in the cost report only.",
    "no_model_line_items": "{amount} was billed in line items without a model; it is spread over "
    "models by priced usage.",
    "unparsed_line_items": "{amount} of cost lines could not be read (model and kind unknown).",
    "provider_credits": "Google Cloud credits ({amount}: free tier, promotions, committed-use and contract "
    "discounts) are netted into the reported cost.",
    "below_list": "The provider billed {amount} below its own list price (a negotiated discount).",
    "adjustment": "Billing adjustments ({amount}) have no usage behind them.",
    "enterprise_revisions": "Claude Enterprise revises cost and usage for 30 days; "
    "this period may still change.",
    "unpriced_usage": "Usage of {detail} has no list price and is left out of list cost.",
    "cost_not_reported": "Usage has no reported cost yet (cost often lands after usage).",
    "usage_not_reported": "Cost was reported without usage to explain it.",
}
# cost_type of a cost line -> the cause it is evidence of
_COST_TYPE_CAUSES = {
    "code_execution": "code_execution",
    "session_usage": "session_usage",
    "credit": "provider_credits",
    "adjustment": "adjustment",
    "other": "unparsed_line_items",
    "unparsed_sku": "unparsed_line_items",
}


@dataclass(frozen=True)
class Cause:
    """A known cause present in a period, with the money it involves where that is known."""

    code: str
    amount_usd: Decimal | None = None
    detail: str = ""

    def merged(self, other: Cause) -> Cause:
        amounts = [a for a in (self.amount_usd, other.amount_usd) if a is not None]
        details = sorted({d for d in (*self.detail.split(", "), *other.detail.split(", ")) if d})
        return Cause(self.code, sum(amounts, Decimal(0)) if amounts else None, ", ".join(details))

    def as_json(self) -> dict[str, Any]:
        amount = "" if self.amount_usd is None else plain_usd(self.amount_usd)
        return {
            "code": self.code,
            "amount_usd": None if self.amount_usd is None else amount,
            # The message is for people (to the cent); amount_usd keeps the exact figure.
            "message": MESSAGES[self.code].format(amount=_dollars(self.amount_usd), detail=self.detail),
        }


def _dollars(amount: Decimal | None) -> str:
    if amount is None:
        return "$"
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


Key = tuple[int, date]


def _add(out: dict[Key, dict[str, Cause]], key: Key, cause: Cause) -> None:
    found = out[key].get(cause.code)
    out[key][cause.code] = cause if found is None else found.merged(cause)


def _cost_causes(
    session: Session, scope: Any, providers: dict[int, str], out: dict[Key, dict[str, Cause]]
) -> dict[Key, Decimal]:
    """Causes read off cost lines; returns each day's provider credits (negative)."""
    credits: dict[Key, Decimal] = defaultdict(Decimal)
    columns = (CostFact.connection_id, CostFact.day, CostFact.cost_type, CostFact.model == "")
    statement = (
        select(*columns, func.sum(CostFact.amount_usd))
        .where(CostFact.stream.not_in(OVERLAPPING_STREAMS))
        .group_by(*columns)
    )
    for conn, day, cost_type, model_less, amount in session.execute(scope(statement, CostFact)):
        code = _COST_TYPE_CAUSES.get(cost_type)
        if code is None and model_less and cost_type == "tokens" and providers[conn] == "openai":
            code = "no_model_line_items"
        if code is not None and amount:
            _add(out, (conn, day), Cause(code, amount))
        if cost_type == "credit":
            credits[(conn, day)] += amount
    return credits


def _priority_usage(
    session: Session, scope: Any, providers: dict[int, str], out: dict[Key, dict[str, Cause]]
) -> None:
    statement = (
        select(FactPrice.connection_id, FactPrice.day, func.sum(FactPrice.list_usd))
        .join(UsageFact, UsageFact.id == FactPrice.usage_fact_id)
        .where(UsageFact.service_tier == "priority")
        .group_by(FactPrice.connection_id, FactPrice.day)
    )
    for conn, day, amount in session.execute(scope(statement, FactPrice)):
        if providers[conn] == "anthropic":
            _add(out, (conn, day), Cause("priority_tier", amount))


def find_causes(
    session: Session,
    org_id: int,
    since: date,
    until: date,
    connection_ids: list[int] | None,
    figures: dict[Key, DayFigures],
    *,
    today: date,
) -> dict[Key, dict[str, Cause]]:
    """The known causes present in each (connection, day) of ``figures``."""

    def scope(statement: Any, table: Any) -> Any:
        statement = statement.where(table.org_id == org_id, table.day >= since, table.day <= until)
        return (
            statement if connection_ids is None else statement.where(table.connection_id.in_(connection_ids))
        )

    providers = dict(
        session.execute(select(Connection.id, Connection.provider).where(Connection.org_id == org_id)).all()
    )
    out: dict[Key, dict[str, Cause]] = defaultdict(dict)
    credits = _cost_causes(session, scope, providers, out)
    _priority_usage(session, scope, providers, out)
    revising = today - timedelta(days=ENTERPRISE_REVISION_DAYS)
    for (conn, day), day_costs in figures.items():
        key = (conn, day)
        if day_costs.provider_list_usd is not None:
            below = day_costs.provider_list_usd - (day_costs.reported_usd - credits.get(key, Decimal(0)))
            if below >= _CENT:
                _add(out, key, Cause("below_list", below))
        if providers[conn] == "claude_enterprise" and day >= revising:
            _add(out, key, Cause("enterprise_revisions"))
        if day_costs.unpriced_rows:
            models = ", ".join(sorted(model or "(no model)" for model in day_costs.unpriced_models))
            _add(out, key, Cause("unpriced_usage", detail=models))
        if not day_costs.reported_usd and day_costs.list_usd:
            _add(out, key, Cause("cost_not_reported"))
        if day_costs.reported_usd and not day_costs.priced_rows:
            _add(out, key, Cause("usage_not_reported"))
    return dict(out)

"""Three-way reconciliation: reported vs list vs effective, per connection, day and month.

For each connection and period: the provider's reported cost, the list cost of the imported
usage, the effective cost after rate cards, the organisation's credits applied and the net.
*Drift* is list minus reported, in dollars and as a percentage of reported; a period whose
drift is over the threshold (default 2%, and at least a cent) is flagged. Every row names the
known causes present in it (:mod:`aispend.pricing.causes`), so a flagged day says why.

:func:`reconcile` returns a JSON-ready :class:`Reconciliation`; the CLI's
``aispend report reconcile`` and ``GET /api/v1/reconcile`` both show ``as_json()``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from aispend.pricing.amounts import plain_number, plain_usd
from aispend.pricing.causes import Cause, find_causes
from aispend.pricing.commitments import commitments
from aispend.pricing.credits import burn_down
from aispend.pricing.figures import DayFigures, day_figures
from aispend.pricing.unpriced import unpriced_warnings
from aispend.store.schema import Connection

__all__ = ["DEFAULT_THRESHOLD_PCT", "ReconcileRow", "Reconciliation", "reconcile"]

DEFAULT_THRESHOLD_PCT: Final = Decimal(2)
_CENT: Final = Decimal("0.01")
_HUNDRED: Final = Decimal(100)


def _optional(amount: Decimal | None) -> str | None:
    return None if amount is None else plain_usd(amount)


@dataclass
class ReconcileRow:
    """One connection over one day or month (``level``)."""

    level: Literal["day", "month"]
    period: str
    connection: str
    provider: str
    figures: DayFigures
    credits_usd: Decimal = Decimal(0)
    causes: dict[str, Cause] = field(default_factory=dict)

    @property
    def drift_usd(self) -> Decimal:
        return self.figures.list_usd - self.figures.reported_usd

    @property
    def drift_pct(self) -> Decimal | None:
        reported = self.figures.reported_usd
        return None if not reported else (self.drift_usd / abs(reported) * _HUNDRED).quantize(Decimal("0.01"))

    def flagged(self, threshold_pct: Decimal) -> bool:
        if abs(self.drift_usd) < _CENT:
            return False
        pct = self.drift_pct
        return pct is None or abs(pct) > threshold_pct

    def as_json(self, threshold_pct: Decimal) -> dict[str, Any]:
        figures = self.figures
        effective_drift = figures.effective_usd - figures.reported_usd
        return {
            "level": self.level,
            "period": self.period,
            "connection": self.connection,
            "provider": self.provider,
            "reported_usd": plain_usd(figures.reported_usd),
            "provider_list_usd": _optional(figures.provider_list_usd),
            "list_usd": plain_usd(figures.list_usd),
            "effective_usd": plain_usd(figures.effective_usd),
            "credits_usd": plain_usd(self.credits_usd),
            "net_usd": plain_usd(figures.effective_usd - self.credits_usd),
            "drift_usd": plain_usd(self.drift_usd),
            "drift_pct": None if self.drift_pct is None else plain_number(self.drift_pct),
            "effective_drift_usd": plain_usd(effective_drift),
            "flagged": self.flagged(threshold_pct),
            "priced_rows": figures.priced_rows,
            "rated_rows": figures.rated_rows,
            "unpriced_rows": figures.unpriced_rows,
            "unpriced_models": sorted(figures.unpriced_models),
            "causes": [cause.as_json() for cause in self.causes.values()],
        }


@dataclass
class Reconciliation:
    since: date
    until: date
    threshold_pct: Decimal
    rows: list[ReconcileRow]
    warnings: list[dict[str, Any]]
    credits: list[dict[str, Any]]
    commitments: list[dict[str, Any]]
    currency: str = "USD"

    def as_json(self) -> dict[str, Any]:
        """The contract of ``aispend report reconcile --format json`` and ``GET /api/v1/reconcile``."""
        rows = [row.as_json(self.threshold_pct) for row in self.rows]
        return {
            "currency": self.currency,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "threshold_pct": plain_number(self.threshold_pct),
            "flagged": sum(1 for row in rows if row["flagged"]),
            "rows": rows,
            "warnings": self.warnings,
            "credits": self.credits,
            "commitments": self.commitments,
        }


def _merge(target: dict[str, Cause], causes: dict[str, Cause]) -> None:
    for code, cause in causes.items():
        if code in target:
            target[code] = target[code].merged(cause)
        else:
            target[code] = cause


def reconcile(
    session: Session,
    org_id: int,
    *,
    since: date,
    until: date,
    today: date,
    connection_id: int | None = None,
    threshold_pct: Decimal = DEFAULT_THRESHOLD_PCT,
    levels: tuple[str, ...] = ("day", "month"),
) -> Reconciliation:
    """Reconcile the inclusive days ``[since, until]`` (of one connection if given).

    Rows come per connection, month first then its days, oldest first; ``levels`` chooses
    day rows, month rows or both. Month rows cover only the days inside the period.
    """
    if until < since:
        raise ValueError(f"--until {until} is before --since {since}")
    if not threshold_pct.is_finite() or threshold_pct < 0:
        raise ValueError("the drift threshold is a non-negative percentage")
    connections = {
        conn: (name, provider)
        for conn, name, provider in session.execute(
            select(Connection.id, Connection.name, Connection.provider).where(Connection.org_id == org_id)
        )
    }
    scope = None if connection_id is None else [connection_id]
    figures = day_figures(session, org_id, since, until, scope)
    credits = burn_down(session, org_id, until)
    causes = find_causes(session, org_id, since, until, scope, figures, today=today)
    months: dict[tuple[int, str], ReconcileRow] = {}
    days: list[ReconcileRow] = []
    for (conn, day), day_costs in sorted(
        figures.items(), key=lambda item: (connections[item[0][0]][0], item[0][1])
    ):
        name, provider = connections[conn]
        row = ReconcileRow(
            "day", day.isoformat(), name, provider, day_costs, credits.applied.get((conn, day), Decimal(0))
        )
        row.causes = causes.get((conn, day), {})
        days.append(row)
        month = months.setdefault(
            (conn, day.strftime("%Y-%m")),
            ReconcileRow("month", day.strftime("%Y-%m"), name, provider, DayFigures()),
        )
        month.figures.add(day_costs)
        month.credits_usd += row.credits_usd
        _merge(month.causes, row.causes)
    ordered: list[ReconcileRow] = []
    by_month: dict[tuple[str, str], list[ReconcileRow]] = defaultdict(list)
    for row in days:
        by_month[(row.connection, row.period[:7])].append(row)
    for (conn, period), month in sorted(
        months.items(), key=lambda item: (connections[item[0][0]][0], item[0][1])
    ):
        if "month" in levels:
            ordered.append(month)
        if "day" in levels:
            ordered.extend(by_month[(connections[conn][0], period)])
    return Reconciliation(
        since=since,
        until=until,
        threshold_pct=threshold_pct,
        rows=ordered,
        warnings=unpriced_warnings(session, org_id, since, until, scope),
        credits=[balance.as_json(until) for balance in credits.balances],
        commitments=commitments(session, org_id, since, until),
    )

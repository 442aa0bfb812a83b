"""Prepaid and promotional credits, and how the organisation's spend burns them down.

A credit has an amount, a validity (inclusive days) and a provider (or any). Burn-down is
computed, never stored, so it always follows the spend it pays for: day by day, each
connection's effective cost (after rate cards; see :mod:`aispend.pricing.figures`) is paid
from the credits valid that day for its provider, the one expiring first first (then the
older), until they run out. A negative day (a refund) burns nothing. What a credit has not
burned by its last day has expired.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from aispend import audit
from aispend.pricing.amounts import plain_usd
from aispend.pricing.figures import DayFigures, day_figures
from aispend.store.schema import Connection, CreditGrant

__all__ = ["CREDIT_KINDS", "Burndown", "CreditBalance", "add_credit", "burn_down"]

CREDIT_KINDS: Final = ("prepaid", "promotional")


@dataclass
class CreditBalance:
    """A credit as of a day: what it has paid for and what is left."""

    id: int
    name: str
    provider: str
    kind: str
    amount_usd: Decimal
    valid_from: date
    valid_until: date
    burned_usd: Decimal = Decimal(0)
    # month (YYYY-MM) -> burned that month
    by_month: dict[str, Decimal] = field(default_factory=dict)

    def remaining_usd(self, as_of: date) -> Decimal:
        return Decimal(0) if as_of > self.valid_until else self.amount_usd - self.burned_usd

    def expired_usd(self, as_of: date) -> Decimal:
        return self.amount_usd - self.burned_usd if as_of > self.valid_until else Decimal(0)

    def status(self, as_of: date) -> str:
        if as_of < self.valid_from:
            return "upcoming"
        if self.burned_usd >= self.amount_usd:
            return "used up"
        return "expired" if as_of > self.valid_until else "active"

    def as_json(self, as_of: date) -> dict[str, Any]:
        return {
            "name": self.name,
            "provider": self.provider or None,
            "kind": self.kind,
            "amount_usd": plain_usd(self.amount_usd),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "burned_usd": plain_usd(self.burned_usd),
            "remaining_usd": plain_usd(self.remaining_usd(as_of)),
            "expired_usd": plain_usd(self.expired_usd(as_of)),
            "status": self.status(as_of),
            "burn_by_month": {month: plain_usd(value) for month, value in sorted(self.by_month.items())},
        }


@dataclass
class Burndown:
    """Every credit's balance as of ``as_of``, and what credits paid per (connection, day)."""

    as_of: date
    balances: list[CreditBalance]
    applied: dict[tuple[int, date], Decimal]


def add_credit(
    session: Session,
    org_id: int,
    *,
    name: str,
    amount_usd: Decimal,
    valid_from: date,
    valid_until: date,
    provider: str = "",
    kind: str = "prepaid",
) -> CreditGrant:
    """Record a credit. Audited as ``credits.added``."""
    if not name.strip():
        raise ValueError("a credit needs a name")
    if kind not in CREDIT_KINDS:
        raise ValueError(f"a credit is {' or '.join(CREDIT_KINDS)}, not {kind!r}")
    if not amount_usd.is_finite() or amount_usd <= 0:
        raise ValueError("a credit's amount is a positive number of US dollars")
    if valid_until < valid_from:
        raise ValueError(f"the credit ends ({valid_until}) before it starts ({valid_from})")
    if session.scalar(select(CreditGrant.id).where(CreditGrant.org_id == org_id, CreditGrant.name == name)):
        raise ValueError(f"there is already a credit named {name!r}")
    credit = CreditGrant(
        org_id=org_id,
        name=name,
        provider=provider,
        kind=kind,
        amount_usd=amount_usd,
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=audit.current_actor().email,
    )
    session.add(credit)
    session.flush()
    audit.record(
        session,
        org_id=org_id,
        action="credits.added",
        target=f"credit:{name}",
        after={
            "provider": provider or "any",
            "kind": kind,
            "amount_usd": str(amount_usd),
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat(),
        },
    )
    return credit


def burn_down(
    session: Session, org_id: int, as_of: date, figures: dict[tuple[int, date], DayFigures] | None = None
) -> Burndown:
    """Burn every credit down through ``as_of`` (``figures`` may pass spend already computed)."""
    grants = list(
        session.scalars(select(CreditGrant).where(CreditGrant.org_id == org_id).order_by(CreditGrant.id))
    )
    balances = [
        CreditBalance(g.id, g.name, g.provider, g.kind, g.amount_usd, g.valid_from, g.valid_until)
        for g in grants
    ]
    applied: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    if not balances:
        return Burndown(as_of, balances, {})
    first = min(balance.valid_from for balance in balances)
    last = min(as_of, max(balance.valid_until for balance in balances))
    if figures is None:
        figures = day_figures(session, org_id, first, last) if first <= last else {}
    providers = dict(
        session.execute(select(Connection.id, Connection.provider).where(Connection.org_id == org_id)).all()
    )
    order = sorted(balances, key=lambda b: (b.valid_until, b.valid_from, b.id))
    for (conn, day), day_costs in sorted(figures.items(), key=lambda item: (item[0][1], item[0][0])):
        spend = day_costs.effective_usd
        if not first <= day <= last or spend <= 0:
            continue
        for balance in order:
            if spend <= 0:
                break
            if not balance.valid_from <= day <= balance.valid_until or balance.provider not in (
                "",
                providers[conn],
            ):
                continue
            burn = min(spend, balance.amount_usd - balance.burned_usd)
            if burn <= 0:
                continue
            balance.burned_usd += burn
            month = day.strftime("%Y-%m")
            balance.by_month[month] = balance.by_month.get(month, Decimal(0)) + burn
            applied[(conn, day)] += burn
            spend -= burn
    return Burndown(as_of, balances, dict(applied))

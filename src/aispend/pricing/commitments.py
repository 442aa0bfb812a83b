"""Committed monthly spend on rate cards: what was spent against it and the shortfall.

A rate card version may commit the organisation to a monthly spend. For each month of a
period, the commitment of the card's version in force at the month's last day (within the
period) is compared with the effective cost of the usage the card priced that month; the
shortfall is what the contract bills on top. Months the version does not price (closed
before it was made and not re-rated) are left out; a month the period or the version's
start cuts is marked incomplete.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aispend.pricing.amounts import plain_usd
from aispend.pricing.rates import RateVersion, rate_cards
from aispend.store.schema import FactPrice

__all__ = ["commitments"]


def _months(since: date, until: date) -> list[tuple[date, date]]:
    out = []
    start = since.replace(day=1)
    while start <= until:
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        out.append((start, end))
        start = end + timedelta(days=1)
    return out


def _in_force(versions: list[RateVersion], day: date) -> RateVersion | None:
    found = [v for v in versions if v.effective_from <= day]
    return max(found, key=lambda v: (v.effective_from, v.version)) if found else None


def commitments(session: Session, org_id: int, since: date, until: date) -> list[dict[str, Any]]:
    """One entry per card and month of ``[since, until]`` in which a commitment was in force."""
    out: list[dict[str, Any]] = []
    for name, versions in rate_cards(session, org_id).items():
        if all(version.commitment_usd is None for version in versions):
            continue
        ids = [version.id for version in versions]
        for month_start, month_end in _months(since, until):
            first, last = max(month_start, since), min(month_end, until)
            version = _in_force(versions, last)
            if version is None or version.commitment_usd is None:
                continue
            spend = session.scalar(
                select(func.sum(FactPrice.effective_usd)).where(
                    FactPrice.org_id == org_id,
                    FactPrice.rate_card_version_id.in_(ids),
                    FactPrice.day >= first,
                    FactPrice.day <= last,
                )
            ) or Decimal(0)
            if version.auto_from > last and not spend:
                continue
            out.append(
                {
                    "card": name,
                    "version": version.version,
                    "month": month_start.strftime("%Y-%m"),
                    "complete": (first, last) == (month_start, month_end)
                    and version.effective_from <= month_start,
                    "committed_usd": plain_usd(version.commitment_usd),
                    "spend_usd": plain_usd(spend),
                    "shortfall_usd": plain_usd(max(Decimal(0), version.commitment_usd - spend)),
                }
            )
    return out

"""Contract rates for seat-plan credits (ChatGPT Enterprise Codex), and credits priced with them.

Credits are not dollars, and no API says what one costs: the customer's contract does. A
connection gets effective-dated rates (USD per credit, from a day on); credits are priced
at report time, day by day, with the rate in force that day. Credits of days before the
first rate stay *unpriced*: shown as credits and flagged, never as $0. Changing a rate
therefore reprices history at once, with nothing re-imported. Every change is audited.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from aispend import audit
from aispend.store.schema import Connection, CreditRate, UsageFact

__all__ = [
    "CREDIT_PROVIDERS",
    "CREDIT_STREAM",
    "PricedCredits",
    "Rate",
    "clear_credit_rate",
    "credit_rates",
    "priced_credits",
    "rate_on",
    "set_credit_rate",
]

CREDIT_PROVIDERS = frozenset({"chatgpt_enterprise"})
CREDIT_STREAM = "codex_usage"
"""The stream whose credits are the total (``codex_model_usage`` is a breakdown of the same)."""


@dataclass(frozen=True)
class Rate:
    effective_from: date
    usd_per_credit: Decimal


def _check(connection: Connection) -> None:
    if connection.provider not in CREDIT_PROVIDERS:
        raise ValueError(f"{connection.name!r} reports no credits; credit rates apply to ChatGPT Enterprise.")


def credit_rates(session: Session, org_id: int, connection_id: int) -> list[Rate]:
    """The connection's rates, oldest first."""
    rows = session.execute(
        select(CreditRate.effective_from, CreditRate.usd_per_credit)
        .where(CreditRate.org_id == org_id, CreditRate.connection_id == connection_id)
        .order_by(CreditRate.effective_from)
    )
    return [Rate(day, rate) for day, rate in rows]


def rate_on(rates: Sequence[Rate], day: date) -> Decimal | None:
    """The rate in force on ``day`` (``rates`` oldest first), or None: the credits are unpriced."""
    found = None
    for rate in rates:
        if rate.effective_from > day:
            break
        found = rate.usd_per_credit
    return found


def set_credit_rate(
    session: Session, connection: Connection, effective_from: date, usd_per_credit: Decimal
) -> None:
    """Price the connection's credits at ``usd_per_credit`` from ``effective_from`` on. Audited."""
    _check(connection)
    if not usd_per_credit.is_finite() or usd_per_credit <= 0:
        raise ValueError("A credit rate is a positive number of US dollars per credit.")
    stored = session.scalar(
        select(CreditRate).where(
            CreditRate.org_id == connection.org_id,
            CreditRate.connection_id == connection.id,
            CreditRate.effective_from == effective_from,
        )
    )
    before = None if stored is None else {"usd_per_credit": str(stored.usd_per_credit)}
    if stored is None:
        session.add(
            CreditRate(
                org_id=connection.org_id,
                connection_id=connection.id,
                effective_from=effective_from,
                usd_per_credit=usd_per_credit,
            )
        )
    else:
        stored.usd_per_credit = usd_per_credit
    audit.record(
        session,
        org_id=connection.org_id,
        action="credit_rate.set",
        target=f"connection:{connection.name} from:{effective_from.isoformat()}",
        before=before,
        after={"usd_per_credit": str(usd_per_credit), "effective_from": effective_from.isoformat()},
    )


def clear_credit_rate(session: Session, connection: Connection, effective_from: date) -> bool:
    """Remove the rate that starts on ``effective_from``; False when there is none. Audited."""
    _check(connection)
    rates = {rate.effective_from: rate for rate in credit_rates(session, connection.org_id, connection.id)}
    if effective_from not in rates:
        return False
    session.execute(
        delete(CreditRate).where(
            CreditRate.org_id == connection.org_id,
            CreditRate.connection_id == connection.id,
            CreditRate.effective_from == effective_from,
        )
    )
    audit.record(
        session,
        org_id=connection.org_id,
        action="credit_rate.cleared",
        target=f"connection:{connection.name} from:{effective_from.isoformat()}",
        before={"usd_per_credit": str(rates[effective_from].usd_per_credit)},
        after=None,
    )
    return True


@dataclass(frozen=True)
class PricedCredits:
    """Credits of one group over a period: ``usd`` prices ``credits - unpriced_credits``.

    ``usd`` is None when none of the credits has a rate: they are unpriced, not free.
    """

    connection_id: int
    key: tuple[str, ...]
    credits: Decimal
    usd: Decimal | None
    unpriced_credits: Decimal


_GROUPS = {"user_id": UsageFact.user_id, "variant": UsageFact.variant, "day": UsageFact.day}


def priced_credits(
    session: Session,
    org_id: int,
    *,
    since: date,
    until: date,
    by: Sequence[str] = ("user_id",),
    connection_id: int | None = None,
) -> list[PricedCredits]:
    """Credits per connection and ``by`` (``user_id``, ``variant`` = Codex client, ``day``) over the
    inclusive days, each day priced at its own rate. Exact: no rounding happens here."""
    columns = [_GROUPS[name] for name in by]
    query = (
        select(UsageFact.connection_id, UsageFact.day, *columns, func.sum(UsageFact.credits))
        .where(
            UsageFact.org_id == org_id,
            UsageFact.stream == CREDIT_STREAM,
            UsageFact.day >= since,
            UsageFact.day <= until,
        )
        .group_by(UsageFact.connection_id, UsageFact.day, *columns)
    )
    if connection_id is not None:
        query = query.where(UsageFact.connection_id == connection_id)
    rates: dict[int, list[Rate]] = {}
    totals: dict[tuple[int, tuple[str, ...]], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for connection, day, *keys, credits in session.execute(query):
        if connection not in rates:
            rates[connection] = credit_rates(session, org_id, connection)
        credits = Decimal(credits or 0)
        slot = totals[(connection, tuple(str(k) for k in keys))]
        slot[0] += credits
        rate = rate_on(rates[connection], day)
        if rate is None:
            slot[2] += credits
        else:
            slot[1] += credits * rate
    return [
        PricedCredits(
            connection_id=connection,
            key=key,
            credits=credits,
            usd=None if unpriced == credits and credits else usd,
            unpriced_credits=unpriced,
        )
        for (connection, key), (credits, usd, unpriced) in sorted(totals.items())
    ]

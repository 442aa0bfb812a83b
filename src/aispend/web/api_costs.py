"""The Rates and credits and Spend limits pages' data, and the same as JSON under ``/api/v1``.

Nothing here prices, burns down or talks to a provider by itself: every figure comes from the
functions the CLI calls (``aispend rates list|show``, ``credits list``, ``credit-rate list``,
``rerate``, ``limits list|requests``), so the pages, ``/api/v1`` and the CLI agree. Both
pages need ``costs.manage`` (Admin, Finance Admin).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from aispend.auth.tenancy import org_session
from aispend.connections import CAPABILITIES_OPTION
from aispend.credit_rates import CREDIT_PROVIDERS, Rate, credit_rates
from aispend.limits import LimitsError, list_limits, list_requests
from aispend.pricing.amounts import plain_number, plain_usd
from aispend.pricing.credits import CreditBalance, burn_down
from aispend.pricing.rates import RateVersion, facts_priced_by, rate_cards
from aispend.pricing.rerate import RerateDiff, rerate_diff
from aispend.providers.claude_enterprise.spendlimits import (
    WRITE_CAPABILITY,
    EffectiveLimit,
    IncreaseRequest,
)
from aispend.runtime import Runtime
from aispend.store.schema import Connection
from aispend.web.deps import CostManager, RuntimeDep, org_db
from aispend.web.pages.connections import for_org

__all__ = [
    "ENTERPRISE",
    "CardView",
    "CreditRatesView",
    "EnterpriseLimits",
    "LimitSource",
    "RatesData",
    "limits_data",
    "rates_data",
    "router",
]

router = APIRouter(prefix="/api/v1")
ENTERPRISE = "claude_enterprise"


# ---------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class CardView:
    """A rate card (its scope) and every version, oldest first, with the usage facts each prices."""

    name: str
    provider: str
    model_pattern: str
    versions: list[tuple[RateVersion, int]]

    @property
    def latest(self) -> RateVersion:
        return self.versions[-1][0]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "provider": self.provider or None,
            "model_pattern": self.model_pattern,
            "versions": [{**version.as_json(), "facts_priced": facts} for version, facts in self.versions],
        }


@dataclass(frozen=True)
class CreditRatesView:
    """One seat-plan (ChatGPT Enterprise) connection's contract rates, oldest first."""

    connection: str
    rates: list[Rate]

    def as_json(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "rates": [_rate_json(r) for r in self.rates],
        }


@dataclass(frozen=True)
class RatesData:
    """What the Rates and credits page shows: cards, credits as of a day, Codex credit rates."""

    as_of: date
    cards: list[CardView]
    credits: list[CreditBalance]
    credit_rates: list[CreditRatesView]

    def card(self, name: str) -> CardView | None:
        return next((card for card in self.cards if card.name == name), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "rate_cards": [card.as_json() for card in self.cards],
            "credits": [credit.as_json(self.as_of) for credit in self.credits],
            "credit_rates": [rates.as_json() for rates in self.credit_rates],
        }


def _rate_json(rate: Rate) -> dict[str, str]:
    return {
        "effective_from": rate.effective_from.isoformat(),
        "usd_per_credit": plain_number(rate.usd_per_credit),
    }


def rates_data(session: Session, org_id: int, as_of: date) -> RatesData:
    """Rate cards (``aispend rates show``), credits (``credits list``) and Codex credit rates
    (``credit-rate list``) of every seat-plan connection."""
    counts = facts_priced_by(session, org_id)
    cards = [
        CardView(
            name,
            versions[0].provider,
            versions[0].model_pattern,
            [(version, counts.get(version.id, 0)) for version in versions],
        )
        for name, versions in rate_cards(session, org_id).items()
    ]
    seat_plans = session.scalars(
        select(Connection)
        .where(Connection.org_id == org_id, Connection.provider.in_(CREDIT_PROVIDERS))
        .order_by(Connection.name)
    )
    return RatesData(
        as_of=as_of,
        cards=cards,
        credits=burn_down(session, org_id, as_of).balances,
        credit_rates=[
            CreditRatesView(connection.name, credit_rates(session, org_id, connection.id))
            for connection in seat_plans
        ],
    )


@dataclass(frozen=True)
class LimitSource:
    """Members whose limit comes from one place: the organisation, a seat tier, a group, their own."""

    source: str
    source_detail: str
    amount_usd: Decimal | None
    members: int


@dataclass
class EnterpriseLimits:
    """A Claude Enterprise connection's limits in force and pending increase requests, or why not."""

    connection: str
    organisation: str
    can_write: bool
    limits: list[EffectiveLimit] = field(default_factory=list)
    requests: list[IncreaseRequest] = field(default_factory=list)
    error: str | None = None

    @property
    def sources(self) -> list[LimitSource]:
        """How many members get which limit from where; the organisation's default first."""
        order = {"organization": 0, "organization_service": 1, "seat_tier": 2, "rbac_group": 3, "user": 4}
        counted = Counter((row.source, row.source_detail, row.amount_usd) for row in self.limits)
        return [
            LimitSource(source, detail, amount, members)
            for (source, detail, amount), members in sorted(
                counted.items(),
                key=lambda item: (order.get(item[0][0], 5), item[0][1], item[0][2] is None, item[0][2] or 0),
            )
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "provider_organization": self.organisation,
            "can_write": self.can_write,
            "error": self.error,
            "members": [_limit_json(row) for row in self.limits],
            "pending_requests": [_request_json(request) for request in self.requests],
        }


def _optional_usd(amount: Decimal | None) -> str | None:
    return None if amount is None else plain_usd(amount)


def _limit_json(row: EffectiveLimit) -> dict[str, Any]:
    return {
        "email": row.email.lower(),
        "name": row.name,
        "limit_usd": _optional_usd(row.amount_usd),
        "source": row.source,
        "source_detail": row.source_detail,
        "period": row.period,
        "spent_usd": plain_usd(row.period_to_date_usd),
        "spend_limit_id": row.spend_limit_id or None,
    }


def _request_json(request: IncreaseRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "email": request.email.lower(),
        "name": request.name,
        "status": request.status,
        "period": request.period,
        "created_at": request.created_at.isoformat() if request.created_at else None,
        "current": None if request.current is None else _limit_json(request.current),
    }


def _may_write(connection: Connection) -> bool:
    names = connection.options.get(CAPABILITIES_OPTION)
    return isinstance(names, list) and WRITE_CAPABILITY in names


def limits_data(runtime: Runtime, org_id: int) -> list[EnterpriseLimits]:
    """Every Claude Enterprise connection's limits (``aispend limits list``) and pending requests
    (``aispend limits requests --status pending``); a connection that cannot be read says why."""
    with org_session(runtime.db, org_id) as session:
        connections = [
            EnterpriseLimits(c.name, c.provider_account_name or c.provider_account_id, _may_write(c))
            for c in session.scalars(
                select(Connection)
                .where(
                    Connection.org_id == org_id,
                    Connection.provider == ENTERPRISE,
                    Connection.status != "disconnected",
                )
                .order_by(Connection.name)
            )
        ]
    acting = for_org(runtime, org_id)
    for found in connections:
        try:
            found.limits = list_limits(acting, found.connection)
            found.requests = list_requests(acting, found.connection, ("pending",))
        except LimitsError as error:
            found.error = str(error)
    return connections


# ---------------------------------------------------------------------------------- JSON


class RateVersionPublic(BaseModel):
    version: int
    effective_from: date = Field(description="First UTC day the version's terms apply to")
    auto_from: date = Field(
        description="First day it prices without a re-rating; earlier days wait for an applied re-rating"
    )
    discount_pct: str = Field(description="Percent off list price, decimal string")
    rates: dict[str, str] = Field(description="Token kind -> USD per million tokens, decimal strings")
    commitment_usd: str | None = Field(description="Committed spend per month")
    note: str
    created_at: datetime
    created_by: str
    facts_priced: int = Field(description="Usage facts this version prices now")


class RateCardPublic(BaseModel):
    name: str
    provider: str | None = Field(description="Null: every provider")
    model_pattern: str = Field(description="Models it covers, e.g. 'claude-opus-*'")
    versions: list[RateVersionPublic] = Field(description="Oldest first; the last is in force for new days")


class CreditPublic(BaseModel):
    name: str
    provider: str | None = Field(description="Null: any provider's spend")
    kind: str = Field(description="prepaid or promotional")
    amount_usd: str
    valid_from: date
    valid_until: date = Field(description="Last UTC day it pays for, inclusive")
    burned_usd: str = Field(description="Spend it has paid for through as_of")
    remaining_usd: str
    expired_usd: str = Field(description="What was left on its last day")
    status: str = Field(description="upcoming, active, used up or expired")
    burn_by_month: dict[str, str] = Field(description="YYYY-MM -> burned that month")


class CreditRatePublic(BaseModel):
    effective_from: date
    usd_per_credit: str


class ConnectionCreditRatesPublic(BaseModel):
    connection: str
    rates: list[CreditRatePublic] = Field(description="Oldest first; credits before the first are unpriced")


class RerateChangePublic(BaseModel):
    connection: str
    model: str
    old_version: str
    new_version: str
    facts: int
    first_day: date | None
    last_day: date | None
    list_usd: str
    old_effective_usd: str | None
    new_effective_usd: str | None


class RerateDiffPublic(BaseModel):
    since: date
    until: date
    applied: bool = Field(description="Always false here: a dry run that writes nothing")
    facts_changed: int
    effective_before_usd: str
    effective_after_usd: str
    delta_usd: str
    changes: list[RerateChangePublic]


class RatesPublic(BaseModel):
    as_of: date = Field(description="Credit balances at the end of this UTC day")
    rate_cards: list[RateCardPublic]
    credits: list[CreditPublic]
    credit_rates: list[ConnectionCreditRatesPublic] = Field(
        description="Per ChatGPT Enterprise connection: contract USD per Codex credit"
    )
    rerate: RerateDiffPublic | None = Field(
        default=None, description="Present when rerate_since and rerate_until are given"
    )


class LimitPublic(BaseModel):
    email: str
    name: str
    limit_usd: str | None = Field(description="Monthly limit; null is unlimited, 0 included usage only")
    source: str = Field(description="user, rbac_group, seat_tier, organization_service or organization")
    source_detail: str = Field(description="The seat tier or group it comes from")
    period: str
    spent_usd: str = Field(description="Spend this period to date")
    spend_limit_id: str | None = Field(description="The member's own limit, when source is user")


class IncreaseRequestPublic(BaseModel):
    id: str
    email: str
    name: str
    status: str
    period: str
    created_at: datetime | None
    current: LimitPublic | None = Field(description="The member's limit in force while pending")


class ConnectionLimitsPublic(BaseModel):
    connection: str
    provider_organization: str
    can_write: bool = Field(description="The key may change limits (write:spend_limits)")
    error: str | None = Field(description="Why the limits could not be read, and what to do")
    members: list[LimitPublic]
    pending_requests: list[IncreaseRequestPublic]


class LimitsPublic(BaseModel):
    connections: list[ConnectionLimitsPublic] = Field(
        description="Every Claude Enterprise connection; empty when none is connected"
    )


def today() -> date:
    return datetime.now(UTC).date()


@router.get("/rates", tags=["costs"])
def rates(
    principal: CostManager,
    runtime: RuntimeDep,
    as_of: Annotated[
        date | None, Query(description="Credit balances as of this UTC day; default today")
    ] = None,
    rerate_since: Annotated[date | None, Query(description="First UTC day of a re-rating dry run")] = None,
    rerate_until: Annotated[
        date | None, Query(description="Last UTC day of a re-rating dry run, inclusive")
    ] = None,
) -> RatesPublic:
    """Rate cards with every version, credits with their balance, Codex credit rates and, for a
    period, what re-rating it would change (as `aispend rerate` without --apply: nothing is written)."""
    if (rerate_since is None) != (rerate_until is None):
        raise HTTPException(422, detail="give both rerate_since and rerate_until, or neither")
    with org_db(runtime, principal) as session:
        body = rates_data(session, principal.org_id, as_of or today()).as_json()
        if rerate_since is not None and rerate_until is not None:
            try:
                diff: RerateDiff = rerate_diff(
                    session, principal.org_id, since=rerate_since, until=rerate_until
                )
            except ValueError as error:
                raise HTTPException(422, detail=str(error)) from None
            body["rerate"] = diff.as_json()
    return RatesPublic.model_validate(body)


@router.get("/limits", tags=["costs"])
def limits(principal: CostManager, runtime: RuntimeDep) -> LimitsPublic:
    """Claude Enterprise spend limits: every member's limit in force and where it comes from, and the
    pending limit-increase requests, per connection (as `aispend limits list` and `limits requests`)."""
    found = limits_data(runtime, principal.org_id)
    return LimitsPublic.model_validate({"connections": [c.as_json() for c in found]})

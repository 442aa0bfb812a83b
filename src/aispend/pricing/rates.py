"""Rate cards: an organisation's negotiated prices, effective-dated and versioned.

A card covers one provider (or all) and a model pattern; its terms are versions, each in
force from its ``effective_from`` until the card's next version, and none ever changed
once written (a change is a new version). Terms are a percentage discount off list, explicit
USD per million tokens per token kind, and an optional committed monthly spend.

Which version prices a usage fact of day D:

1. cards are tried most specific first: one naming the provider before one for all, a
   longer literal model pattern before a shorter one, a newer card before an older;
2. within a card, the version with the latest ``effective_from`` on or before D;
3. a version prices D on its own only from its ``auto_from``: the first day that was not in
   a closed period (a month already over) when the version was made. Earlier days stay as
   they were priced until a re-rating of them is applied (``rerate_runs``): an applied
   re-rating of ``[since, until]`` lets every version made before it price those days.

So history never changes behind anyone's back, and applying the same re-rating twice
changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, UOWTransaction

from aispend import audit
from aispend.pricing.amounts import plain_number, plain_usd
from aispend.pricing.listcost import CardTerms
from aispend.pricing.listprice import TOKEN_KINDS
from aispend.store.schema import FactPrice, RateCard, RateCardVersion, RerateRun

__all__ = [
    "CardResolver",
    "RateCardVersionIsImmutableError",
    "RateVersion",
    "add_rate_version",
    "facts_priced_by",
    "first_open_day",
    "load_resolver",
    "rate_cards",
]


class RateCardVersionIsImmutableError(Exception):
    """Something tried to change or delete a rate card version; add a new version instead."""


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    # A version may have priced a closed period: it is history, changed only by a new version.
    for item in (*session.dirty, *session.deleted):
        if isinstance(item, RateCardVersion) and (item in session.deleted or session.is_modified(item)):
            raise RateCardVersionIsImmutableError("rate card versions are never changed; add a new version")


def first_open_day(today: date) -> date:
    """The first day of the period still open on ``today``: months already over are closed."""
    return today.replace(day=1)


@dataclass(frozen=True, slots=True)
class RateVersion:
    """One version of a card, with the card's scope."""

    id: int
    card_name: str
    provider: str
    model_pattern: str
    version: int
    effective_from: date
    auto_from: date
    discount_pct: Decimal
    rates: Mapping[str, Decimal]
    commitment_usd: Decimal | None
    note: str
    created_at: datetime
    created_by: str
    card_id: int = 0

    @property
    def terms(self) -> CardTerms:
        return CardTerms(self.discount_pct, self.rates)

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "auto_from": self.auto_from.isoformat(),
            "discount_pct": plain_number(self.discount_pct),
            "rates": {kind: plain_number(rate) for kind, rate in sorted(self.rates.items())},
            "commitment_usd": None if self.commitment_usd is None else plain_usd(self.commitment_usd),
            "note": self.note,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }


def _view(card: RateCard, version: RateCardVersion) -> RateVersion:
    return RateVersion(
        id=version.id,
        card_name=card.name,
        provider=card.provider,
        model_pattern=card.model_pattern,
        version=version.version,
        effective_from=version.effective_from,
        auto_from=version.auto_from,
        discount_pct=version.discount_pct,
        rates={kind: Decimal(value) for kind, value in (version.rates or {}).items()},
        commitment_usd=version.commitment_usd,
        note=version.note,
        created_at=version.created_at,
        created_by=version.created_by,
        card_id=card.id,
    )


def _specificity(version: RateVersion) -> tuple[int, int, int]:
    literal = len(version.model_pattern.replace("*", "").replace("?", ""))
    return (version.provider != "", literal, version.card_id)


class CardResolver:
    """Chooses the version that prices a fact; built once per pricing pass."""

    def __init__(self, versions: Sequence[RateVersion], runs: Sequence[tuple[date, date, datetime]]) -> None:
        self.cards: dict[int, list[RateVersion]] = {}
        for version in versions:
            self.cards.setdefault(version.card_id, []).append(version)
        for card_versions in self.cards.values():
            card_versions.sort(key=lambda v: (v.effective_from, v.version), reverse=True)
        self.order = sorted(self.cards, key=lambda card: _specificity(self.cards[card][0]), reverse=True)
        self.runs = list(runs)
        self.version_for = functools.cache(self._version_for)

    def _eligible(self, version: RateVersion, day: date) -> bool:
        if day >= version.auto_from:
            return True
        return any(
            since <= day <= until and applied >= version.created_at for since, until, applied in self.runs
        )

    def _version_for(self, provider: str, model: str, day: date) -> RateVersion | None:
        for card in self.order:
            versions = self.cards[card]
            scope = versions[0]
            if scope.provider not in ("", provider) or not fnmatchcase(
                model.lower(), scope.model_pattern.lower()
            ):
                continue
            for version in versions:
                if version.effective_from <= day and self._eligible(version, day):
                    return version
        return None

    @property
    def empty(self) -> bool:
        return not self.cards


def _versions(session: Session, org_id: int) -> list[RateVersion]:
    rows = session.execute(
        select(RateCard, RateCardVersion)
        .join(RateCardVersion, RateCardVersion.card_id == RateCard.id)
        .where(RateCard.org_id == org_id, RateCardVersion.org_id == org_id)
        .order_by(RateCard.name, RateCardVersion.version)
    )
    return [_view(card, version) for card, version in rows]


def load_resolver(
    session: Session, org_id: int, extra_run: tuple[date, date, datetime] | None = None
) -> CardResolver:
    """The organisation's cards and applied re-ratings; ``extra_run`` adds one not yet applied."""
    runs = [
        (since, until, applied)
        for since, until, applied in session.execute(
            select(RerateRun.since, RerateRun.until, RerateRun.applied_at).where(RerateRun.org_id == org_id)
        )
    ]
    if extra_run is not None:
        runs.append(extra_run)
    return CardResolver(_versions(session, org_id), runs)


def rate_cards(session: Session, org_id: int) -> dict[str, list[RateVersion]]:
    """Every card's versions, oldest first, by card name."""
    out: dict[str, list[RateVersion]] = {}
    for version in _versions(session, org_id):
        out.setdefault(version.card_name, []).append(version)
    return out


def facts_priced_by(session: Session, org_id: int) -> dict[int, int]:
    """How many usage facts each version prices now."""
    rows = session.execute(
        select(FactPrice.rate_card_version_id, func.count())
        .where(FactPrice.org_id == org_id, FactPrice.rate_card_version_id.is_not(None))
        .group_by(FactPrice.rate_card_version_id)
    )
    return {version: int(count) for version, count in rows if version is not None}


def _check_terms(discount_pct: Decimal, rates: Mapping[str, Decimal], commitment_usd: Decimal | None) -> None:
    if not discount_pct.is_finite() or not Decimal(0) <= discount_pct <= Decimal(100):
        raise ValueError("a discount is a percentage from 0 to 100")
    for kind, rate in rates.items():
        if kind not in TOKEN_KINDS:
            raise ValueError(f"unknown token kind {kind!r}; rates are for {', '.join(sorted(TOKEN_KINDS))}")
        if not rate.is_finite() or rate < 0:
            raise ValueError(f"the rate of {kind} must be a non-negative USD amount per million tokens")
    if commitment_usd is not None and (not commitment_usd.is_finite() or commitment_usd <= 0):
        raise ValueError("a commitment is a positive USD amount per month")
    if not discount_pct and not rates and commitment_usd is None:
        raise ValueError("a rate card version needs a discount, a rate or a commitment")


def add_rate_version(
    session: Session,
    org_id: int,
    *,
    name: str,
    effective_from: date,
    today: date,
    provider: str | None = None,
    model_pattern: str | None = None,
    discount_pct: Decimal = Decimal(0),
    rates: Mapping[str, Decimal] | None = None,
    commitment_usd: Decimal | None = None,
    note: str = "",
) -> RateVersion:
    """Add a version to the card ``name`` (created with its scope when new). Audited.

    ``provider`` and ``model_pattern`` set a new card's scope; for an existing card they must
    match it (a card's scope never changes). The version prices open days at once; days in a
    closed period wait for an applied re-rating (see the module docstring).
    """
    rates = dict(rates or {})
    _check_terms(discount_pct, rates, commitment_usd)
    if not name.strip():
        raise ValueError("a rate card needs a name")
    card = session.scalar(select(RateCard).where(RateCard.org_id == org_id, RateCard.name == name))
    if card is None:
        card = RateCard(org_id=org_id, name=name, provider=provider or "", model_pattern=model_pattern or "*")
        session.add(card)
        session.flush()
    elif (provider is not None and provider != card.provider) or (
        model_pattern is not None and model_pattern != card.model_pattern
    ):
        raise ValueError(
            f"rate card {name!r} covers provider {card.provider or 'all'!r} and models "
            f"{card.model_pattern!r}; a card's scope never changes, so add a new card instead"
        )
    previous = session.scalar(
        select(RateCardVersion)
        .where(RateCardVersion.card_id == card.id)
        .order_by(RateCardVersion.version.desc())
        .limit(1)
    )
    version = RateCardVersion(
        org_id=org_id,
        card_id=card.id,
        version=(previous.version + 1) if previous else 1,
        effective_from=effective_from,
        auto_from=max(effective_from, first_open_day(today)),
        discount_pct=discount_pct,
        rates={kind: format(rate, "f") for kind, rate in sorted(rates.items())},
        commitment_usd=commitment_usd,
        note=note,
        created_by=audit.current_actor().email,
    )
    session.add(version)
    session.flush()
    view = _view(card, version)
    audit.record(
        session,
        org_id=org_id,
        action="rates.changed",
        target=f"rate_card:{name}",
        before=None if previous is None else _view(card, previous).as_json(),
        after={"provider": card.provider, "model_pattern": card.model_pattern, **view.as_json()},
    )
    return view

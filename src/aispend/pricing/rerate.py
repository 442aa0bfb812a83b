"""Re-rating history: price ``[since, until]`` again with every rate card version, explicitly.

A rate card version made after a period closed does not price that period on its own
(:mod:`aispend.pricing.rates`). A re-rating does: :func:`rerate_diff` shows what would change
(per connection, model and rate card version: facts, effective cost before and after), and
:func:`apply_rerate` applies exactly that, recording the re-rating and an audit entry.

The dry run *is* the re-rating, done inside a savepoint that is then rolled back, so the diff
shown is what applying does. Applying the same re-rating twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aispend import audit
from aispend.pricing.amounts import plain_usd
from aispend.pricing.figures import day_figures
from aispend.pricing.priced import reprice
from aispend.pricing.rates import load_resolver, rate_cards
from aispend.store.schema import Connection, FactPrice, RerateRun

__all__ = ["RerateChange", "RerateDiff", "apply_rerate", "rerate_diff"]


def _optional(amount: Decimal | None) -> str | None:
    return None if amount is None else plain_usd(amount)


@dataclass
class RerateChange:
    """Facts of one connection and model whose price moves from one version to another."""

    connection: str
    model: str
    old_version: str
    new_version: str
    facts: int = 0
    first_day: date | None = None
    last_day: date | None = None
    list_usd: Decimal = Decimal(0)
    # None where no card priced the facts (their reported cost stood) or a kind had no price.
    old_effective_usd: Decimal | None = Decimal(0)
    new_effective_usd: Decimal | None = Decimal(0)

    def add(self, day: date, list_usd: Decimal, old: Decimal | None, new: Decimal | None) -> None:
        self.facts += 1
        self.first_day = min(self.first_day or day, day)
        self.last_day = max(self.last_day or day, day)
        self.list_usd += list_usd
        self.old_effective_usd = (
            None if old is None or self.old_effective_usd is None else self.old_effective_usd + old
        )
        self.new_effective_usd = (
            None if new is None or self.new_effective_usd is None else self.new_effective_usd + new
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "model": self.model,
            "old_version": self.old_version,
            "new_version": self.new_version,
            "facts": self.facts,
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "list_usd": plain_usd(self.list_usd),
            "old_effective_usd": _optional(self.old_effective_usd),
            "new_effective_usd": _optional(self.new_effective_usd),
        }


@dataclass
class RerateDiff:
    """What re-rating ``[since, until]`` changes. ``effective_*`` are the period's effective
    cost (after rate cards, reported where no card prices) before and after."""

    since: date
    until: date
    applied: bool
    changes: list[RerateChange] = field(default_factory=list)
    effective_before_usd: Decimal = Decimal(0)
    effective_after_usd: Decimal = Decimal(0)

    @property
    def facts_changed(self) -> int:
        return sum(change.facts for change in self.changes)

    @property
    def delta_usd(self) -> Decimal:
        return self.effective_after_usd - self.effective_before_usd

    def as_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "applied": self.applied,
            "facts_changed": self.facts_changed,
            "effective_before_usd": plain_usd(self.effective_before_usd),
            "effective_after_usd": plain_usd(self.effective_after_usd),
            "delta_usd": plain_usd(self.delta_usd),
            "changes": [change.as_json() for change in self.changes],
        }


_State = dict[int, tuple[int, date, str, Decimal, Decimal | None, int | None]]


def _state(session: Session, org_id: int, since: date, until: date) -> _State:
    rows = session.execute(
        select(
            FactPrice.usage_fact_id,
            FactPrice.connection_id,
            FactPrice.day,
            FactPrice.model,
            FactPrice.list_usd,
            FactPrice.effective_usd,
            FactPrice.rate_card_version_id,
        ).where(FactPrice.org_id == org_id, FactPrice.day >= since, FactPrice.day <= until)
    )
    return {
        fact: (conn, day, model, list_usd, effective, version)
        for fact, conn, day, model, list_usd, effective, version in rows
    }


def _effective(session: Session, org_id: int, since: date, until: date) -> Decimal:
    figures = day_figures(session, org_id, since, until)
    return sum((day.effective_usd for day in figures.values()), Decimal(0))


def _diff(
    session: Session, org_id: int, since: date, until: date, before: _State, after: _State
) -> list[RerateChange]:
    names = dict(
        session.execute(select(Connection.id, Connection.name).where(Connection.org_id == org_id)).all()
    )
    labels = {
        version.id: f"{name} v{version.version}"
        for name, versions in rate_cards(session, org_id).items()
        for version in versions
    }
    grouped: dict[tuple[str, str, str, str], RerateChange] = {}
    for fact, (conn, day, model, list_usd, new_effective, new_version) in after.items():
        old = before.get(fact)
        old_effective, old_version = (old[4], old[5]) if old else (None, None)
        if (old_effective, old_version) == (new_effective, new_version):
            continue
        key = (
            names[conn],
            model,
            labels.get(old_version or 0, "no card"),
            labels.get(new_version or 0, "no card"),
        )
        grouped.setdefault(key, RerateChange(*key)).add(day, list_usd, old_effective, new_effective)
    return sorted(grouped.values(), key=lambda c: (c.connection, c.model, c.old_version, c.new_version))


def _rerated(
    session: Session, org_id: int, since: date, until: date, at: datetime, applied: bool
) -> RerateDiff:
    before = _state(session, org_id, since, until)
    diff = RerateDiff(since, until, applied, effective_before_usd=_effective(session, org_id, since, until))
    resolver = load_resolver(session, org_id, extra_run=None if applied else (since, until, at))
    reprice(session, org_id, since=since, until=until, resolver=resolver)
    diff.changes = _diff(session, org_id, since, until, before, _state(session, org_id, since, until))
    diff.effective_after_usd = _effective(session, org_id, since, until)
    return diff


def _check(since: date, until: date) -> None:
    if until < since:
        raise ValueError(f"--until {until} is before --since {since}")


def rerate_diff(session: Session, org_id: int, *, since: date, until: date) -> RerateDiff:
    """What re-rating ``[since, until]`` would change. Writes nothing."""
    _check(since, until)
    savepoint = session.begin_nested()
    try:
        return _rerated(session, org_id, since, until, datetime.now(UTC), applied=False)
    finally:
        savepoint.rollback()


def apply_rerate(session: Session, org_id: int, *, since: date, until: date) -> RerateDiff:
    """Re-rate ``[since, until]``: record the re-rating, price the days again, audit it."""
    _check(since, until)
    run = RerateRun(org_id=org_id, since=since, until=until, actor_email=audit.current_actor().email)
    session.add(run)
    session.flush()
    diff = _rerated(session, org_id, since, until, run.applied_at, applied=True)
    run.facts_changed = diff.facts_changed
    run.delta_usd = diff.delta_usd
    audit.record(
        session,
        org_id=org_id,
        action="rerate.applied",
        target=f"period:{since.isoformat()}..{until.isoformat()}",
        before={"effective_usd": plain_usd(diff.effective_before_usd)},
        after={
            "effective_usd": plain_usd(diff.effective_after_usd),
            "facts_changed": diff.facts_changed,
            "rerate_run_id": run.id,
        },
    )
    return diff

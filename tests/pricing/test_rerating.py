"""Properties of rate cards and re-rating, on generated usage across a closed and an open month.

- a closed period never changes without an applied re-rating, whatever cards are added,
  dry runs shown or days priced again;
- applying the same re-rating twice changes nothing the second time;
- a rate card version is never changed.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from fnmatch import fnmatchcase

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from aispend.model import UsageRecord
from aispend.pricing.priced import add_rates, price_usage_days
from aispend.pricing.rates import RateCardVersionIsImmutableError, first_open_day
from aispend.pricing.rerate import apply_rerate, rerate_diff
from aispend.runtime import Runtime
from aispend.store.facts import replace_usage_day
from aispend.store.schema import Connection, FactPrice, Organisation, RateCardVersion

TODAY = date(2026, 11, 10)
FIRST = date(2026, 10, 25)
DAYS = [FIRST + timedelta(days=n) for n in range(14)]
OPEN = first_open_day(TODAY)
MODELS = ("claude-opus-4-6", "claude-sonnet-4-6", "claude-nova-9")

usage = st.lists(
    st.tuples(
        st.sampled_from(DAYS),
        st.sampled_from(MODELS),
        st.integers(0, 10**8),
        st.integers(0, 10**7),
        st.sampled_from(("standard", "batch", "priority")),
    ),
    min_size=1,
    max_size=15,
    unique_by=lambda row: (row[0], row[1], row[4]),
)
cards = st.lists(
    st.tuples(
        st.sampled_from(("", "anthropic", "openai")),
        st.sampled_from(("*", "claude-opus-*", "claude-sonnet-4-6")),
        st.integers(0, 60),
        st.sampled_from((None, "1.5", "4")),
        st.sampled_from(DAYS),
    ),
    min_size=1,
    max_size=4,
)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def organisation(runtime: Runtime, rows: list[tuple[date, str, int, int, str]]) -> int:
    """A fresh organisation with one Anthropic connection holding ``rows``, priced."""
    with runtime.db.session() as session:
        org = Organisation(name=f"org-{uuid.uuid4().hex[:8]}")
        session.add(org)
        session.flush()
        connection = Connection(
            org_id=org.id, name="c", provider="anthropic", provider_account_id=str(org.id)
        )
        session.add(connection)
        session.flush()
        for day in DAYS:
            records = [
                UsageRecord(day, "messages", model, service_tier=tier, input_tokens=i, output_tokens=o)
                for d, model, i, o, tier in rows
                if d == day
            ]
            replace_usage_day(
                session,
                org_id=org.id,
                connection_id=connection.id,
                stream="messages",
                day=day,
                records=records,
            )
        price_usage_days(session, org_id=org.id, connection_id=connection.id, provider="anthropic", days=DAYS)
        return org.id


def state(runtime: Runtime, org_id: int) -> dict[int, tuple[date, Decimal, Decimal | None, int | None]]:
    with runtime.db.session() as session:
        rows = session.execute(
            select(
                FactPrice.usage_fact_id,
                FactPrice.day,
                FactPrice.list_usd,
                FactPrice.effective_usd,
                FactPrice.rate_card_version_id,
            ).where(FactPrice.org_id == org_id)
        )
        return {fact: (day, listed, effective, version) for fact, day, listed, effective, version in rows}


def model_of(runtime: Runtime, org_id: int) -> dict[int, str]:
    with runtime.db.session() as session:
        rows = session.execute(
            select(FactPrice.usage_fact_id, FactPrice.model).where(FactPrice.org_id == org_id)
        )
        return {fact: model for fact, model in rows}


def closed(prices: dict[int, tuple[date, Decimal, Decimal | None, int | None]]) -> dict[int, object]:
    return {fact: price for fact, price in prices.items() if price[0] < OPEN}


def add_cards(runtime: Runtime, org_id: int, terms: list[tuple[str, str, int, str | None, date]]) -> None:
    for n, (provider, pattern, discount, rate, effective_from) in enumerate(terms):
        with runtime.db.session() as session:
            add_rates(
                session,
                org_id,
                today=TODAY,
                name=f"card-{n}",
                provider=provider,
                model_pattern=pattern,
                effective_from=effective_from,
                discount_pct=Decimal(discount),
                rates={"input": Decimal(rate)} if rate else {},
                commitment_usd=None if discount or rate else Decimal(100),
            )


@SETTINGS
@given(rows=usage, terms=cards)
def test_a_closed_period_never_changes_without_apply(
    runtime: Runtime,
    rows: list[tuple[date, str, int, int, str]],
    terms: list[tuple[str, str, int, str | None, date]],
) -> None:
    org_id = organisation(runtime, rows)
    before = closed(state(runtime, org_id))
    add_cards(runtime, org_id, terms)
    with runtime.db.session() as session:
        diff = rerate_diff(session, org_id, since=DAYS[0], until=DAYS[-1])
        # A sync writing the same days again prices them again.
        connection_id = session.scalar(select(Connection.id).where(Connection.org_id == org_id))
        assert connection_id is not None
        price_usage_days(session, org_id=org_id, connection_id=connection_id, provider="anthropic", days=DAYS)
    assert closed(state(runtime, org_id)) == before
    assert all(change.last_day is not None for change in diff.changes)
    with runtime.db.session() as session:
        applied = apply_rerate(session, org_id, since=DAYS[0], until=DAYS[-1])
    assert applied.as_json() == {**diff.as_json(), "applied": True}


@SETTINGS
@given(rows=usage, terms=cards)
# Found by CI: an unknown model with no tokens has nothing unpriced, so a card prices it at $0.
@example(
    rows=[(date(2026, 10, 25), "claude-nova-9", 0, 0, "standard")],
    terms=[("", "*", 0, None, date(2026, 10, 25))],
)
# Found by CI: an explicit input rate prices an unknown model's input tokens.
@example(
    rows=[
        (date(2026, 10, 25), "claude-opus-4-6", 0, 0, "standard"),
        (date(2026, 10, 25), "claude-nova-9", 1, 0, "standard"),
    ],
    terms=[("", "*", 0, "1.5", date(2026, 10, 25))],
)
def test_re_rating_the_same_cards_twice_changes_nothing(
    runtime: Runtime,
    rows: list[tuple[date, str, int, int, str]],
    terms: list[tuple[str, str, int, str | None, date]],
) -> None:
    org_id = organisation(runtime, rows)
    add_cards(runtime, org_id, terms)
    with runtime.db.session() as session:
        apply_rerate(session, org_id, since=DAYS[0], until=DAYS[-1])
    first = state(runtime, org_id)
    with runtime.db.session() as session:
        again = apply_rerate(session, org_id, since=DAYS[0], until=DAYS[-1])
        dry = rerate_diff(session, org_id, since=DAYS[0], until=DAYS[-1])
    assert (again.facts_changed, again.delta_usd, dry.facts_changed) == (0, 0, 0)
    assert state(runtime, org_id) == first
    # Once re-rated, a fact is priced by a card exactly when one covers its model and day.
    models = model_of(runtime, org_id)
    with runtime.db.session() as session:
        unpriced = {
            fact: {kind for kind in kinds.split(",") if kind}
            for fact, kinds in session.execute(
                select(FactPrice.usage_fact_id, FactPrice.unpriced_kinds).where(FactPrice.org_id == org_id)
            )
        }
        explicit = {
            version: set(rates)
            for version, rates in session.execute(select(RateCardVersion.id, RateCardVersion.rates))
        }
    for fact, (day, _, effective, version) in first.items():
        covered = any(
            provider in ("", "anthropic") and fnmatchcase(models[fact], pattern) and start <= day
            for provider, pattern, _, _, start in terms
        )
        assert (version is not None) == covered
        # A kind without a list price has an effective price only where the card names a rate for it.
        rated = version is not None and unpriced[fact] <= explicit[version]
        assert (effective is not None) == (covered and rated)


def test_a_rate_card_version_is_never_changed(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        add_rates(
            session, runtime.org_id, today=TODAY, name="fixed", effective_from=TODAY, discount_pct=Decimal(5)
        )
    # The session commits on leaving its block: that flush is refused.
    with pytest.raises(RateCardVersionIsImmutableError), runtime.db.session() as session:
        session.scalars(select(RateCardVersion)).one().discount_pct = Decimal(50)
    with pytest.raises(RateCardVersionIsImmutableError), runtime.db.session() as session:
        session.delete(session.scalars(select(RateCardVersion)).one())
    with runtime.db.session() as session:
        assert session.scalars(select(RateCardVersion.discount_pct)).one() == Decimal(5)

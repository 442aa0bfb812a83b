"""Money round-trips the database exactly, on SQLite and on PostgreSQL, and sums exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from aispend.model import CostRecord
from aispend.runtime import Runtime
from aispend.store.facts import replace_cost_day
from aispend.store.schema import CostFact
from aispend.store.types import to_stored_money

DAY = date(2025, 8, 1)


def store(runtime: Runtime, connection_id: int, amounts: list[Decimal], day: date = DAY) -> None:
    records = [
        CostRecord(day=day, amount_usd=amount, description=f"line {i}") for i, amount in enumerate(amounts)
    ]
    with runtime.db.session() as session:
        replace_cost_day(
            session,
            org_id=runtime.org_id,
            connection_id=connection_id,
            stream="cost",
            day=day,
            records=records,
        )


def read_back(runtime: Runtime, connection_id: int, day: date = DAY) -> tuple[list[Decimal], Decimal | None]:
    where = (CostFact.connection_id == connection_id, CostFact.day == day)
    with runtime.db.session() as session:
        rows = session.execute(select(CostFact.description, CostFact.amount_usd).where(*where)).all()
        total = session.scalar(select(func.sum(CostFact.amount_usd)).where(*where))
    by_line = {description: amount for description, amount in rows}
    return [by_line[f"line {i}"] for i in range(len(by_line))], total


AWKWARD = [
    Decimal("0.000000001"),
    Decimal("1234567.123456789"),
    Decimal("-0.000000001"),
    Decimal("-98765.432109876"),
    Decimal("1.2378912"),
    Decimal("0.1"),
    Decimal("0.2"),
    Decimal("0"),
    Decimal("999999999.999999999"),
]


def test_awkward_amounts_come_back_exact(runtime: Runtime, connection_id: int) -> None:
    store(runtime, connection_id, AWKWARD)

    amounts, total = read_back(runtime, connection_id)

    assert amounts == AWKWARD
    assert all(isinstance(amount, Decimal) for amount in amounts)
    assert total == sum(AWKWARD, Decimal(0))
    assert total == Decimal("1001135803.229238112")
    assert isinstance(total, Decimal)


def test_sum_of_many_small_amounts_does_not_drift(runtime: Runtime, connection_id: int) -> None:
    amounts = [Decimal("0.1")] * 700 + [Decimal("0.000000003")] * 300
    # The float sum of the same values is not exact; the stored sum must be.
    assert sum(float(a) for a in amounts) != 70.0000009

    store(runtime, connection_id, amounts)

    _, total = read_back(runtime, connection_id)
    assert total == Decimal("70.000000900")


def test_sum_of_no_rows_is_null(runtime: Runtime, connection_id: int) -> None:
    _, total = read_back(runtime, connection_id, date(1999, 1, 1))

    assert total is None


@pytest.mark.parametrize(
    ("given_amount", "stored"),
    [
        ("0.0000000005", "0.000000000"),
        ("0.0000000015", "0.000000002"),
        ("0.0000000025", "0.000000002"),
        ("0.00000000250001", "0.000000003"),
        ("-0.0000000015", "-0.000000002"),
        ("1.23456789049999", "1.234567890"),
    ],
)
def test_amounts_finer_than_a_billionth_round_half_even(
    runtime: Runtime, connection_id: int, given_amount: str, stored: str
) -> None:
    assert to_stored_money(Decimal(given_amount)) == Decimal(stored)

    store(runtime, connection_id, [Decimal(given_amount)])

    amounts, _ = read_back(runtime, connection_id)
    assert amounts == [Decimal(stored)]


@pytest.mark.parametrize("value", [0.1, 1.0, float("nan"), "1.00", True, None])
def test_to_stored_money_refuses_anything_but_decimal_or_int(value: object) -> None:
    with pytest.raises(TypeError, match="money must be Decimal or int"):
        to_stored_money(value)  # type: ignore[arg-type]


def test_ints_are_whole_dollars() -> None:
    assert to_stored_money(3) == Decimal("3.000000000")


def test_money_column_refuses_floats(runtime: Runtime, connection_id: int) -> None:
    with pytest.raises((TypeError, StatementError)) as info:
        store(runtime, connection_id, [0.1])  # type: ignore[list-item]
    error = info.value
    cause = error.orig if isinstance(error, StatementError) else error
    assert isinstance(cause, TypeError)
    assert "float" in str(cause)

    amounts, _ = read_back(runtime, connection_id)
    assert amounts == []


amount_strategy = st.decimals(
    min_value=Decimal("-1000000"),
    max_value=Decimal("1000000"),
    places=9,
    allow_nan=False,
    allow_infinity=False,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amounts=st.lists(amount_strategy, max_size=30))
def test_database_sum_equals_decimal_sum(
    runtime: Runtime, connection_id: int, amounts: list[Decimal]
) -> None:
    store(runtime, connection_id, amounts)

    stored, total = read_back(runtime, connection_id)

    assert stored == amounts
    if amounts:
        assert total == sum(amounts, Decimal(0))
    else:
        assert total is None

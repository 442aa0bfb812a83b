"""The spend report on hand-made facts: token fields, row order, and the user remainder."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from aispend.model import CostRecord, UsageRecord
from aispend.reports.queries import spend_report
from aispend.runtime import Runtime
from aispend.store.allocations import reallocate_days
from aispend.store.facts import replace_cost_day, replace_usage_day

JULY = date(2025, 7, 31)
AUGUST = date(2025, 8, 1)


@pytest.fixture
def facts(runtime: Runtime, connection_id: int) -> None:
    org_id = runtime.org_id
    with runtime.db.session() as session:
        replace_usage_day(
            session,
            org_id=org_id,
            connection_id=connection_id,
            stream="messages",
            day=JULY,
            records=[
                UsageRecord(
                    day=JULY,
                    stream="messages",
                    model="claude-a",
                    input_tokens=10,
                    cache_write_5m_tokens=1,
                    cache_write_1h_tokens=2,
                    cache_write_other_tokens=4,  # older response shape: no 5m/1h split
                    cache_read_tokens=8,
                    output_tokens=16,
                )
            ],
        )
        replace_usage_day(
            session,
            org_id=org_id,
            connection_id=connection_id,
            stream="claude_code",
            day=JULY,
            records=[
                UsageRecord(
                    day=JULY,
                    stream="claude_code",
                    model="claude-a",
                    user_id="ada@example.com",
                    input_tokens=3,
                    cache_write_other_tokens=2,
                    cache_read_tokens=1,
                    output_tokens=5,
                    estimated_cost_usd=Decimal("0.10"),
                )
            ],
        )
        replace_cost_day(
            session,
            org_id=org_id,
            connection_id=connection_id,
            stream="cost",
            day=JULY,
            records=[CostRecord(day=JULY, amount_usd=Decimal("1"), model="claude-a")],
        )
        replace_cost_day(
            session,
            org_id=org_id,
            connection_id=connection_id,
            stream="cost",
            day=AUGUST,
            records=[
                CostRecord(day=AUGUST, amount_usd=Decimal("3"), model="claude-c"),
                CostRecord(day=AUGUST, amount_usd=Decimal("3"), model="claude-b"),
            ],
        )
        # As every sync write does, in the same transaction.
        reallocate_days(
            session, org_id=org_id, connection_id=connection_id, days=[JULY, AUGUST], provider="anthropic"
        )


def tokens(row: dict[str, Any]) -> tuple[int, int, int, int]:
    return row["input_tokens"], row["cache_write_tokens"], row["cache_read_tokens"], row["output_tokens"]


def report(runtime: Runtime, by: str) -> dict[str, Any]:
    with runtime.db.session() as session:
        return spend_report(session, runtime.org_id, by=by, since=JULY, until=AUGUST).as_json()  # type: ignore[arg-type]


@pytest.mark.usefixtures("facts")
def test_cache_writes_are_5m_plus_1h_plus_unsplit(runtime: Runtime) -> None:
    body = report(runtime, "model")

    row = next(r for r in body["rows"] if r["key"] == "claude-a")
    assert tokens(row) == (10, 1 + 2 + 4, 8, 16)
    assert body["total"]["cache_write_tokens"] == 7


@pytest.mark.usefixtures("facts")
def test_rows_are_by_cost_descending_then_key(runtime: Runtime) -> None:
    assert [r["key"] for r in report(runtime, "model")["rows"]] == ["claude-b", "claude-c", "claude-a"]


@pytest.mark.usefixtures("facts")
@pytest.mark.parametrize(
    ("by", "keys"), [("day", ["2025-07-31", "2025-08-01"]), ("month", ["2025-07", "2025-08"])]
)
def test_periods_are_in_calendar_order_whatever_they_cost(runtime: Runtime, by: str, keys: list[str]) -> None:
    assert [r["key"] for r in report(runtime, by)["rows"]] == keys


@pytest.mark.usefixtures("facts")
def test_the_unattributed_user_row_is_the_rest_of_cost_and_tokens(runtime: Runtime) -> None:
    body = report(runtime, "user")

    rows = {r["key"]: r for r in body["rows"]}
    assert set(rows) == {"ada@example.com", "unattributed"}
    rest = rows["unattributed"]
    assert Decimal(rest["cost_usd"]) == Decimal("7") - Decimal("0.10")
    assert tokens(rest) == (10 - 3, 7 - 2, 8 - 1, 16 - 5)  # messages tokens less Claude Code's

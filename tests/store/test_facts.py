"""The one write path for facts, and the per-key split of cost rebuilt from them."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aispend.model import CostRecord, UsageRecord
from aispend.runtime import Runtime
from aispend.store.allocations import UNALLOCATED, reallocate_days
from aispend.store.facts import replace_cost_day, replace_usage_day
from aispend.store.schema import AllocatedCost, CostFact, UsageFact
from tests.conftest import add_connection

DAY = date(2025, 8, 1)
NEXT = date(2025, 8, 2)
WS = "wrkspc_A"
OPUS = "claude-opus-4-6"


def usage(day: date = DAY, **fields: Any) -> UsageRecord:
    base: dict[str, Any] = {
        "stream": "messages",
        "model": OPUS,
        "workspace_id": WS,
        "api_key_id": "k1",
        "service_tier": "standard",
        "context_window": "0-200k",
        "inference_geo": "global",
    }
    return UsageRecord(day=day, **{**base, **fields})


def cost(amount: str, day: date = DAY, **fields: Any) -> CostRecord:
    base: dict[str, Any] = {
        "workspace_id": WS,
        "cost_type": "tokens",
        "model": OPUS,
        "token_type": "input",
        "service_tier": "standard",
        "context_window": "0-200k",
        "inference_geo": "global",
    }
    return CostRecord(day=day, amount_usd=Decimal(amount), **{**base, **fields})


def write_usage(
    runtime: Runtime,
    connection_id: int,
    records: Sequence[UsageRecord],
    *,
    day: date = DAY,
    stream: str = "messages",
    clear_absent: bool = True,
) -> int:
    with runtime.db.session() as session:
        return replace_usage_day(
            session,
            org_id=runtime.org_id,
            connection_id=connection_id,
            stream=stream,
            day=day,
            records=records,
            clear_absent=clear_absent,
        )


def write_cost(
    runtime: Runtime,
    connection_id: int,
    records: Sequence[CostRecord],
    *,
    day: date = DAY,
    clear_absent: bool = True,
) -> int:
    with runtime.db.session() as session:
        return replace_cost_day(
            session,
            org_id=runtime.org_id,
            connection_id=connection_id,
            stream="cost",
            day=day,
            records=records,
            clear_absent=clear_absent,
        )


def rows(runtime: Runtime, model: type[UsageFact] | type[CostFact]) -> list[dict[str, Any]]:
    """Every column of every row, ids included, in id order."""
    table = model.__table__
    with runtime.db.session() as session:
        result = session.execute(select(table).order_by(table.c.id))
        return [dict(row._mapping) for row in result]


# --- replace_usage_day / replace_cost_day -----------------------------------------------

USAGE_DAY = [
    usage(
        api_key_id="k1", input_tokens=100, output_tokens=10, cache_write_5m_tokens=5, cache_write_1h_tokens=7
    ),
    usage(api_key_id="k2", input_tokens=300, output_tokens=30, web_search_requests=2),
    usage(api_key_id="", workspace_id="", input_tokens=1),
]
COST_DAY = [
    cost("1.2378912"),
    cost("0.000000001", token_type="output", description="Claude Opus 4.6 Usage - Output Tokens"),
    cost("0.05", cost_type="code_execution", model="", token_type="", service_tier="", context_window=""),
]


def test_rewriting_the_same_usage_changes_nothing(runtime: Runtime, connection_id: int) -> None:
    assert write_usage(runtime, connection_id, USAGE_DAY) == 3
    before = rows(runtime, UsageFact)

    assert write_usage(runtime, connection_id, USAGE_DAY) == 3

    assert rows(runtime, UsageFact) == before
    assert len(before) == 3
    assert {row["api_key_id"]: row["input_tokens"] for row in before} == {"k1": 100, "k2": 300, "": 1}
    assert next(r for r in before if r["api_key_id"] == "k1")["cache_write_1h_tokens"] == 7


def test_rewriting_the_same_cost_changes_nothing(runtime: Runtime, connection_id: int) -> None:
    write_cost(runtime, connection_id, COST_DAY)
    before = rows(runtime, CostFact)

    write_cost(runtime, connection_id, list(reversed(COST_DAY)))

    assert rows(runtime, CostFact) == before
    assert sorted(row["amount_usd"] for row in before) == [
        Decimal("0.000000001"),
        Decimal("0.05"),
        Decimal("1.2378912"),
    ]


def test_restated_measures_update_the_same_row(runtime: Runtime, connection_id: int) -> None:
    write_usage(runtime, connection_id, USAGE_DAY)
    write_cost(runtime, connection_id, COST_DAY)
    usage_before, cost_before = rows(runtime, UsageFact), rows(runtime, CostFact)

    write_usage(
        runtime, connection_id, [USAGE_DAY[0], usage(api_key_id="k2", input_tokens=301), USAGE_DAY[2]]
    )
    write_cost(runtime, connection_id, [cost("2.5"), *COST_DAY[1:]])

    usage_after, cost_after = rows(runtime, UsageFact), rows(runtime, CostFact)
    assert [r["id"] for r in usage_after] == [r["id"] for r in usage_before]
    assert [r["id"] for r in cost_after] == [r["id"] for r in cost_before]
    k2 = next(r for r in usage_after if r["api_key_id"] == "k2")
    assert (k2["input_tokens"], k2["output_tokens"], k2["web_search_requests"]) == (301, 0, 0)
    assert cost_after[0]["amount_usd"] == Decimal("2.5")
    assert cost_after[1:] == cost_before[1:]


def test_restated_day_with_a_missing_record_deletes_it(runtime: Runtime, connection_id: int) -> None:
    write_usage(runtime, connection_id, USAGE_DAY)
    write_cost(runtime, connection_id, COST_DAY)
    usage_before, cost_before = rows(runtime, UsageFact), rows(runtime, CostFact)

    write_usage(runtime, connection_id, [USAGE_DAY[0], USAGE_DAY[2]])
    write_cost(runtime, connection_id, COST_DAY[:2])

    assert rows(runtime, UsageFact) == [usage_before[0], usage_before[2]]
    assert rows(runtime, CostFact) == cost_before[:2]


def test_empty_day_clears_what_was_stored(runtime: Runtime, connection_id: int) -> None:
    write_usage(runtime, connection_id, USAGE_DAY)
    write_cost(runtime, connection_id, COST_DAY)

    assert write_usage(runtime, connection_id, []) == 0
    assert write_cost(runtime, connection_id, []) == 0

    assert rows(runtime, UsageFact) == []
    assert rows(runtime, CostFact) == []


def test_clear_absent_false_adds_without_deleting(runtime: Runtime, connection_id: int) -> None:
    write_usage(runtime, connection_id, USAGE_DAY[:1])
    write_cost(runtime, connection_id, COST_DAY[:1])
    usage_before, cost_before = rows(runtime, UsageFact), rows(runtime, CostFact)

    write_usage(runtime, connection_id, USAGE_DAY[1:], clear_absent=False)
    write_cost(runtime, connection_id, COST_DAY[1:], clear_absent=False)

    usage_after, cost_after = rows(runtime, UsageFact), rows(runtime, CostFact)
    assert usage_after[:1] == usage_before
    assert cost_after[:1] == cost_before
    assert len(usage_after) == 3
    assert len(cost_after) == 3


def test_a_restatement_touches_only_its_own_day_stream_and_connection(
    runtime: Runtime, connection_id: int
) -> None:
    other_connection = add_connection(runtime, "other")
    write_usage(runtime, connection_id, USAGE_DAY)
    write_usage(runtime, connection_id, [usage(NEXT, input_tokens=9)], day=NEXT)
    code = [usage(stream="claude_code", api_key_id="", user_id="ada@example.com", input_tokens=5)]
    write_usage(runtime, connection_id, code, stream="claude_code")
    write_usage(runtime, other_connection, USAGE_DAY)
    write_cost(runtime, connection_id, COST_DAY)
    write_cost(runtime, connection_id, [cost("3", NEXT)], day=NEXT)
    write_cost(runtime, other_connection, COST_DAY)
    usage_before, cost_before = rows(runtime, UsageFact), rows(runtime, CostFact)

    write_usage(runtime, connection_id, [])
    write_cost(runtime, connection_id, [])

    def untouched(row: dict[str, Any]) -> bool:
        return (
            row["connection_id"] != connection_id or row["day"] != DAY or row.get("stream") == "claude_code"
        )

    assert rows(runtime, UsageFact) == [r for r in usage_before if untouched(r)]
    assert rows(runtime, CostFact) == [r for r in cost_before if untouched(r)]
    assert len(rows(runtime, UsageFact)) == 1 + 1 + 3
    assert len(rows(runtime, CostFact)) == 1 + 3


def test_records_of_another_day_or_stream_are_refused(runtime: Runtime, connection_id: int) -> None:
    with pytest.raises(ValueError, match="2025-08-02"):
        write_usage(runtime, connection_id, [USAGE_DAY[0], usage(NEXT)])
    with pytest.raises(ValueError, match="claude_code"):
        write_usage(runtime, connection_id, [usage(stream="claude_code")])
    with pytest.raises(ValueError, match="2025-08-02"):
        write_cost(runtime, connection_id, [COST_DAY[0], cost("1", NEXT)])

    assert rows(runtime, UsageFact) == []
    assert rows(runtime, CostFact) == []


# --- reallocate_days --------------------------------------------------------------------


def reallocate(runtime: Runtime, connection_id: int, *days: date) -> None:
    with runtime.db.session() as session:
        reallocate_days(
            session, org_id=runtime.org_id, connection_id=connection_id, days=days, provider="anthropic"
        )


def allocated(runtime: Runtime, connection_id: int) -> dict[tuple[date, str, str, str, str, str], Decimal]:
    with runtime.db.session() as session:
        found = session.execute(
            select(
                AllocatedCost.day,
                AllocatedCost.workspace_id,
                AllocatedCost.model,
                AllocatedCost.cost_type,
                AllocatedCost.token_type,
                AllocatedCost.api_key_id,
                AllocatedCost.amount_usd,
            ).where(AllocatedCost.connection_id == connection_id)
        ).all()
    result: dict[tuple[date, str, str, str, str, str], Decimal] = {}
    for *key, amount in found:
        assert tuple(key) not in result, f"duplicate allocation row {key}"
        result[tuple(key)] = amount  # type: ignore[index]
    return result


def day_sums(
    session: Session, model: type[CostFact] | type[AllocatedCost], connection_id: int
) -> dict[date, Any]:
    found = session.execute(
        select(model.day, func.sum(model.amount_usd))
        .where(model.connection_id == connection_id)
        .group_by(model.day)
    ).all()
    return {day: total for day, total in found}


def assert_sums_match(runtime: Runtime, connection_id: int) -> None:
    with runtime.db.session() as session:
        assert day_sums(session, AllocatedCost, connection_id) == day_sums(session, CostFact, connection_id)


def split(
    allocations: dict[tuple[date, str, str, str, str, str], Decimal], **match: object
) -> dict[str, Decimal]:
    names = ("day", "workspace_id", "model", "cost_type", "token_type")
    return {
        key[5]: amount
        for key, amount in allocations.items()
        if all(key[names.index(name)] == value for name, value in match.items())
    }


@pytest.fixture
def allocation_day(runtime: Runtime, connection_id: int) -> int:
    """Usage of three keys of workspace A, and cost lines of every kind the split must handle."""
    write_usage(
        runtime,
        connection_id,
        [
            usage(api_key_id="k1", input_tokens=100, output_tokens=10, web_search_requests=1),
            usage(api_key_id="k2", input_tokens=300, output_tokens=30, web_search_requests=3),
            usage(api_key_id="k3", service_tier="batch", input_tokens=1000),
            # Priority usage bills as standard.
            usage(
                api_key_id="k4", service_tier="priority", context_window="200k-1M", cache_write_1h_tokens=50
            ),
        ],
    )
    write_usage(
        runtime,
        connection_id,
        [
            usage(
                stream="claude_code", model="claude-haiku-4-5", api_key_id="", user_id="a@b.c", input_tokens=7
            )
        ],
        stream="claude_code",
    )
    write_cost(
        runtime,
        connection_id,
        [
            cost("1.000000001"),
            cost("0.50", service_tier="batch"),
            # Not grouped by context window or geo: only the model matches.
            cost("0.40", token_type="output", context_window="", inference_geo=""),
            cost("0.000000002", token_type="cache_write_1h", context_window="200k-1M"),
            cost(
                "0.04",
                cost_type="web_search",
                model="",
                token_type="",
                service_tier="",
                context_window="",
                inference_geo="",
            ),
            cost(
                "0.05",
                cost_type="code_execution",
                model="",
                token_type="",
                service_tier="",
                context_window="",
                inference_geo="",
            ),
            cost("0.07", model="claude-sonnet-4-6"),
            cost("0.03", model="claude-haiku-4-5"),
            cost("0.09", token_type="cache_read"),
            cost(
                "-0.000000003", token_type="output", description="refund", context_window="", inference_geo=""
            ),
        ],
    )
    return connection_id


def test_allocation_sums_to_the_cost_of_each_day_exactly(runtime: Runtime, allocation_day: int) -> None:
    reallocate(runtime, allocation_day, DAY)

    assert_sums_match(runtime, allocation_day)
    with runtime.db.session() as session:
        assert day_sums(session, AllocatedCost, allocation_day) == {DAY: Decimal("2.180000000")}


def test_allocation_splits_by_tokens_of_the_matching_type(runtime: Runtime, allocation_day: int) -> None:
    reallocate(runtime, allocation_day, DAY)
    found = allocated(runtime, allocation_day)

    # $1.000000001 over input tokens 100:300; the odd billionth goes to the larger remainder.
    # k3 is excluded: its input is batch, and batch costs are their own line.
    assert split(found, token_type="input", model=OPUS) == {
        "k1": Decimal("0.25"),
        "k2": Decimal("0.750000001"),
        "k3": Decimal("0.50"),
    }


def test_allocation_falls_back_to_coarser_matches(runtime: Runtime, allocation_day: int) -> None:
    reallocate(runtime, allocation_day, DAY)
    found = allocated(runtime, allocation_day)

    # Output cost without context window or geo: model-level output tokens 10:30 (k3, k4 have none).
    assert split(found, token_type="output") == {"k1": Decimal("0.099999999"), "k2": Decimal("0.299999998")}
    # Web search has no model: workspace-level search requests 1:3.
    assert split(found, cost_type="web_search") == {"k1": Decimal("0.01"), "k2": Decimal("0.03")}
    # Priority usage matched a standard cost line on the fine key.
    assert split(found, token_type="cache_write_1h") == {"k4": Decimal("0.000000002")}


def test_cost_without_matching_usage_is_unallocated(runtime: Runtime, allocation_day: int) -> None:
    reallocate(runtime, allocation_day, DAY)
    found = allocated(runtime, allocation_day)

    assert split(found, cost_type="code_execution") == {UNALLOCATED: Decimal("0.05")}
    # No usage of the model at all.
    assert split(found, model="claude-sonnet-4-6") == {UNALLOCATED: Decimal("0.07")}
    # Only Claude Code usage, which never explains API cost.
    assert split(found, model="claude-haiku-4-5") == {UNALLOCATED: Decimal("0.03")}
    # Usage of the model, but no tokens of this type.
    assert split(found, token_type="cache_read") == {UNALLOCATED: Decimal("0.09")}


def test_reallocation_replaces_and_follows_restated_usage(runtime: Runtime, allocation_day: int) -> None:
    reallocate(runtime, allocation_day, DAY)
    first = allocated(runtime, allocation_day)
    reallocate(runtime, allocation_day, DAY)
    assert allocated(runtime, allocation_day) == first

    write_usage(
        runtime,
        allocation_day,
        [
            usage(api_key_id="k1", input_tokens=1, output_tokens=1, web_search_requests=1),
            usage(api_key_id="k3", service_tier="batch", input_tokens=1000),
        ],
    )
    reallocate(runtime, allocation_day, DAY)

    found = allocated(runtime, allocation_day)
    assert split(found, token_type="input", model=OPUS) == {
        "k1": Decimal("1.000000001"),
        "k3": Decimal("0.50"),
    }
    assert split(found, cost_type="web_search") == {"k1": Decimal("0.04")}
    assert split(found, token_type="cache_write_1h") == {UNALLOCATED: Decimal("0.000000002")}
    assert_sums_match(runtime, allocation_day)


def test_only_the_given_days_are_reallocated(runtime: Runtime, allocation_day: int) -> None:
    write_cost(runtime, allocation_day, [cost("3", NEXT)], day=NEXT)

    reallocate(runtime, allocation_day, DAY)
    assert {key[0] for key in allocated(runtime, allocation_day)} == {DAY}

    reallocate(runtime, allocation_day, NEXT)
    assert split(allocated(runtime, allocation_day), day=NEXT) == {UNALLOCATED: Decimal("3")}
    assert_sums_match(runtime, allocation_day)

    write_cost(runtime, allocation_day, [], day=NEXT)
    reallocate(runtime, allocation_day, NEXT)
    assert {key[0] for key in allocated(runtime, allocation_day)} == {DAY}


def test_many_awkward_amounts_still_sum_exactly(runtime: Runtime, connection_id: int) -> None:
    rng = random.Random(20250801)
    days = [DAY + timedelta(days=i) for i in range(3)]
    models = [OPUS, "claude-sonnet-4-6", "claude-haiku-4-5-20251001"]
    types = ["input", "output", "cache_read", "cache_write_5m", "cache_write_1h"]
    expected: dict[date, Decimal] = defaultdict(Decimal)
    for day in days:
        write_usage(
            runtime,
            connection_id,
            [
                usage(
                    day,
                    api_key_id=f"k{key}",
                    model=model,
                    input_tokens=rng.randrange(0, 10**7),
                    output_tokens=rng.randrange(0, 10**6),
                    cache_read_tokens=rng.randrange(0, 10**6),
                    cache_write_5m_tokens=rng.randrange(0, 3),
                )
                for key in range(7)
                for model in models[:2]
            ],
            day=day,
        )
        lines = []
        for model in models:
            for token_type in types:
                amount = Decimal(rng.randrange(-(10**3), 10**12)).scaleb(-9)
                lines.append(cost(str(amount), day, model=model, token_type=token_type))
                expected[day] += amount
        write_cost(runtime, connection_id, lines, day=day)

    reallocate(runtime, connection_id, *days)

    assert_sums_match(runtime, connection_id)
    with runtime.db.session() as session:
        assert day_sums(session, AllocatedCost, connection_id) == expected
    assert split(allocated(runtime, connection_id), model="claude-haiku-4-5-20251001")
    assert set(split(allocated(runtime, connection_id), model="claude-haiku-4-5-20251001")) == {UNALLOCATED}


def test_rewriting_the_same_rows_writes_nothing(runtime: Runtime, connection_id: int) -> None:
    """The upsert's WHERE-changed guard: an unchanged row is not even rewritten (no new row version)."""
    write_usage(runtime, connection_id, USAGE_DAY)
    write_cost(runtime, connection_id, COST_DAY)
    with runtime.db.session() as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("counts row writes with sqlite3's total_changes")
        raw = session.connection().connection.dbapi_connection
        before = raw.total_changes  # type: ignore[union-attr]
        replace_usage_day(
            session,
            org_id=runtime.org_id,
            connection_id=connection_id,
            stream="messages",
            day=DAY,
            records=USAGE_DAY,
        )
        replace_cost_day(
            session,
            org_id=runtime.org_id,
            connection_id=connection_id,
            stream="cost",
            day=DAY,
            records=COST_DAY,
        )
        assert raw.total_changes - before == 0  # type: ignore[union-attr]
        replace_cost_day(
            session,
            org_id=runtime.org_id,
            connection_id=connection_id,
            stream="cost",
            day=DAY,
            records=[cost("2.5"), *COST_DAY[1:]],
        )
        assert raw.total_changes - before == 1  # type: ignore[union-attr]


def test_priority_and_flex_usage_shares_the_standard_cost_line(runtime: Runtime, connection_id: int) -> None:
    write_usage(
        runtime,
        connection_id,
        [
            usage(api_key_id="k1", service_tier="standard", input_tokens=100),
            usage(api_key_id="k2", service_tier="priority", input_tokens=200),
            usage(api_key_id="k3", service_tier="flex", input_tokens=100),
            usage(api_key_id="k4", service_tier="batch", input_tokens=600),
        ],
    )
    write_cost(runtime, connection_id, [cost("1.00"), cost("0.30", service_tier="batch")])

    reallocate(runtime, connection_id, DAY)

    found = allocated(runtime, connection_id)
    assert split(found, token_type="input") == {
        "k1": Decimal("0.25"),
        "k2": Decimal("0.50"),
        "k3": Decimal("0.25"),
        "k4": Decimal("0.30"),
    }

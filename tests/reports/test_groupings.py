"""Every grouping, with and without every filter: rows add up exactly to the total, and a
row is exactly what the report filtered by its key holds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.orm import Session

from aispend.model import CostRecord, UsageRecord
from aispend.pricing.priced import price_usage_days
from aispend.reports.dimensions import (
    ALLOCATED_DIMENSIONS,
    LINE_DIMENSIONS,
    SpendFilters,
    week_key,
    week_label,
)
from aispend.reports.queries import (
    GROUPINGS,
    SpendReport,
    SpendRow,
    daily_spend_by_provider,
    spend_report,
    spend_reports,
)
from aispend.runtime import Runtime
from aispend.store.allocations import reallocate_days
from aispend.store.facts import replace_cost_day, replace_usage_day
from aispend.store.schema import AllocatedCost, Connection, CostFact, FactPrice, UsageFact

SUNDAY, MONDAY = date(2026, 11, 22), date(2026, 11, 23)  # two ISO weeks
DAYS = (SUNDAY, MONDAY)
MODELS = ("gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "unpriced-model-x")
FIELDS = ("cost_usd", "input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens")
# Grouping -> the filter its row keys are values of.
FILTER_OF = {
    "model": "model",
    "workspace": "workspace",
    "project": "workspace",
    "api-key": "api_key",
    "user": "user",
    "product": "product",
    "service-tier": "service_tier",
    "token-kind": "token_kind",
}
FILTER_VALUES: dict[str, tuple[str, ...]] = {
    "model": (*MODELS, "web_search"),
    "workspace": ("proj_1", "proj_2"),
    "api_key": ("key_a", "unallocated"),
    "user": ("user-1",),
    "product": ("api", "claude_code"),
    "service_tier": ("standard", "batch", "flex"),
    "token_kind": ("input", "cache-write", "cache-read", "output", "web_search"),
}

usage_rows = st.lists(
    st.builds(
        UsageRecord,
        day=st.sampled_from(DAYS),
        stream=st.just("completions"),
        workspace_id=st.sampled_from(("proj_1", "proj_2")),
        model=st.sampled_from(MODELS),
        api_key_id=st.sampled_from(("", "key_a", "key_b")),
        user_id=st.sampled_from(("", "user-1", "user-2")),
        service_tier=st.sampled_from(("default", "flex", "")),
        batch=st.sampled_from(("true", "false")),
        product=st.sampled_from(("", "claude_code")),
        input_tokens=st.integers(0, 10**9),
        output_tokens=st.integers(0, 10**7),
        cache_read_tokens=st.integers(0, 10**8),
        cache_write_5m_tokens=st.integers(0, 10**6),
    ),
    max_size=10,
    unique_by=lambda r: (
        r.day,
        r.workspace_id,
        r.model,
        r.api_key_id,
        r.user_id,
        r.service_tier,
        r.batch,
        r.product,
    ),
)
cost_rows = st.lists(
    st.builds(
        CostRecord,
        day=st.sampled_from(DAYS),
        stream=st.just("cost"),
        amount_usd=st.decimals(Decimal("-50"), Decimal("5000"), places=9),
        workspace_id=st.sampled_from(("proj_1", "proj_2", "proj_3")),
        model=st.sampled_from(("", *MODELS)),
        cost_type=st.sampled_from(("tokens", "web_search")),
        token_type=st.sampled_from(("input", "output", "cache_read", "cache_write_5m", "")),
        service_tier=st.sampled_from(("", "batch", "flex")),
        product=st.sampled_from(("", "claude_code")),
        description=st.sampled_from(("a", "b")),
    ),
    max_size=10,
    unique_by=lambda r: (
        r.day,
        r.workspace_id,
        r.model,
        r.cost_type,
        r.token_type,
        r.service_tier,
        r.product,
        r.description,
    ),
)


def _connection(session: Session, org_id: int, name: str, provider: str) -> int:
    connection = Connection(org_id=org_id, name=name, provider=provider, provider_account_id=name)
    session.add(connection)
    session.flush()
    return connection.id


@pytest.fixture
def connections(runtime: Runtime) -> dict[str, int]:
    """An OpenAI connection (keys, users, tiers) and a Google Cloud one (no keys, no users)."""
    with runtime.db.session() as session:
        return {p: _connection(session, runtime.org_id, f"{p}-conn", p) for p in ("openai", "gcp")}


def _load(
    runtime: Runtime,
    connections: dict[str, int],
    facts: dict[str, tuple[list[UsageRecord], list[CostRecord]]],
) -> None:
    org_id = runtime.org_id
    with runtime.db.session() as session:
        for table in (FactPrice, AllocatedCost, CostFact, UsageFact):
            session.execute(delete(table))
        for provider, (usage, costs) in facts.items():
            conn = connections[provider]
            for day in DAYS:
                replace_usage_day(
                    session,
                    org_id=org_id,
                    connection_id=conn,
                    stream="completions",
                    day=day,
                    records=[r for r in usage if r.day == day],
                )
                replace_cost_day(
                    session,
                    org_id=org_id,
                    connection_id=conn,
                    stream="cost",
                    day=day,
                    records=[r for r in costs if r.day == day],
                )
            # As every sync write does, in the same transaction.
            reallocate_days(
                session,
                org_id=org_id,
                connection_id=conn,
                days=DAYS,
                provider=provider,
                billed_tiers=frozenset({"flex", "priority"}),
            )
            price_usage_days(session, org_id=org_id, connection_id=conn, provider=provider, days=DAYS)


def _report(runtime: Runtime, by: str, cost: str = "effective", **filters: str) -> SpendReport:
    with runtime.db.session() as session:
        return spend_report(
            session,
            runtime.org_id,
            by=by,  # type: ignore[arg-type]
            since=SUNDAY,
            until=MONDAY,
            cost=cost,  # type: ignore[arg-type]
            filters=SpendFilters(**filters),
        )


def _sums(rows: list[SpendRow]) -> tuple[Any, ...]:
    return tuple(sum((getattr(row, name) for row in rows), start=Decimal(0)) for name in FIELDS)


def _figures(row: SpendRow) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in FIELDS)


def _check(runtime: Runtime, by: str, cost: str, filters: dict[str, str]) -> None:
    asked = {by} | {name.replace("_", "-") for name in filters}
    if asked & ALLOCATED_DIMENSIONS and asked & LINE_DIMENSIONS:
        # Only the combinations the allocated split cannot answer are refused.
        with pytest.raises(ValueError, match="cannot combine"):
            _report(runtime, by, cost, **filters)
        return
    report = _report(runtime, by, cost, **filters)
    assert _sums(report.rows) == _figures(report.total), (by, filters)
    name = FILTER_OF.get(by)
    if name is None or name in filters:
        return
    # Drill down: the report filtered by a row's key holds exactly that row.
    for key in {row.key for row in report.rows if row.key and row.key != "unattributed"}:
        narrowed = _report(runtime, by, cost, **filters, **{name: key})
        rows = [row for row in report.rows if row.key == key]
        assert _figures(narrowed.total) == _sums(rows), (by, filters, key)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    openai=st.tuples(usage_rows, cost_rows),
    gcp=st.tuples(usage_rows, cost_rows),
    by=st.sampled_from(GROUPINGS),
    cost=st.sampled_from(("reported", "list", "effective")),
    filters=st.one_of(
        st.just({}),
        st.sampled_from(sorted(FILTER_VALUES)).flatmap(
            lambda name: st.sampled_from(FILTER_VALUES[name]).map(lambda value: {name: value})
        ),
    ),
)
def test_rows_sum_to_the_total_and_each_row_is_its_filtered_report(
    runtime: Runtime,
    connections: dict[str, int],
    openai: tuple[list[UsageRecord], list[CostRecord]],
    gcp: tuple[list[UsageRecord], list[CostRecord]],
    by: str,
    cost: str,
    filters: dict[str, str],
) -> None:
    _load(runtime, connections, {"openai": openai, "gcp": gcp})
    _check(runtime, by, cost, filters)


FIXED = {
    "openai": (
        [
            UsageRecord(
                SUNDAY,
                "completions",
                model=MODELS[0],
                workspace_id="proj_1",
                api_key_id="key_a",
                user_id="user-1",
                service_tier="default",
                batch="false",
                input_tokens=1000,
                cache_write_5m_tokens=10,
                cache_read_tokens=300,
                output_tokens=200,
            ),
            UsageRecord(
                MONDAY,
                "completions",
                model=MODELS[1],
                workspace_id="proj_2",
                api_key_id="key_b",
                service_tier="default",
                batch="true",
                input_tokens=5000,
                output_tokens=700,
            ),
        ],
        [
            CostRecord(SUNDAY, Decimal("1.234567891"), "proj_1", "a", "tokens", MODELS[0], "input"),
            CostRecord(SUNDAY, Decimal("0.5"), "proj_1", "b", "tokens", MODELS[0], "output"),
            CostRecord(SUNDAY, Decimal("0.25"), "proj_1", "c", "web_search", "", ""),
            CostRecord(MONDAY, Decimal("2"), "proj_2", "d", "tokens", "", "input", service_tier="batch"),
        ],
    ),
    "gcp": (
        [UsageRecord(MONDAY, "completions", model="gemini-x", workspace_id="proj_9", input_tokens=40)],
        [CostRecord(MONDAY, Decimal("3.000000007"), "proj_9", "e", "input", "gemini-x", "input")],
    ),
}


@pytest.fixture
def fixed(runtime: Runtime, connections: dict[str, int]) -> dict[str, int]:
    _load(runtime, connections, FIXED)  # type: ignore[arg-type]
    return connections


@pytest.mark.usefixtures("fixed")
@pytest.mark.parametrize("by", GROUPINGS)
@pytest.mark.parametrize("cost", ["reported", "list", "effective"])
def test_every_grouping_with_every_filter(runtime: Runtime, by: str, cost: str) -> None:
    _check(runtime, by, cost, {})
    for name, values in FILTER_VALUES.items():
        for value in values:
            _check(runtime, by, cost, {name: value})


@pytest.mark.usefixtures("fixed")
def test_weeks_are_iso_weeks_in_calendar_order(runtime: Runtime) -> None:
    report = _report(runtime, "week")
    assert [(row.key, row.label) for row in report.rows] == [
        ("2026-W47", "Week of 16 Nov 2026"),
        ("2026-W48", "Week of 23 Nov 2026"),
    ]
    assert week_key(date(2027, 1, 1)) == "2026-W53"
    assert week_label(date(2026, 12, 3)) == "Week of 30 Nov 2026"


@pytest.mark.usefixtures("fixed")
def test_token_kinds_carry_their_own_tokens_and_the_lines_of_their_kind(runtime: Runtime) -> None:
    rows = {row.key: row for row in _report(runtime, "token-kind", "reported").rows}
    assert set(rows) == {"input", "cache-write", "cache-read", "output", "web_search"}
    assert rows["input"].cost_usd == Decimal("1.234567891") + 2 + Decimal("3.000000007")
    assert (rows["input"].input_tokens, rows["input"].output_tokens) == (6040, 0)
    assert (rows["output"].cost_usd, rows["output"].output_tokens) == (Decimal("0.5"), 900)
    assert (rows["cache-write"].cost_usd, rows["cache-write"].cache_write_tokens) == (0, 10)
    assert rows["web_search"].label == "Web search"
    assert rows["web_search"].input_tokens == 0


@pytest.mark.usefixtures("fixed")
def test_service_tiers_and_one_honest_row_where_none_is_named(runtime: Runtime) -> None:
    rows = {row.key: row for row in _report(runtime, "service-tier", "reported").rows}
    # Token lines without a tier are standard at OpenAI and Google Cloud; a web search line names none.
    assert rows["standard"].cost_usd == Decimal("1.734567891") + Decimal("3.000000007")
    assert rows["standard"].input_tokens == 1000 + 40
    assert (rows["batch"].cost_usd, rows["batch"].input_tokens) == (2, 5000)
    (unnamed,) = [row for key, row in rows.items() if key is None]
    assert (unnamed.label, unnamed.cost_usd, unnamed.input_tokens) == (
        "No service tier reported (openai-conn)",
        Decimal("0.25"),
        0,
    )


@pytest.mark.usefixtures("fixed")
def test_a_filter_leaves_out_providers_without_the_dimension_and_says_so(runtime: Runtime) -> None:
    report = _report(runtime, "model", api_key="key_a")
    assert all(row.key != "gemini-x" for row in report.rows)
    (warning,) = [w for w in report.warnings if w["code"] == "filter_excludes_connection"]
    assert warning["connection"] == "gcp-conn"
    assert "reports no API keys" in warning["message"]
    assert report.as_json()["filters"] == {"api_key": "key_a"}
    # A dimension every provider has excludes nobody.
    warnings = _report(runtime, "day", workspace="proj_9").warnings
    assert not [w for w in warnings if w["code"] == "filter_excludes_connection"]
    assert _report(runtime, "day", workspace="proj_9").total.cost_usd == Decimal("3.000000007")


@pytest.mark.usefixtures("fixed")
def test_allocated_and_line_dimensions_are_not_mixed(runtime: Runtime) -> None:
    with pytest.raises(ValueError, match="cannot combine model with service-tier"):
        _report(runtime, "model", service_tier="batch")
    with pytest.raises(ValueError, match="cannot combine api-key with product"):
        _report(runtime, "product", api_key="key_a")


OVERVIEW_GROUPINGS = ("model", "project", "api-key", "user")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    openai=st.tuples(usage_rows, cost_rows),
    gcp=st.tuples(usage_rows, cost_rows),
    extra=st.sampled_from(tuple(g for g in GROUPINGS if g not in OVERVIEW_GROUPINGS)),
    cost=st.sampled_from(("reported", "list", "effective")),
    filters=st.sampled_from(({}, {"workspace": "proj_1"}, {"user": "user-1"}, {"token_kind": "input"})),
)
def test_several_groupings_read_together_equal_each_read_alone(
    runtime: Runtime,
    connections: dict[str, int],
    openai: tuple[list[UsageRecord], list[CostRecord]],
    gcp: tuple[list[UsageRecord], list[CostRecord]],
    extra: str,
    cost: str,
    filters: dict[str, str],
) -> None:
    _load(runtime, connections, {"openai": openai, "gcp": gcp})
    groupings = [*OVERVIEW_GROUPINGS, extra]
    if extra in ("product", "service-tier"):
        # Not combinable with the allocated dimensions, as grouping or as filter.
        assume("user" not in filters)
        groupings = [extra, "provider", "day"]
    with runtime.db.session() as session:
        together = spend_reports(
            session,
            runtime.org_id,
            by=groupings,  # type: ignore[arg-type]
            since=SUNDAY,
            until=MONDAY,
            cost=cost,  # type: ignore[arg-type]
            filters=SpendFilters(**filters),
        )
    alone = [_report(runtime, by, cost, **filters) for by in groupings]
    assert [r.as_json() for r in together] == [r.as_json() for r in alone]
    assert [[_figures(row) for row in r.rows] for r in together] == [
        [_figures(row) for row in r.rows] for r in alone
    ]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    openai=st.tuples(usage_rows, cost_rows),
    gcp=st.tuples(usage_rows, cost_rows),
    cost=st.sampled_from(("reported", "list", "effective")),
)
def test_daily_spend_by_provider_is_each_providers_report_by_day(
    runtime: Runtime,
    connections: dict[str, int],
    openai: tuple[list[UsageRecord], list[CostRecord]],
    gcp: tuple[list[UsageRecord], list[CostRecord]],
    cost: str,
) -> None:
    _load(runtime, connections, {"openai": openai, "gcp": gcp})
    with runtime.db.session() as session:
        daily = daily_spend_by_provider(
            session,
            runtime.org_id,
            since=SUNDAY,
            until=MONDAY,
            cost=cost,  # type: ignore[arg-type]
        )
        for provider in ("openai", "gcp"):
            report = spend_report(
                session,
                runtime.org_id,
                by="day",
                since=SUNDAY,
                until=MONDAY,
                provider=provider,
                cost=cost,  # type: ignore[arg-type]
            )
            expected = {date.fromisoformat(row.key or ""): row.cost_usd for row in report.rows}
            got = daily.get(provider, {})
            # A day with usage but no money is a row of the report and may be left out here.
            assert set(got) <= set(expected)
            assert {day: got.get(day, Decimal(0)) for day in expected} == expected

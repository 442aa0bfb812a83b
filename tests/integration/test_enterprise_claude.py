"""Claude Enterprise end to end against its simulator on loopback: exact per-user and per-product
totals, the 30-day restatement, 410s mid-pagination, the 100-group cap, the 60 rpm limit,
and the connect-time scope check."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from aispend.cli import app
from aispend.connections import ConnectError, list_connections
from aispend.limits import connect_claude_enterprise
from aispend.providers.claude_enterprise import buckets as ce_buckets
from aispend.providers.claude_enterprise import connector as ce_connector
from aispend.providers.claude_enterprise.simdata import (
    READ_ANALYTICS,
    READ_LIMITS,
    WRITE_LIMITS,
    EnterpriseSettings,
)
from aispend.providers.claude_enterprise.simulator import ClaudeEnterpriseSimulator, RunningSimulator, serve
from aispend.runtime import Runtime
from aispend.store.schema import CostFact, DirectoryItem, UsageFact
from aispend.sync.pacing import DEFAULT_RATES
from aispend.sync.runner import sync_connection

TODAY = datetime.now(UTC).date()
SINCE = TODAY - timedelta(days=40)
UNTIL = TODAY - timedelta(days=1)
TOKENS = (
    UsageFact.input_tokens
    + UsageFact.cache_write_5m_tokens
    + UsageFact.cache_write_1h_tokens
    + UsageFact.cache_read_tokens
    + UsageFact.output_tokens
)


def cost_by(runtime: Runtime, stream: str, column: Any, since: date = SINCE) -> dict[str, Decimal]:
    with runtime.db.session() as session:
        rows = session.execute(
            select(column, func.sum(CostFact.amount_usd))
            .where(CostFact.stream == stream, CostFact.day >= since)
            .group_by(column)
        )
        return {key: total for key, total in rows if total}


def tokens_by(runtime: Runtime, stream: str, column: Any) -> dict[str, int]:
    with runtime.db.session() as session:
        rows = session.execute(
            select(column, func.sum(TOKENS))
            .where(UsageFact.stream == stream, UsageFact.day >= SINCE)
            .group_by(column)
        )
        return {key: int(total) for key, total in rows if total}


def nonzero(truth: dict[str | None, Any]) -> dict[str, Any]:
    """Ground truth keyed like the facts: a missing dimension is ``""``."""
    return {key or "": value for key, value in truth.items() if value}


def assert_people_match_truth(runtime: Runtime, sim: ClaudeEnterpriseSimulator, since: date = SINCE) -> None:
    """Each person's spend, keyed by lower-cased e-mail; and per person and product."""
    org = sim.org
    assert cost_by(runtime, "enterprise_user_cost", CostFact.user_id, since) == org.user_cost_usd(
        since, UNTIL
    )
    per_person_product = cost_by(
        runtime, "enterprise_user_cost", CostFact.user_id + "|" + CostFact.product, since
    )
    truth = org.cost_usd_by(
        lambda c: f"{org.by_id[c.user_id].email.lower()}|{c.product}" if c.user_id else None, since, UNTIL
    )
    assert per_person_product == {k: v for k, v in truth.items() if k is not None and v}


def assert_matches_truth(runtime: Runtime, sim: ClaudeEnterpriseSimulator, since: date = SINCE) -> None:
    """The organisation's spend per product and model, to the billionth of a dollar, and each person's."""
    org = sim.org
    assert cost_by(runtime, "enterprise_cost", CostFact.product, since) == nonzero(
        org.cost_usd_by(lambda c: c.product, since, UNTIL)
    )
    assert cost_by(runtime, "enterprise_cost", CostFact.model, since) == nonzero(
        org.cost_usd_by(lambda c: c.model, since, UNTIL)
    )
    assert_people_match_truth(runtime, sim, since)


def test_backfill_equals_ground_truth(
    runtime: Runtime, claude_enterprise: ClaudeEnterpriseSimulator, claude_enterprise_connected: str
) -> None:
    sim = claude_enterprise
    sync_connection(runtime, claude_enterprise_connected, since=SINCE)
    assert_matches_truth(runtime, sim)
    org = sim.org
    assert tokens_by(runtime, "enterprise_usage", UsageFact.product) == nonzero(
        org.tokens_by(lambda line: line.product, SINCE, UNTIL)
    )
    people_tokens = org.tokens_by(
        lambda line: org.by_id[line.user_id].email.lower() if line.user_id else None, SINCE, UNTIL
    )
    assert tokens_by(runtime, "enterprise_user_usage", UsageFact.user_id) == {
        k: v for k, v in people_tokens.items() if k
    }
    # List price kept beside the discounted amount.
    with runtime.db.session() as session:
        listed = session.scalar(
            select(func.sum(CostFact.list_amount_usd)).where(CostFact.stream == "enterprise_cost")
        )
    truth_list = (
        sum((c.list_amount for day in org.days(SINCE, UNTIL) for c in org.cost_lines(day)), Decimal(0)) / 100
    )
    assert listed == truth_list
    # Per group, a person in two groups counts in both: a breakdown, never the total.
    by_group = cost_by(runtime, "enterprise_group_cost", CostFact.workspace_id)
    group_truth: dict[str, Decimal] = defaultdict(Decimal)
    for day in org.days(SINCE, UNTIL):
        for line in org.cost_lines(day):
            for group in org.by_id[line.user_id].groups if line.user_id else ("",):
                group_truth[group] += line.amount / 100
    assert by_group == {k: v for k, v in group_truth.items() if v}
    assert sum(by_group.values()) > sum(cost_by(runtime, "enterprise_cost", CostFact.product).values())


def test_people_are_in_the_directory_and_seats_are_daily_gauges(
    runtime: Runtime, claude_enterprise: ClaudeEnterpriseSimulator, claude_enterprise_connected: str
) -> None:
    since = TODAY - timedelta(days=10)
    sync_connection(runtime, claude_enterprise_connected, since=since)
    org = claude_enterprise.org
    with runtime.db.session() as session:
        people = {
            item.provider_id: item
            for item in session.scalars(select(DirectoryItem).where(DirectoryItem.kind == "user"))
        }
        day = UNTIL - timedelta(days=2)
        gauges = dict(
            session.execute(
                select(UsageFact.variant, UsageFact.quantity).where(
                    UsageFact.stream == "enterprise_summary", UsageFact.day == day
                )
            ).all()
        )
    # Everyone with usage in the last year is named, deleted people included and flagged.
    with_usage = {
        org.by_id[line.user_id].email.lower()
        for d in org.days(org.first_day, UNTIL)
        for line in org.lines(d)
        if line.user_id
    }
    assert with_usage <= set(people)
    assert all(key == key.lower() for key in people)
    for person in org.people:
        item = people.get(person.email.lower())
        if item is not None:
            assert item.name == person.name
            assert item.attributes["provider_user_id"] == person.user_id
            assert item.attributes["deleted"] == ("true" if org.is_deleted(person) else "false")
    assert sum(item.attributes["deleted"] == "true" for item in people.values()) == sum(
        org.is_deleted(p) for p in org.people
    )
    assert gauges["daily_active_user_count"] == len({line.user_id for line in org.lines(day) if line.user_id})
    assert gauges["assigned_seat_count"] == sum(
        1 for p in org.people if p.deleted_on is None or p.deleted_on > day
    )
    assert gauges["pending_invite_count"] == 3


def test_connection_shows_data_refreshed_at_and_capabilities(
    runtime: Runtime,
    claude_enterprise: ClaudeEnterpriseSimulator,
    claude_enterprise_connected: str,
    env_for: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sync_connection(runtime, claude_enterprise_connected, since=UNTIL)
    [view] = list_connections(runtime)
    assert view.data_refreshed_at == claude_enterprise.data_refreshed_at
    assert view.capabilities == ("analytics", "spend_limits.read", "spend_limits.write")
    for name, value in env_for.items():
        monkeypatch.setenv(name, value)
    shown = CliRunner().invoke(app, ["connections", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    [listed] = json.loads(shown.output)
    assert listed["data_refreshed_at"] == claude_enterprise.data_refreshed_at.isoformat()
    assert listed["capabilities"] == ["analytics", "spend_limits.read", "spend_limits.write"]


@pytest.fixture
def small(runtime: Runtime) -> Iterator[ClaudeEnterpriseSimulator]:
    """A smaller organisation (24 people), connected unpaced as 'small', for the slower scenarios."""
    sim = ClaudeEnterpriseSimulator(EnterpriseSettings(history_days=40, people=24, rate_limit=(0, 60.0)))
    with serve(sim) as server:
        connect_claude_enterprise(
            runtime, name="small", key=sim.settings.full_key, base_url=server.base_url, min_request_interval=0
        )
        yield sim


def test_restated_days_within_30_are_read_again(runtime: Runtime, small: ClaudeEnterpriseSimulator) -> None:
    sync_connection(runtime, "small", since=TODAY - timedelta(days=32))
    small.restate(1, 12, 29)
    small.refresh()
    result = sync_connection(runtime, "small")
    # A daily run re-reads the trailing 30 days of every analytics report.
    assert result.windows["enterprise_cost"][0] == TODAY - timedelta(days=30)
    assert result.windows["enterprise_user_cost"][0] == TODAY - timedelta(days=30)
    assert_matches_truth(runtime, small, since=TODAY - timedelta(days=32))


def test_a_cursor_expiring_mid_pagination_restarts_without_gap_or_duplicate(
    runtime: Runtime, small: ClaudeEnterpriseSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ce_connector, "ROW_PAGE", 25)  # several pages per window of per-user rows
    since = TODAY - timedelta(days=6)
    # A data refresh between two pages revises the days the first page showed; the next
    # request carrying a cursor gets 410. Rows of the first page must not survive it.
    small.restate_on_refresh = (2, 3, 4, 5)
    small.inject("410", times=1, path_prefix="/v1/organizations/analytics/user_cost_report")
    sync_connection(runtime, "small", since=since)
    queries = [
        r.query for r in small.requests if r.path.endswith("user_cost_report") and "bucket_width" in r.query
    ]
    assert sum("page=" not in q for q in queries) == 2  # the window's first page, and again after the 410
    assert any("page=" in q for q in queries)
    assert_people_match_truth(runtime, small, since=since)
    # The reports read before the refresh are put right by the next run's 30-day re-read.
    sync_connection(runtime, "small")
    assert_matches_truth(runtime, small, since=since)


def _fullest_buckets(sim: ClaudeEnterpriseSimulator, since: date) -> tuple[int, int]:
    """The most groups any daily and any hourly cost bucket of ``[since, today)`` holds, uncapped."""
    fullest = {}
    with serve(sim) as server, httpx.Client(base_url=server.base_url) as http:
        for width, step, limit in (("1d", timedelta(days=1), 31), ("1h", timedelta(hours=1), 168)):
            moment, most = datetime.combine(since, datetime.min.time(), UTC), 0
            end = datetime.combine(TODAY, datetime.min.time(), UTC)
            while moment < end:
                params = [
                    ("starting_at", moment.isoformat().replace("+00:00", "Z")),
                    ("ending_at", min(moment + step * limit, end).isoformat().replace("+00:00", "Z")),
                    ("bucket_width", width),
                    ("limit", str(limit)),
                    *[("group_by[]", name) for name in ce_connector.COST_GROUPS],
                ]
                body = http.get(
                    "/v1/organizations/analytics/cost_report",
                    params=params,
                    headers={"x-api-key": sim.settings.full_key, "anthropic-version": "2023-06-01"},
                ).json()
                most = max([most, *(len(bucket["results"]) for bucket in body["data"])])
                moment += step * limit
            fullest[width] = most
    return fullest["1d"], fullest["1h"]


def test_a_full_bucket_is_read_again_by_the_hour(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    since = TODAY - timedelta(days=20)
    settings = EnterpriseSettings(history_days=20, rate_limit=(0, 60.0), group_cap=1000)
    daily, hourly_most = _fullest_buckets(ClaudeEnterpriseSimulator(settings), since)
    # The API keeps the top 100 groups of a bucket. Here both sides agree on a cap that some
    # daily buckets reach and no hourly one does (the generated data moves with the date).
    cap = hourly_most + 1
    assert cap <= daily
    monkeypatch.setattr(ce_buckets, "GROUP_CAP", cap)
    sim = ClaudeEnterpriseSimulator(replace(settings, group_cap=cap))
    with serve(sim) as server:
        connect_claude_enterprise(
            runtime,
            name="capped",
            key=sim.settings.full_key,
            base_url=server.base_url,
            min_request_interval=0,
        )
        sync_connection(runtime, "capped", since=TODAY - timedelta(days=20))
    hourly = [r for r in sim.requests if "bucket_width=1h" in r.query and r.path.endswith("cost_report")]
    assert hourly  # some daily buckets held every group the simulated API keeps
    assert cost_by(runtime, "enterprise_cost", CostFact.product, since) == nonzero(
        sim.org.cost_usd_by(lambda c: c.product, since, UNTIL)
    )


def test_default_pace_is_the_published_60_a_minute_per_organisation() -> None:
    rates = DEFAULT_RATES["claude_enterprise"]
    for family in ("analytics", "spend_limits"):
        [rate] = rates[family]
        assert (rate.limit, rate.interval) == (60, 60_000)
    assert {stream.family for stream in ce_connector.STREAMS} == {"analytics"}


def _rate_limited(runtime: Runtime, interval: float) -> tuple[ClaudeEnterpriseSimulator, RunningSimulator]:
    # The published 60 a minute, scaled down: 16 requests in any second.
    sim = ClaudeEnterpriseSimulator(EnterpriseSettings(history_days=10, people=24, rate_limit=(16, 1.0)))
    server = serve(sim)
    connect_claude_enterprise(
        runtime,
        name="paced",
        key=sim.settings.full_key,
        base_url=server.base_url,
        min_request_interval=interval,
    )
    sim.rejected = 0
    return sim, server


def test_a_pace_under_the_limit_is_never_refused(runtime: Runtime) -> None:
    sim, server = _rate_limited(runtime, interval=1 / 14)
    with server:
        sync_connection(runtime, "paced", since=TODAY - timedelta(days=3))
    assert sim.rejected == 0
    assert_matches_truth(runtime, sim, since=TODAY - timedelta(days=3))


def test_429s_over_the_limit_are_waited_out_without_gap_or_duplicate(runtime: Runtime) -> None:
    sim, server = _rate_limited(runtime, interval=0)
    with server:
        result = sync_connection(runtime, "paced", since=TODAY - timedelta(days=3))
    assert sim.rejected >= 1
    assert result.requests == len(sim.requests) - 4  # every refused request was made again (4: connecting)
    assert_matches_truth(runtime, sim, since=TODAY - timedelta(days=3))


def test_connect_checks_the_key_and_names_missing_scopes(runtime: Runtime) -> None:
    limits_only = "sk-ant-api01-limits-only-key-for-tests-0123456789"
    sim = ClaudeEnterpriseSimulator(
        EnterpriseSettings(
            history_days=5,
            rate_limit=(0, 60.0),
            keys={
                "sk-ant-api01-analytics-only-key-for-tests-0123456789": (READ_ANALYTICS,),
                "sk-ant-api01-read-and-write-key-for-tests-012345678": (
                    READ_ANALYTICS,
                    READ_LIMITS,
                    WRITE_LIMITS,
                ),
                "sk-ant-api01-write-no-read-key-for-tests-0123456789": (READ_ANALYTICS, WRITE_LIMITS),
                limits_only: (READ_LIMITS,),
            },
        )
    )
    with serve(sim) as server:
        with pytest.raises(ConnectError) as refused:
            connect_claude_enterprise(runtime, name="x", key=limits_only, base_url=server.base_url)
        assert "read:analytics" in str(refused.value)
        assert "read:spend_limits" in str(refused.value)  # the scopes it does have
        with pytest.raises(ConnectError, match="Admin key"):
            connect_claude_enterprise(runtime, name="x", key="sk-ant-admin01-abc", base_url=server.base_url)
        cases = {
            "analytics-only": ("analytics",),
            "read-and-write": ("analytics", "spend_limits.read", "spend_limits.write"),
            "write-no-read": ("analytics", "spend_limits.write"),
        }
        for index, (label, expected) in enumerate(cases.items()):
            key = next(k for k in sim.settings.scopes() if label in k)
            _, capabilities = connect_claude_enterprise(
                runtime, name=f"c{index}", key=key, base_url=server.base_url
            )
            assert capabilities.names == expected, label
            # A second connection to the same organisation would count its spend twice.
            with pytest.raises(ConnectError, match="already connected"):
                connect_claude_enterprise(runtime, name="dup", key=key, base_url=server.base_url)
            from aispend.connections import disconnect

            disconnect(runtime, f"c{index}")

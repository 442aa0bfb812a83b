"""The Explorer, GET /api/v1/spend and `aispend report spend` with the new groupings and filters."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aispend.cli import app
from aispend.model import CostRecord, UsageRecord
from aispend.reports.queries import SpendFilters, spend_report
from aispend.runtime import Runtime
from aispend.store.allocations import reallocate_days
from aispend.store.facts import replace_cost_day, replace_usage_day
from tests.conftest import add_connection

YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)
DAYS = [YESTERDAY - timedelta(days=n) for n in range(10)]


@pytest.fixture
def seeded(runtime: Runtime) -> int:
    """Ten days of two models on two workspaces, with input and output lines."""
    connection_id = add_connection(runtime, "acme")
    with runtime.db.session() as session:
        for n, day in enumerate(DAYS):
            replace_usage_day(
                session,
                org_id=runtime.org_id,
                connection_id=connection_id,
                stream="messages",
                day=day,
                records=[
                    UsageRecord(
                        day, "messages", model="claude-a", workspace_id="wrk_1", input_tokens=100 + n
                    ),
                    UsageRecord(day, "messages", model="claude-b", workspace_id="wrk_2", output_tokens=7),
                ],
            )
            replace_cost_day(
                session,
                org_id=runtime.org_id,
                connection_id=connection_id,
                stream="cost",
                day=day,
                records=[
                    CostRecord(day, Decimal("1.5"), "wrk_1", "a", "tokens", "claude-a", "input"),
                    CostRecord(day, Decimal(n), "wrk_2", "b", "tokens", "claude-b", "output"),
                ],
            )
        reallocate_days(
            session, org_id=runtime.org_id, connection_id=connection_id, days=DAYS, provider="anthropic"
        )
    return connection_id


def _table(page: str) -> list[list[str]]:
    body = page.split('<table id="explore-table">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    return [[html.unescape(v) for v in re.findall(r'data-value="([^"]*)"', row)] for row in rows]


@pytest.mark.parametrize(
    "query",
    [
        "by=week&model=claude-a",
        "by=token-kind&workspace=wrk_2&sort=label&order=asc",
        "by=service-tier&token_kind=input",
        "by=day&model=claude-b&sort=cost&order=asc",
    ],
)
def test_with_a_filter_the_csv_is_exactly_the_table(
    admin_client: TestClient, seeded: int, query: str
) -> None:
    page = admin_client.get(f"/explore?{query}")
    assert page.status_code == 200
    lines = list(csv.reader(io.StringIO(admin_client.get(f"/explore.csv?{query}").text)))
    assert lines[1:] == _table(page.text)
    assert len(lines) >= 2
    csv_link = re.search(r'href="(/explore\.csv\?[^"]+)"', page.text)
    assert csv_link is not None
    for part in query.split("&"):
        assert part in html.unescape(csv_link.group(1))


def test_a_model_filter_narrows_table_and_total(admin_client: TestClient, seeded: int) -> None:
    page = admin_client.get("/explore?by=week&model=claude-a").text
    shown = sum(Decimal(row[1]) for row in _table(page))
    assert shown == Decimal("1.5") * len(DAYS)
    assert 'id="clear-filters"' in page
    assert 'value="claude-a"' in page


def test_row_labels_drill_down_and_model_rows_keep_their_page(admin_client: TestClient, seeded: int) -> None:
    assert 'href="/models/claude-a' in admin_client.get("/explore?by=model").text
    page = html.unescape(admin_client.get("/explore?by=workspace").text)
    assert "?by=model" in page
    assert "workspace=wrk_1" in page
    weeks = html.unescape(admin_client.get("/explore?by=week").text)
    assert re.search(r'href="\?by=day&since=\d{4}-\d\d-\d\d&until=\d{4}-\d\d-\d\d', weeks)


def test_a_refused_combination_explains_itself(admin_client: TestClient, seeded: int) -> None:
    page = admin_client.get("/explore?by=model&service_tier=batch")
    assert page.status_code == 422
    assert "cannot be combined" in page.text
    assert admin_client.get("/api/v1/spend", params={"by": "product", "api_key": "k"}).status_code == 422


def test_the_api_takes_every_filter_and_new_grouping(
    admin_client: TestClient, runtime: Runtime, seeded: int
) -> None:
    since = DAYS[-1].isoformat()
    for by in ("week", "token-kind", "service-tier"):
        params = {"by": by, "since": since, "workspace": "wrk_1", "token_kind": "input"}
        body = admin_client.get("/api/v1/spend", params=params).json()
        with runtime.db.session() as session:
            expected = spend_report(
                session,
                runtime.org_id,
                by=by,  # type: ignore[arg-type]
                since=DAYS[-1],
                until=YESTERDAY,
                filters=SpendFilters(workspace="wrk_1", token_kind="input"),
            )
        assert body == expected.as_json()
        assert body["filters"] == {"workspace": "wrk_1", "token_kind": "input"}
        assert Decimal(body["total"]["cost_usd"]) == Decimal("1.5") * len(DAYS)
    for name in ("model", "api_key", "user", "product", "service_tier"):
        assert admin_client.get("/api/v1/spend", params={"by": "day", name: "x"}).status_code == 200, name
    # Without filters the body keeps its old shape.
    assert "filters" not in admin_client.get("/api/v1/spend").json()


def test_the_cli_takes_the_new_groupings_and_filters(
    runtime: Runtime, seeded: int, env_for: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env_for.items():
        if name.startswith("AISPEND_"):
            monkeypatch.setenv(name, value)
    since = ["--since", DAYS[-1].isoformat()]
    result = CliRunner().invoke(
        app, ["report", "spend", "--by", "week", *since, "--model", "claude-b", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["filters"] == {"model": "claude-b"}
    assert Decimal(body["total"]["cost_usd"]) == sum(range(len(DAYS)))
    flags = ["--workspace", "wrk_1", "--api-key", "k", "--user", "u", "--token-kind", "input"]
    for by in ("token-kind", "service-tier", "day"):
        extra = flags if by != "service-tier" else ["--service-tier", "batch", "--product", "api"]
        result = CliRunner().invoke(app, ["report", "spend", "--by", by, *since, *extra])
        assert result.exit_code == 0, result.output
    refused = CliRunner().invoke(app, ["report", "spend", "--by", "model", "--service-tier", "batch"])
    assert refused.exit_code != 0
    assert "cannot combine" in refused.output


def test_a_period_chart_runs_in_calendar_order_whatever_the_tables_sort(
    admin_client: TestClient, seeded: int
) -> None:
    page = admin_client.get("/explore?by=day&sort=cost&order=desc").text
    chart = json.loads(html.unescape(re.search(r'id="explore-data">(.*?)</script>', page, re.S).group(1)))  # type: ignore[union-attr]
    table = _table(page)
    # Day n costs 1.5 + n: the table, by cost, runs newest first; the chart oldest first.
    assert [row[1] for row in table] == sorted((row[1] for row in table), key=Decimal, reverse=True)
    by_day = dict(zip(chart["labels"], chart["cost_usd"], strict=True))
    assert list(by_day) == [day.strftime("%a %d %b %Y") for day in reversed(DAYS)]
    assert sorted(Decimal(v) for v in by_day.values()) == sorted(Decimal(row[1]) for row in table)

"""The dashboard pages and their JSON: Overview, Explorer (and its CSV), Connections, Sync health."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from aispend.model import CostRecord, DirectoryEntry, UsageRecord
from aispend.runtime import Runtime
from aispend.store.facts import replace_cost_day, replace_usage_day, upsert_directory
from tests.auth.helpers import csrf
from tests.conftest import add_connection, sign_in

EVIL = "<script>alert(1)</script>"
TODAY = datetime.now(UTC).date()
DAYS = [TODAY - timedelta(days=n) for n in range(1, 41)]


@pytest.fixture
def seeded(runtime: Runtime) -> int:
    """40 days of spend on two workspaces, one named like an attack, and one model per workspace."""
    connection_id = add_connection(runtime, "acme")
    with runtime.db.session() as session:
        upsert_directory(
            session,
            org_id=runtime.org_id,
            connection_id=connection_id,
            entries=[
                DirectoryEntry(kind="workspace", provider_id="wrk_evil", name=EVIL),
                DirectoryEntry(kind="workspace", provider_id="wrk_ok", name="Research"),
            ],
        )
        for n, day in enumerate(DAYS):
            replace_usage_day(
                session,
                org_id=runtime.org_id,
                connection_id=connection_id,
                stream="messages",
                day=day,
                records=[
                    UsageRecord(
                        day=day, stream="messages", model="claude-a", input_tokens=1000 + n, output_tokens=50
                    ),
                ],
            )
            replace_cost_day(
                session,
                org_id=runtime.org_id,
                connection_id=connection_id,
                stream="cost",
                day=day,
                records=[
                    CostRecord(
                        day=day, amount_usd=Decimal("12.345"), model="claude-a", workspace_id="wrk_evil"
                    ),
                    CostRecord(day=day, amount_usd=Decimal(n), model="claude-b", workspace_id="wrk_ok"),
                ],
            )
    return connection_id


def test_overview_shows_totals_chart_data_and_tables(admin_client: TestClient, seeded: int) -> None:
    page = admin_client.get("/")
    assert page.status_code == 200
    assert 'id="daily-chart"' in page.text
    assert "/static/plotly.min.js" in page.text
    api = admin_client.get("/api/v1/overview").json()
    total = Decimal(api["total"]["cost_usd"])
    assert f'data-value="{total}"' in page.text or f"${total:,.2f}" in page.text
    assert f"${total:,.2f}" in page.text
    series = api["daily"]["series"]
    assert [s["provider"] for s in series] == ["anthropic"]
    assert sum(Decimal(v) for v in series[0]["cost_usd"]) == total
    assert set(api["top"]) == {"model", "project", "api-key", "user"}
    assert api["connections"][0]["name"] == "acme"
    month = api["month_to_date"]
    assert (
        Decimal(month["forecast_low_usd"])
        <= Decimal(month["forecast_usd"])
        <= Decimal(month["forecast_high_usd"])
    )
    assert Decimal(month["spend_usd"]) <= Decimal(month["forecast_usd"])


def test_month_to_date_compares_the_same_days_of_last_month(admin_client: TestClient, seeded: int) -> None:
    month = admin_client.get("/api/v1/overview").json()["month_to_date"]
    as_of = TODAY - timedelta(days=1)
    assert month["as_of"] == as_of.isoformat()
    assert month["month_start"] == as_of.replace(day=1).isoformat()
    # Every seeded day costs 12.345 plus its index: recompute both sums from the seed.
    cost = {day: Decimal("12.345") + n for n, day in enumerate(DAYS)}
    start = as_of.replace(day=1)
    prior_start = (start - timedelta(days=1)).replace(day=1)
    prior_until = min(prior_start + timedelta(days=as_of.day - 1), start - timedelta(days=1))
    assert Decimal(month["spend_usd"]) == sum(a for d, a in cost.items() if d >= start)
    assert Decimal(month["prior_spend_usd"]) == sum(
        a for d, a in cost.items() if prior_start <= d <= prior_until
    )


def test_every_page_escapes_provider_supplied_names(admin_client: TestClient, seeded: int) -> None:
    urls = ["/", "/explore?by=workspace", "/explore?by=project", "/connections", "/sync"]
    for url in urls:
        page = admin_client.get(url)
        assert page.status_code == 200, url
        assert EVIL not in page.text, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in admin_client.get("/explore?by=workspace").text
    # In embedded chart data too: JSON escapes < and > so the script block cannot end early.
    assert "\\u003cscript\\u003e" in admin_client.get("/explore?by=workspace").text


def _table(html: str) -> list[list[str]]:
    body = html.split('<table id="explore-table">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    import html as markup

    return [[markup.unescape(v) for v in re.findall(r'data-value="([^"]*)"', row)] for row in rows]


@pytest.mark.parametrize(
    "query",
    ["by=workspace&sort=cost&order=desc", "by=model&sort=label&order=asc", "by=day&sort=label&order=desc"],
)
def test_the_csv_is_exactly_the_table(admin_client: TestClient, seeded: int, query: str) -> None:
    page = admin_client.get(f"/explore?{query}")
    assert page.status_code == 200
    download = admin_client.get(f"/explore.csv?{query}")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(download.text)))
    assert lines[1:] == _table(page.text)
    assert len(lines) >= 2


def test_explorer_filters_and_sorts(admin_client: TestClient, seeded: int) -> None:
    since, until = DAYS[9].isoformat(), DAYS[0].isoformat()
    page = admin_client.get(f"/explore?by=day&since={since}&until={until}&sort=label&order=asc")
    rows = _table(page.text)
    shown = [datetime.strptime(r[0], "%a %d %b %Y").replace(tzinfo=UTC).date() for r in rows]
    assert shown == list(reversed(DAYS[:10]))
    assert admin_client.get("/explore?provider=openai").text.count("No spend for these filters") == 1
    assert admin_client.get("/explore?connection=nope").status_code == 404
    assert admin_client.get("/explore?by=nonsense").status_code == 422


def test_the_explorer_link_holds_the_whole_state(admin_client: TestClient, seeded: int) -> None:
    page = admin_client.get("/explore?by=model&provider=anthropic&connection=acme&sort=output&order=asc").text
    csv_link = re.search(r'href="(/explore\.csv\?[^"]+)"', page)
    assert csv_link is not None
    for part in ("by=model", "provider=anthropic", "connection=acme", "sort=output", "order=asc"):
        assert part in csv_link.group(1)


def test_static_assets_are_served_without_a_cdn(client: TestClient) -> None:
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200
    assert len(plotly.content) > 1_000_000
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/..%2Fapp.py").status_code == 404
    assert client.get("/static/nothing.js").status_code == 404


def test_empty_states_say_what_to_do(admin_client: TestClient) -> None:
    assert "Connect a provider" in admin_client.get("/").text
    assert "connect a provider" in admin_client.get("/explore").text
    assert "No connections yet" in admin_client.get("/sync").text


def test_an_auditor_sees_connections_but_no_connect_form(
    client: TestClient, runtime: Runtime, seeded: int
) -> None:
    sign_in(client, runtime, "auditor")
    page = client.get("/connections").text
    assert "acme" in page
    assert 'action="/connections"' not in page
    assert "Disconnect" not in page


def test_a_bad_key_is_refused_with_what_to_fix(admin_client: TestClient) -> None:
    admin_client.get("/connections")
    token = csrf(admin_client)
    response = admin_client.post(
        "/connections", data={"provider": "anthropic", "name": "a", "key": "nope", "csrf_token": token}
    )
    assert response.status_code == 422
    assert 'role="alert"' in response.text


def test_disconnect_deletes_the_key_and_keeps_the_data(admin_client: TestClient, seeded: int) -> None:
    page = admin_client.get("/connections").text
    assert "key will be deleted" in page
    assert "kept" in page
    response = admin_client.post("/connections/acme/disconnect", data={"csrf_token": csrf(admin_client)})
    assert response.status_code == 303
    statuses = admin_client.get("/api/v1/connections").json()
    assert statuses[0]["status"] == "disconnected"
    assert Decimal(admin_client.get("/api/v1/overview").json()["total"]["cost_usd"]) > 0


def test_sync_health_lists_runs(admin_client: TestClient, runtime: Runtime, connected: str) -> None:
    from aispend.sync.runner import sync_connection

    sync_connection(runtime, connected)
    runs = admin_client.get("/api/v1/sync-runs").json()
    assert runs
    assert runs[0]["status"] == "succeeded"
    assert runs[0]["requests"] > 0
    page = admin_client.get("/sync").text
    assert "acme" in page
    assert "succeeded" in page
    statuses = admin_client.get("/api/v1/connections").json()
    assert statuses[0]["backfill_percent"] == 100.0
    assert statuses[0]["data_complete_through"] is not None


def test_every_page_renders_with_every_provider_imported(
    admin_client: TestClient,
    runtime: Runtime,
    connected: str,
    gcp_connected: str,
    claude_enterprise_connected: str,
    chatgpt_enterprise_connected: str,
) -> None:
    from aispend.sync.runner import sync_connection

    for name in (connected, gcp_connected, claude_enterprise_connected, chatgpt_enterprise_connected):
        sync_connection(runtime, name)
    overview = admin_client.get("/api/v1/overview").json()
    assert len(overview["daily"]["series"]) == 4
    assert all(c["data_complete_through"] for c in overview["connections"])
    for by in ("provider", "model", "workspace", "project", "api-key", "user", "product", "day", "month"):
        assert admin_client.get(f"/explore?by={by}").status_code == 200, by
        assert admin_client.get(f"/explore.csv?by={by}").status_code == 200, by
    for url in ("/", "/connections", "/sync"):
        assert admin_client.get(url).status_code == 200, url


def test_the_model_page_shows_tokens_by_kind_and_ratios(admin_client: TestClient, seeded: int) -> None:
    page = admin_client.get("/models/claude-a")
    assert page.status_code == 200
    assert "Tokens by kind" in page.text
    assert "Cache hit ratio" in page.text
    body = admin_client.get("/api/v1/models/claude-a").json()
    assert body["total"]["input_tokens"] == sum(1000 + n for n in range(len(DAYS)) if n < 30)
    assert body["cache_hit_ratio"] == "0"
    assert admin_client.get("/models/nothing-here").status_code == 404
    assert admin_client.get("/api/v1/models/nothing-here").status_code == 404
    assert 'href="/models/claude-a' in admin_client.get("/explore?by=model").text


@pytest.mark.parametrize(
    ("since", "until", "status"),
    [("0001-01-01", "0001-01-05", 200), ("9999-12-01", "9999-12-31", 200), ("0165-03-14", "1790-03-12", 422)],
)
def test_the_overview_takes_any_period_up_to_two_years(
    admin_client: TestClient, seeded: int, since: str, until: str, status: int
) -> None:
    assert admin_client.get(f"/api/v1/overview?since={since}&until={until}").status_code == status
    assert admin_client.get(f"/?since={since}&until={until}").status_code == status

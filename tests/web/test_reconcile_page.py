"""Reconciliation drift on the Overview, and the Reconciliation page it links to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from aispend.model import CostRecord, UsageRecord
from aispend.pricing.priced import price_usage_days
from aispend.runtime import Runtime
from aispend.store.facts import replace_cost_day, replace_usage_day
from tests.conftest import add_connection

DAY = datetime.now(UTC).date() - timedelta(days=2)
MODEL = "claude-sonnet-4-6"  # $3 per million input tokens at list


def _spend(runtime: Runtime, name: str, billed: Decimal) -> None:
    """One day of a million input tokens (list $3) on ``name``, billed ``billed``."""
    connection_id = add_connection(runtime, name)
    with runtime.db.session() as session:
        replace_usage_day(
            session,
            org_id=runtime.org_id,
            connection_id=connection_id,
            stream="messages",
            day=DAY,
            records=[UsageRecord(DAY, "messages", MODEL, input_tokens=1_000_000)],
        )
        replace_cost_day(
            session,
            org_id=runtime.org_id,
            connection_id=connection_id,
            stream="cost",
            day=DAY,
            records=[CostRecord(day=DAY, amount_usd=billed, model=MODEL, token_type="uncached_input_tokens")],
        )
        price_usage_days(
            session, org_id=runtime.org_id, connection_id=connection_id, provider="anthropic", days=[DAY]
        )


@pytest.fixture
def drifting(runtime: Runtime) -> None:
    _spend(runtime, "billed-at-list", Decimal(3))
    _spend(runtime, "billed-high", Decimal("3.75"))


def test_the_overview_warns_of_drift_and_links_to_its_reconciliation(
    admin_client: TestClient, drifting: None
) -> None:
    warnings = admin_client.get("/api/v1/overview").json()["warnings"]
    drift = [w for w in warnings if w["code"] == "reconciliation_drift"]
    assert [w["connection"] for w in drift] == ["billed-high"]
    assert (drift[0]["reported_usd"], drift[0]["list_usd"], drift[0]["drift_pct"]) == ("3.75", "3", "-20")
    assert "$3.00 against $3.75 billed (-20.00%)" in drift[0]["message"]
    assert drift[0]["link"].startswith("/reconcile?")
    page = admin_client.get("/").text
    assert "See the reconciliation" in page
    assert drift[0]["link"].replace("&", "&amp;") in page


def test_the_reconciliation_page_shows_each_connections_month_and_flags_the_drift(
    admin_client: TestClient, drifting: None
) -> None:
    link = admin_client.get("/api/v1/overview").json()["warnings"][-1]["link"]
    page = admin_client.get(link)
    assert page.status_code == 200
    assert 'data-connection="billed-high"' in page.text
    assert 'data-connection="billed-at-list"' not in page.text  # the link names one connection
    assert 'data-flagged="true"' in page.text
    assert '<span id="flagged-count">2</span>' in page.text  # the month and its day
    everything = admin_client.get("/reconcile").text
    assert 'data-connection="billed-at-list" data-period="' + DAY.strftime(
        "%Y-%m"
    ) + '" data-flagged="false"' in (everything)
    # The page's figures are the API's.
    api = admin_client.get("/api/v1/reconcile?connection=billed-high").json()
    month = next(r for r in api["rows"] if r["level"] == "month")
    assert (
        f'data-value="{month["reported_usd"]}"' in admin_client.get("/reconcile?connection=billed-high").text
    )


def test_the_reconciliation_page_refuses_what_it_cannot_show(
    admin_client: TestClient, drifting: None
) -> None:
    assert admin_client.get("/reconcile?connection=nobody").status_code == 404
    assert admin_client.get("/reconcile?since=2026-02-01&until=2026-01-01").status_code == 422
    assert (
        "No cost or usage in this period"
        in admin_client.get("/reconcile?since=2001-01-01&until=2001-01-31").text
    )

"""The Reconciliation page in Chromium: the API's months as rows, at desktop and phone width."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM, Site, screenshot
from tests.browser.test_dashboard_browser import signed_in

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: run `apt-get install -y chromium` (as .ci/run does)"
)


def test_an_auditor_reads_each_connections_months_with_their_drift(browser: Any, site: Site) -> None:
    page = signed_in(browser, site, "auditor")
    page.click("nav >> text=Reconciliation")
    page.wait_for_selector("#reconcile-table")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    api = httpx.get(f"{site.url}/api/v1/reconcile", cookies=cookies).json()
    months = [(r["connection"], r["period"], r["reported_usd"]) for r in api["rows"] if r["level"] == "month"]
    shown = page.eval_on_selector_all(
        "#reconcile-table > tbody > tr[data-period]",
        "rows => rows.map(r => [r.dataset.connection, r.dataset.period, r.cells[2].dataset.value])",
    )
    assert [tuple(row) for row in shown] == months
    assert months  # both simulated providers were imported
    assert page.inner_text("#flagged-count") == str(api["flagged"])
    screenshot(page, "reconcile")
    page.select_option("#connection", "openai-sim")
    page.click("button:has-text('Show')")
    page.wait_for_selector("#reconcile-table")
    assert "connection=openai-sim" in page.url
    assert set(
        page.eval_on_selector_all("tr[data-connection]", "rows => rows.map(r => r.dataset.connection)")
    ) == {"openai-sim"}
    page.context.close()


def test_the_reconciliation_fits_a_phone(browser: Any, site: Site) -> None:
    page = signed_in(browser, site, "finance_admin", width=390)
    page.goto(f"{site.url}/reconcile")
    page.wait_for_selector("#reconcile-table")
    # Wide tables scroll inside their own box; the page itself never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "reconcile-phone")
    page.context.close()

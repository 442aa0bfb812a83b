"""Rates and credits, and Spend limits, in Chromium as a Finance Admin, at desktop and phone width."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from aispend.connections import active_connection_names
from aispend.limits import connect_claude_enterprise
from aispend.providers.claude_enterprise.simdata import EnterpriseSettings
from aispend.providers.claude_enterprise.simulator import ClaudeEnterpriseSimulator, RunningSimulator, serve
from tests.browser.conftest import CHROMIUM, PASSWORD, Site, screenshot

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: run `apt-get install -y chromium` (as .ci/run does)"
)


ENTERPRISE = "claude-enterprise-sim"


@pytest.fixture(scope="module")
def enterprise() -> Iterator[tuple[ClaudeEnterpriseSimulator, RunningSimulator]]:
    """A simulated Claude Enterprise organisation for this module (the shared site has none)."""
    simulator = ClaudeEnterpriseSimulator(EnterpriseSettings(history_days=20, rate_limit=(0, 60.0)))
    server = serve(simulator)
    yield simulator, server
    server.stop()


def _connect(site: Site, enterprise: tuple[ClaudeEnterpriseSimulator, RunningSimulator]) -> None:
    simulator, server = enterprise
    if ENTERPRISE not in active_connection_names(site.runtime):
        connect_claude_enterprise(
            site.runtime,
            name=ENTERPRISE,
            key=simulator.settings.full_key,
            base_url=server.base_url,
            min_request_interval=0,
        )


def signed_in(browser: Any, site: Site, role: str, width: int = 1280) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{site.url}/login")
    page.fill("#email", site.users[role])
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state("load")
    return page


def _fits(page: Any) -> bool:
    """Nothing wider than the viewport: wide tables scroll inside their own box."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_finance_admin_adds_a_rate_card_and_sees_the_rerating_diff(browser: Any, site: Site) -> None:
    page = signed_in(browser, site, "finance_admin")
    page.click("nav >> text=Rates and credits")
    page.wait_for_selector("h1:has-text('Rates and credits')")
    page.click("summary:has-text('Add a rate card')")
    page.fill("#card-name", "anthropic-contract")
    page.fill("#card-from", datetime.now(UTC).date().replace(day=1).isoformat())
    page.select_option("#card-provider", "anthropic")
    page.fill("#card-discount", "twelve")
    page.click("button:has-text('Add rate card version')")
    assert "The discount must be a number" in page.inner_text("#add-card .error")
    assert page.input_value("#card-name") == "anthropic-contract"  # nothing typed is lost
    page.fill("#card-discount", "12")
    page.click("button:has-text('Add rate card version')")
    page.wait_for_selector("text=Rate card anthropic-contract v1")
    assert "12.0%" in page.inner_text("#rate-cards")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    api = httpx.get(f"{site.url}/api/v1/rates", cookies=cookies).json()
    assert [card["name"] for card in api["rate_cards"]] == ["anthropic-contract"]
    page.click("button:has-text('Show what changes')")
    page.wait_for_selector("#rerate-result")
    screenshot(page, "rates")
    page.context.close()


def test_finance_admin_sets_a_spend_limit(
    browser: Any, site: Site, enterprise: tuple[ClaudeEnterpriseSimulator, RunningSimulator]
) -> None:
    page = signed_in(browser, site, "finance_admin")
    page.click("nav >> text=Spend limits")
    page.wait_for_selector("h1:has-text('Spend limits')")
    # Before any Claude Enterprise organisation is connected, the page says how to connect one.
    assert page.locator("#no-enterprise a[href='/connections']").count() == 1
    screenshot(page, "limits-empty")
    _connect(site, enterprise)
    simulator, _server = enterprise
    email = next(p.email for p in simulator.org.people if not simulator.org.is_deleted(p)).lower()
    page.reload()
    page.fill(".set-limit input[name=email]", email)
    page.fill(".set-limit input[name=amount]", "1,250")
    page.click(".set-limit button")
    page.wait_for_selector("text=Set the monthly limit of")
    row = page.locator(f"tr[data-email='{email}']")
    assert row.locator("td.limit").inner_text() == "$1,250.00"
    assert row.locator("td.source").inner_text() == "own limit"
    assert page.locator(".limit-requests tbody tr").count() > 0
    screenshot(page, "limits")
    page.context.close()


@pytest.mark.parametrize("path", ["/rates", "/limits"])
def test_phone_width(
    browser: Any, site: Site, enterprise: tuple[ClaudeEnterpriseSimulator, RunningSimulator], path: str
) -> None:
    _connect(site, enterprise)
    page = signed_in(browser, site, "finance_admin", width=390)
    page.goto(site.url + path)
    assert _fits(page)
    screenshot(page, f"{path.strip('/')}-phone")
    page.context.close()


def test_it_admin_has_no_link_and_no_access(browser: Any, site: Site) -> None:
    page = signed_in(browser, site, "it_admin")
    assert page.locator("nav a[href='/rates']").count() == 0
    response = page.goto(site.url + "/rates")
    assert response.status == 403
    page.context.close()

"""The Rates and credits page and the Spend limits page, and their JSON under ``/api/v1``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from aispend import audit
from aispend.credit_rates import set_credit_rate
from aispend.model import UsageRecord
from aispend.pricing.credits import add_credit
from aispend.pricing.priced import add_rates, reprice
from aispend.providers.claude_enterprise.simulator import ClaudeEnterpriseSimulator
from aispend.runtime import Runtime
from aispend.store.facts import replace_usage_day
from aispend.store.schema import AuditEntry, Connection
from aispend.web.app import create_app
from tests.auth.helpers import csrf
from tests.conftest import add_connection, api_token, sign_in

EVIL = "<script>alert(1)</script>"
TODAY = datetime.now(UTC).date()
DAYS = [TODAY - timedelta(days=n) for n in range(1, 46)]
MODEL = "claude-sonnet-4-5-20250929"


def entries(runtime: Runtime, action: str) -> list[AuditEntry]:
    with runtime.db.session() as session:
        return audit.entries(session, org_id=runtime.org_id, action=action)


def signed_in(runtime: Runtime, role: str, email: str | None = None) -> TestClient:
    client = TestClient(create_app(runtime), follow_redirects=False)
    sign_in(client, runtime, role, email=email)
    return client


def post(client: TestClient, url: str, form: dict[str, str]) -> Any:
    """Submit a form with this browser's CSRF token (the client's own response type)."""
    return client.post(url, data={**form, "csrf_token": csrf(client)})


def seed_usage(runtime: Runtime) -> int:
    """45 days of priced usage of one Anthropic model: a closed month and this one."""
    connection_id = add_connection(runtime, "acme")
    with runtime.db.session() as session:
        for day in DAYS:
            replace_usage_day(
                session,
                org_id=runtime.org_id,
                connection_id=connection_id,
                stream="messages",
                day=day,
                records=[
                    UsageRecord(
                        day=day, stream="messages", model=MODEL, input_tokens=2_000_000, output_tokens=100_000
                    )
                ],
            )
        reprice(session, runtime.org_id, since=DAYS[-1], until=DAYS[0])
    return connection_id


@pytest.fixture
def rated(runtime: Runtime) -> Runtime:
    """Usage, a rate card with two versions, a credit, and a Codex connection with a contract rate."""
    seed_usage(runtime)
    with runtime.db.session() as session, audit.acting_as(audit.Actor("fin@example.com")):
        add_rates(
            session,
            runtime.org_id,
            today=TODAY,
            name="anthropic-2026",
            effective_from=DAYS[-1],
            provider="anthropic",
            model_pattern="claude-*",
            discount_pct=Decimal("12.5"),
            rates={},
            commitment_usd=Decimal("25000"),
            note="order form 7",
        )
        add_rates(
            session,
            runtime.org_id,
            today=TODAY,
            name="anthropic-2026",
            effective_from=TODAY.replace(day=1),
            rates={"input": Decimal("2.5"), "output": Decimal("12")},
        )
        add_credit(
            session,
            runtime.org_id,
            name=EVIL,
            amount_usd=Decimal("1234.56"),
            valid_from=DAYS[-1],
            valid_until=TODAY + timedelta(days=300),
            provider="anthropic",
        )
        codex = Connection(
            org_id=runtime.org_id, name="codex", provider="chatgpt_enterprise", provider_account_id="ws"
        )
        session.add(codex)
        session.flush()
        set_credit_rate(session, codex, DAYS[-1], Decimal("0.04"))
    return runtime


@pytest.mark.parametrize("role", ["admin", "finance_admin"])
def test_rates_page_shows_cards_versions_credits_and_credit_rates(rated: Runtime, role: str) -> None:
    client = signed_in(rated, role)
    page = client.get("/rates")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/rates" aria-current="page">Rates and credits</a>' in html
    assert 'href="/limits"' in html
    assert "anthropic-2026" in html
    assert "Anthropic Platform" in html
    assert "claude-*" in html
    assert ">v1<" in html
    assert ">v2<" in html
    assert "12.5%" in html
    assert "$25,000.00" in html
    assert "input $2.5, output $12" in html
    assert "$1,234.56" in html  # the credit's amount, for people
    assert EVIL not in html
    assert "&lt;script&gt;" in html
    assert "codex" in html
    assert "$0.04" in html
    api = client.get("/api/v1/rates").json()
    [card] = api["rate_cards"]
    assert [v["version"] for v in card["versions"]] == [1, 2]
    assert card["versions"][0]["discount_pct"] == "12.5"
    assert card["versions"][1]["rates"] == {"input": "2.5", "output": "12"}
    [credit] = api["credits"]
    burned = Decimal(credit["burned_usd"])
    assert burned > 0
    assert Decimal(credit["remaining_usd"]) == Decimal("1234.56") - burned
    assert f"${Decimal(credit['remaining_usd']).quantize(Decimal('0.01')):,}" in html
    assert api["credit_rates"] == [
        {"connection": "codex", "rates": [{"effective_from": DAYS[-1].isoformat(), "usd_per_credit": "0.04"}]}
    ]


def test_adding_a_rate_card_through_the_form_lists_it_and_is_audited(runtime: Runtime) -> None:
    seed_usage(runtime)
    client = signed_in(runtime, "finance_admin", email="fiona@example.com")
    form = {
        "name": "openai-enterprise",
        "effective_from": DAYS[-1].isoformat(),
        "provider": "anthropic",
        "model": "claude-sonnet-*",
        "discount": "20",
        "rates": "cache_read=0.25",
        "commitment": "$10,000",
        "note": "MSA 2026",
    }
    response = post(client, "/rates/cards", form)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/rates?added=openai-enterprise")
    page = client.get(location)
    assert "Rate card openai-enterprise v1" in page.text
    assert re.search(r"[\d,]+ usage facts priced from", page.text)
    # Its effective date is in a closed month: the page offers the re-rating that would change it.
    closed_until = TODAY.replace(day=1) - timedelta(days=1)
    assert f"/rates?since={DAYS[-1].isoformat()}&amp;until={closed_until.isoformat()}#rerate" in page.text
    api = client.get("/api/v1/rates").json()
    [card] = api["rate_cards"]
    assert (card["name"], card["provider"], card["model_pattern"]) == (
        "openai-enterprise",
        "anthropic",
        "claude-sonnet-*",
    )
    [version] = card["versions"]
    assert version["discount_pct"] == "20"
    assert version["rates"] == {"cache_read": "0.25"}
    assert version["commitment_usd"] == "10000.00"
    assert version["created_by"] == "fiona@example.com"
    assert version["facts_priced"] > 0
    [entry] = entries(runtime, "rates.changed")
    assert entry.actor_email == "fiona@example.com"
    assert entry.target == "rate_card:openai-enterprise"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("discount", "twenty", "The discount must be a number such as 20 or 1250.50, not &#39;twenty&#39;."),
        ("discount", "120", "A discount is a percentage from 0 to 100."),
        ("effective_from", "next week", "Effective from: enter a UTC day as YYYY-MM-DD"),
        ("rates", "input 2.5", "Explicit rates are KIND=USD per million tokens"),
        ("rates", "tokens=3", "Unknown token kind &#39;tokens&#39;"),
    ],
)
def test_a_bad_rate_card_value_says_what_to_fix_and_keeps_what_was_typed(
    admin_client: TestClient, runtime: Runtime, field: str, value: str, message: str
) -> None:
    form = {"name": "kept-name", "effective_from": TODAY.isoformat(), "discount": "10", "note": "kept note"}
    form[field] = value
    response = admin_client.post("/rates/cards", data={**form, "csrf_token": csrf(admin_client)})
    assert response.status_code == 422
    assert message in response.text
    assert 'role="alert"' in response.text
    assert 'value="kept-name"' in response.text
    assert 'value="kept note"' in response.text
    assert admin_client.get("/api/v1/rates").json()["rate_cards"] == []
    assert entries(runtime, "rates.changed") == []


def test_adding_a_credit_through_the_form_shows_its_balance(runtime: Runtime) -> None:
    seed_usage(runtime)
    client = signed_in(runtime, "admin")
    form = {
        "name": "prepay",
        "amount": "5,000",
        "valid_from": DAYS[-1].isoformat(),
        "valid_until": (TODAY + timedelta(days=30)).isoformat(),
        "provider": "",
        "kind": "prepaid",
    }
    response = post(client, "/rates/credits", form)
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "Credit prepay: $5,000.00 for Any provider" in page.text
    [credit] = client.get("/api/v1/rates").json()["credits"]
    assert credit["status"] == "active"
    assert f"${Decimal(credit['remaining_usd']).quantize(Decimal('0.01')):,}" in page.text
    assert [e.target for e in entries(runtime, "credits.added")] == ["credit:prepay"]
    again = post(client, "/rates/credits", form)
    assert again.status_code == 422
    assert "There is already a credit named &#39;prepay&#39;." in again.text
    late = post(client, "/rates/credits", {**form, "name": "late", "valid_until": "2020-01-01"})
    assert "The credit ends (2020-01-01) before it starts" in late.text


def test_rerating_shows_the_dry_run_then_applies_it(runtime: Runtime) -> None:
    seed_usage(runtime)
    client = signed_in(runtime, "finance_admin", email="fin@example.com")
    form = {"name": "late-deal", "effective_from": DAYS[-1].isoformat(), "discount": "30"}
    assert post(client, "/rates/cards", form).status_code == 303
    since, until = DAYS[-1], TODAY.replace(day=1) - timedelta(days=1)
    dry = client.get(f"/rates?since={since}&until={until}")
    assert dry.status_code == 200
    assert "Re-rating would change" in dry.text
    assert 'id="apply-rerate"' in dry.text
    assert "late-deal v1" in dry.text
    expected = client.get(f"/api/v1/rates?rerate_since={since}&rerate_until={until}").json()["rerate"]
    assert expected["facts_changed"] > 0
    assert Decimal(expected["delta_usd"]) < 0
    assert entries(runtime, "rerate.applied") == []  # the dry run writes nothing
    applied = post(client, "/rates/rerate", {"since": since.isoformat(), "until": until.isoformat()})
    assert applied.status_code == 200
    text = applied.text
    assert f"Re-rated {expected['facts_changed']:,} usage facts" in text
    assert 'id="apply-rerate"' not in text
    [entry] = entries(runtime, "rerate.applied")
    assert entry.actor_email == "fin@example.com"
    again = client.get(f"/api/v1/rates?rerate_since={since}&rerate_until={until}").json()["rerate"]
    assert again["facts_changed"] == 0


def test_a_bad_rerate_period_says_so(admin_client: TestClient) -> None:
    page = admin_client.get("/rates?since=2026-03-10&until=2026-03-01")
    assert page.status_code == 422
    assert "Re-rate to (1 March 2026) is before Re-rate from (10 March 2026)." in page.text
    page = admin_client.get("/rates?since=yesterday&until=2026-03-01")
    assert "Re-rate from: enter a UTC day as YYYY-MM-DD" in page.text
    assert admin_client.get("/api/v1/rates?rerate_since=2026-03-01").status_code == 422


# ---------------------------------------------------------------------------------- limits


def live(simulator: ClaudeEnterpriseSimulator) -> list[str]:
    return [p.email for p in simulator.org.people if not simulator.org.is_deleted(p)]


@pytest.mark.parametrize("role", ["admin", "finance_admin"])
def test_limits_page_shows_members_sources_and_pending_requests(
    runtime: Runtime,
    claude_enterprise: ClaudeEnterpriseSimulator,
    claude_enterprise_connected: str,
    role: str,
) -> None:
    client = signed_in(runtime, role)
    page = client.get("/limits")
    assert page.status_code == 200
    assert '<a href="/limits" aria-current="page">Spend limits</a>' in page.text
    assert "organisation default" in page.text
    assert "$500.00" in page.text
    assert "included usage only" in page.text
    assert "unlimited" in page.text
    pending = [r for r in claude_enterprise.limits.requests.values() if r.status == "pending"]
    assert f"Pending increase requests ({len(pending)})" in page.text
    for request in pending:
        assert f"/requests/{request.id}/approve" in page.text
    assert f"Members ({len(live(claude_enterprise))})" in page.text
    api = client.get("/api/v1/limits").json()
    [connection] = api["connections"]
    assert connection["connection"] == claude_enterprise_connected
    assert connection["can_write"] is True
    assert connection["error"] is None
    assert len(connection["members"]) == len(live(claude_enterprise))
    assert {r["id"] for r in connection["pending_requests"]} == {r.id for r in pending}


def test_setting_and_clearing_a_limit_through_the_forms(
    runtime: Runtime, claude_enterprise: ClaudeEnterpriseSimulator, claude_enterprise_connected: str
) -> None:
    client = signed_in(runtime, "finance_admin", email="fin@example.com")
    email = live(claude_enterprise)[30].lower()
    url = f"/limits/{claude_enterprise_connected}"
    response = post(client, f"{url}/set", {"email": email, "amount": "1,250.50"})
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert f"Set the monthly limit of {email}" in page.text
    row = re.search(rf'<tr data-email="{re.escape(email)}">(.*?)</tr>', page.text, re.S)
    assert row is not None
    assert "$1,250.50" in row.group(1)
    assert "own limit" in row.group(1)
    [member] = [
        m for m in client.get("/api/v1/limits").json()["connections"][0]["members"] if m["email"] == email
    ]
    assert (member["limit_usd"], member["source"]) == ("1250.50", "user")
    [entry] = entries(runtime, "spend_limit.set")
    assert entry.actor_email == "fin@example.com"
    assert entry.target == f"connection:{claude_enterprise_connected} user:{email}"
    assert entry.after is not None
    assert entry.after["amount_usd"] == "1250.50"

    cleared = post(client, f"{url}/clear", {"email": email})
    assert cleared.status_code == 303
    [entry] = entries(runtime, "spend_limit.cleared")
    assert entry.actor_email == "fin@example.com"
    [member] = [
        m for m in client.get("/api/v1/limits").json()["connections"][0]["members"] if m["email"] == email
    ]
    assert member["source"] != "user"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"amount": "lots"}, "The monthly limit must be a number such as 20 or 1250.50, not &#39;lots&#39;."),
        ({"amount": "-5"}, "The monthly limit cannot be negative"),
        (
            {"amount": "10", "unlimited": "1"},
            "Enter a monthly limit in US dollars, or tick No limit (not both).",
        ),
        ({"amount": "10.001"}, "whole number of cents"),
    ],
)
def test_a_bad_limit_says_what_to_fix_and_keeps_the_form(
    runtime: Runtime,
    claude_enterprise: ClaudeEnterpriseSimulator,
    claude_enterprise_connected: str,
    form: dict[str, str],
    message: str,
) -> None:
    client = signed_in(runtime, "admin")
    email = live(claude_enterprise)[30].lower()
    before = dict(claude_enterprise.limits.overrides)
    response = post(client, f"/limits/{claude_enterprise_connected}/set", {"email": email, **form})
    assert response.status_code == 422
    assert message in response.text
    assert f'value="{email}"' in response.text
    assert claude_enterprise.limits.overrides == before
    assert entries(runtime, "spend_limit.set") == []


def test_answering_increase_requests(
    runtime: Runtime, claude_enterprise: ClaudeEnterpriseSimulator, claude_enterprise_connected: str
) -> None:
    client = signed_in(runtime, "admin")
    first, second = [r for r in claude_enterprise.limits.requests.values() if r.status == "pending"][:2]
    url = f"/limits/{claude_enterprise_connected}/requests"
    missing = post(client, f"{url}/{first.id}/approve", {"amount": ""})
    assert missing.status_code == 422
    assert "Enter the member&#39;s new monthly limit in US dollars." in missing.text
    assert post(client, f"{url}/{first.id}/approve", {"amount": "900", "notify": "1"}).status_code == 303
    assert post(client, f"{url}/{second.id}/deny", {}).status_code == 303
    assert (first.status, second.status) == ("approved", "denied")
    assert claude_enterprise.limits.overrides[first.user_id].amount == "90000"
    [approved] = entries(runtime, "spend_limit_request.approved")
    assert approved.after is not None
    assert approved.after["notified"] is True
    [denied] = entries(runtime, "spend_limit_request.denied")
    assert denied.after is not None
    assert denied.after["notified"] is False
    page = client.get("/limits")
    assert f"/requests/{first.id}/approve" not in page.text
    # Approving it again is refused by the provider; the page says so.
    again = post(client, f"{url}/{first.id}/approve", {"amount": "900"})
    assert again.status_code == 422
    assert "already approved" in again.text


def test_limits_without_a_claude_enterprise_connection_say_to_connect_one(admin_client: TestClient) -> None:
    page = admin_client.get("/limits")
    assert page.status_code == 200
    assert "No Claude Enterprise organisation is connected" in page.text
    assert '<a href="/connections">connect one on the Connections page</a>' in page.text
    assert admin_client.get("/api/v1/limits").json() == {"connections": []}


def test_a_key_that_may_not_write_gets_no_forms(
    runtime: Runtime, claude_enterprise: ClaudeEnterpriseSimulator, claude_enterprise_connected: str
) -> None:
    with runtime.db.session() as session:
        stored = session.query(Connection).filter_by(name=claude_enterprise_connected).one()
        stored.options = {**stored.options, "capabilities": ["analytics", "spend_limits.read"]}
    client = signed_in(runtime, "admin")
    page = client.get("/limits")
    assert "lacks <code>write:spend_limits</code>" in page.text
    assert f"/limits/{claude_enterprise_connected}/set" not in page.text
    assert "Clear own limit" not in page.text
    email = live(claude_enterprise)[30]
    refused = post(client, f"/limits/{claude_enterprise_connected}/set", {"email": email, "amount": "5"})
    assert refused.status_code == 422
    assert "may not change spend limits" in refused.text


@pytest.mark.parametrize("role", ["it_admin", "auditor", "member"])
def test_other_roles_neither_see_the_links_nor_get_the_pages(runtime: Runtime, role: str) -> None:
    client = signed_in(runtime, role)
    for url in ("/rates", "/limits"):
        page = client.get(url)
        assert page.status_code == 403
        assert 'href="/rates"' not in page.text
        assert 'href="/limits"' not in page.text


def test_cost_apis_have_no_server_errors(runtime: Runtime) -> None:
    seed_usage(runtime)
    headers = {"Authorization": f"Bearer {api_token(runtime, 'admin', scope='full')}"}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(runtime)).include(
        path_regex=r"^/api/v1/(rates|limits)$"
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 2
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[schemathesis.checks.not_a_server_error])

        fuzz()


def test_a_limit_for_an_unknown_connection_says_which_exist(
    runtime: Runtime, claude_enterprise_connected: str
) -> None:
    client = signed_in(runtime, "admin")
    response = post(client, "/limits/nope/set", {"email": "a@example.com", "amount": "5"})
    assert response.status_code == 422
    assert "nope" in response.text
    assert 'role="alert"' in response.text

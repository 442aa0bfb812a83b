"""One person across seat plans and APIs: one row by user, split by product; credits priced by contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from aispend.credit_rates import set_credit_rate
from aispend.model import CostRecord, UsageRecord
from aispend.reports.queries import spend_report
from aispend.runtime import Runtime
from aispend.store.allocations import reallocate_days
from aispend.store.facts import replace_cost_day, replace_usage_day
from aispend.store.schema import Connection

DAY = date(2026, 3, 2)
ADA = "ada@example.com"


def _connection(runtime: Runtime, name: str, provider: str) -> Connection:
    with runtime.db.session() as session:
        connection = Connection(org_id=runtime.org_id, name=name, provider=provider, provider_account_id=name)
        session.add(connection)
    return connection


@pytest.fixture
def people(runtime: Runtime) -> dict[str, int]:
    """Ada spends on Claude Enterprise (chat and Claude Code), the Anthropic API (Claude Code) and Codex."""
    org = runtime.org_id
    ids = {
        provider: _connection(runtime, provider, provider).id
        for provider in ("anthropic", "claude_enterprise", "chatgpt_enterprise")
    }
    with runtime.db.session() as session:
        anthropic, claude, codex = ids["anthropic"], ids["claude_enterprise"], ids["chatgpt_enterprise"]

        def cost(connection_id: int, stream: str, *records: CostRecord) -> None:
            replace_cost_day(
                session, org_id=org, connection_id=connection_id, stream=stream, day=DAY, records=records
            )

        def usage(connection_id: int, stream: str, *records: UsageRecord) -> None:
            replace_usage_day(
                session, org_id=org, connection_id=connection_id, stream=stream, day=DAY, records=records
            )

        cost(anthropic, "cost", CostRecord(DAY, Decimal(10), model="claude-x", cost_type="tokens"))
        usage(
            anthropic,
            "claude_code",
            UsageRecord(DAY, "claude_code", user_id=ADA, estimated_cost_usd=Decimal(4)),
        )
        cost(
            claude,
            "enterprise_cost",
            CostRecord(DAY, Decimal(30), stream="enterprise_cost", product="chat"),
            CostRecord(DAY, Decimal(20), stream="enterprise_cost", product="claude_code"),
        )
        cost(
            claude,
            "enterprise_user_cost",
            CostRecord(DAY, Decimal(7), stream="enterprise_user_cost", product="chat", user_id=ADA),
            CostRecord(DAY, Decimal(5), stream="enterprise_user_cost", product="claude_code", user_id=ADA),
            CostRecord(DAY, Decimal(38), stream="enterprise_user_cost", product="chat", user_id="bo@x.org"),
        )
        usage(
            codex,
            "codex_usage",
            UsageRecord(DAY, "codex_usage", user_id=ADA, product="codex", credits=Decimal(100)),
        )
        for connection_id in ids.values():
            reallocate_days(session, org_id=org, connection_id=connection_id, days=[DAY], provider="x")
    return ids


def report(runtime: Runtime, by: str) -> dict[str, Any]:
    with runtime.db.session() as session:
        return spend_report(session, runtime.org_id, by=by, since=DAY, until=DAY).as_json()  # type: ignore[arg-type]


def test_breakdown_streams_are_never_added_to_the_total(runtime: Runtime, people: dict[str, int]) -> None:
    body = report(runtime, "provider")
    assert Decimal(body["total"]["cost_usd"]) == Decimal("60")  # 10 API + 50 Enterprise; Codex unpriced
    assert body["unpriced_credits"] == "100"
    by_provider = {row["key"]: Decimal(row["cost_usd"]) for row in body["rows"]}
    assert by_provider == {"anthropic": 10, "claude_enterprise": 50, "chatgpt_enterprise": 0}
    labels = {row["key"]: row["label"] for row in body["rows"]}
    assert labels["chatgpt_enterprise"] == "ChatGPT Enterprise (100 credits unpriced)"


def test_a_person_is_one_row_across_providers_and_products_split_it(
    runtime: Runtime, people: dict[str, int]
) -> None:
    with runtime.db.session() as session:
        codex = session.get(Connection, people["chatgpt_enterprise"])
        assert codex is not None
        set_credit_rate(session, codex, date(2026, 1, 1), Decimal("0.04"))
    body = report(runtime, "user")
    rows = {row["key"]: Decimal(row["cost_usd"]) for row in body["rows"]}
    # Claude Enterprise chat and Claude Code, the API's Claude Code estimate, and 100 Codex credits at $0.04.
    assert rows[ADA] == 7 + 5 + 4 + 4
    assert "unpriced_credits" not in body
    assert sum(rows.values()) == Decimal(body["total"]["cost_usd"]) == Decimal("64")
    products = {row["key"]: Decimal(row["cost_usd"]) for row in report(runtime, "product")["rows"]}
    assert products == {
        "api": Decimal("10"),
        "chat": Decimal("30"),
        "claude_code": Decimal("20"),
        "codex": Decimal("4"),
    }


def test_seat_plans_say_they_have_no_api_keys(runtime: Runtime, people: dict[str, int]) -> None:
    labels = {row["label"]: Decimal(row["cost_usd"]) for row in report(runtime, "api-key")["rows"]}
    assert labels["Claude Enterprise reports no API keys (claude_enterprise)"] == Decimal("50")

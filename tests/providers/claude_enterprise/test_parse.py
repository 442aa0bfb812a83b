"""Claude Enterprise parsers on sample bodies: the reference's shapes and the readings it leaves open."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from aispend.providers.base import FatalProviderError
from aispend.providers.claude_enterprise.parse import (
    parse_account,
    parse_actor,
    parse_bucketed_cost,
    parse_bucketed_usage,
    parse_refreshed_at,
    parse_summaries,
    parse_user_cost,
    parse_user_usage,
    parse_users,
)

DAY = date(2026, 3, 2)
ACTOR = {"type": "user_actor", "user_id": "user_01A", "email": "Jane.Smith@Example.com", "name": "Jane Smith"}
USAGE_ROW = {
    "uncached_input_tokens": 1500,
    "cache_creation": {"ephemeral_1h_input_tokens": 1000, "ephemeral_5m_input_tokens": 500},
    "cache_read_input_tokens": 200,
    "output_tokens": 500,
    "server_tool_use": {"web_search_requests": 10},
    "requests": 7,
    "product": "claude_code",
    "model": "claude-opus-4-6",
    "context_window": "0-200k",
    "inference_geo": "global",
    "speed": "fast",
    "rbac_group_id": "grp_eng",
    "slack_channel_id": None,
}


def envelope(data: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "data": data,
        "data_refreshed_at": "2026-03-05T04:00:00Z",
        "has_more": False,
        "next_page": None,
        "organization_id": "org-uuid",
        **extra,
    }


def bucket(results: list[Any], start: str = "2026-03-02T00:00:00Z") -> dict[str, Any]:
    return {"starting_at": start, "ending_at": "2026-03-03T00:00:00Z", "results": results}


def test_usage_buckets_become_organisation_usage() -> None:
    [parsed] = parse_bucketed_usage(envelope([bucket([USAGE_ROW])]), "enterprise_usage")
    assert (parsed.day, parsed.groups) == (DAY, 1)
    [record] = parsed.usage
    assert (record.input_tokens, record.cache_write_5m_tokens, record.cache_write_1h_tokens) == (
        1500,
        500,
        1000,
    )
    assert (record.cache_read_tokens, record.output_tokens, record.web_search_requests) == (200, 500, 10)
    assert (record.requests, record.product, record.model) == (7, "claude_code", "claude-opus-4-6")
    # Speed is the pricing tier; the organisation's rows name no person and no group.
    assert (record.service_tier, record.user_id, record.workspace_id) == ("fast", "", "")


def test_cost_is_cents_after_discount_with_the_list_price_kept() -> None:
    row = {
        "amount": "41280.000000",
        "list_amount": "45866.666667",
        "currency": "USD",
        "cost_type": "tokens",
        "token_type": "cache_creation.ephemeral_5m_input_tokens",
        "product": "chat",
        "model": "claude-sonnet-4-6",
        "rbac_group_id": "grp_eng",
        "speed": "standard",
        "requests": None,
    }
    [parsed] = parse_bucketed_cost(envelope([bucket([row])]), "enterprise_cost")
    [cost] = parsed.cost
    assert cost.amount_usd == Decimal("412.80")
    assert cost.list_amount_usd == Decimal("458.66666667")
    assert (cost.token_type, cost.cost_type, cost.product, cost.workspace_id) == (
        "cache_write_5m",
        "tokens",
        "chat",
        "",
    )
    [grouped] = parse_bucketed_cost(envelope([bucket([row])]), "enterprise_group_cost", by_group=True)
    assert grouped.cost[0].workspace_id == "grp_eng"


def test_a_cost_row_that_cannot_be_read_is_refused() -> None:
    for row in ({"currency": "USD"}, {"amount": "abc"}, {"amount": "1", "currency": "EUR"}):
        with pytest.raises(FatalProviderError, match="cannot read"):
            parse_bucketed_cost(envelope([bucket([row])]), "enterprise_cost")


def test_per_user_rows_carry_their_own_day() -> None:
    """The documented reading: with bucket_width each row has its starting_at."""
    rows = [
        {
            "actor": ACTOR,
            "starting_at": "2026-03-02T00:00:00Z",
            "ending_at": "2026-03-03T00:00:00Z",
            **USAGE_ROW,
        },
        {
            "actor": ACTOR,
            "starting_at": "2026-03-03T00:00:00Z",
            "ending_at": "2026-03-04T00:00:00Z",
            **USAGE_ROW,
        },
    ]
    records = parse_user_usage(envelope(rows), "enterprise_user_usage")
    assert [r.day for r in records] == [DAY, date(2026, 3, 3)]
    assert {r.user_id for r in records} == {"jane.smith@example.com"}


def test_per_user_rows_in_bucket_envelopes_are_read_too() -> None:
    """The other reading: rows nested in {starting_at, results} buckets like the bucketed reports."""
    cost = {"actor": ACTOR, "amount": "1250.5", "list_amount": "1400", "currency": "USD", "product": "chat"}
    [record] = parse_user_cost(envelope([bucket([cost])]), "enterprise_user_cost")
    assert (record.day, record.user_id, record.amount_usd, record.product) == (
        DAY,
        "jane.smith@example.com",
        Decimal("12.505"),
        "chat",
    )


def test_a_per_user_row_without_a_day_needs_a_one_day_request() -> None:
    body = envelope([{"actor": ACTOR, "amount": "100", "currency": "USD"}])
    assert parse_user_cost(body, "enterprise_user_cost", DAY)[0].day == DAY
    with pytest.raises(FatalProviderError, match="says no day"):
        parse_user_cost(body, "enterprise_user_cost")


def test_actors_are_keyed_by_lower_cased_email() -> None:
    entry = parse_actor({**ACTOR, "deleted": True})
    assert (entry.kind, entry.provider_id, entry.name) == ("user", "jane.smith@example.com", "Jane Smith")
    assert entry.attributes == {
        "email": "Jane.Smith@Example.com",
        "provider_user_id": "user_01A",
        "deleted": "true",
    }
    # Spend-limit rows say email_address; a row with no e-mail falls back to the provider id.
    assert parse_actor({"user_id": "u1", "email_address": "A@B.C"}).provider_id == "a@b.c"
    assert parse_actor({"user_id": "u1"}).provider_id == "u1"
    with pytest.raises(FatalProviderError):
        parse_actor({"type": "user_actor"})
    with pytest.raises(FatalProviderError):
        parse_actor(None)


def test_users_rows_in_each_shape() -> None:
    body = {
        "data": [
            {"user": {"id": "u1", "email_address": "One@x.com", "name": "One"}, "chat_metrics": {}},
            {"actor": {"user_id": "u2", "email": "two@x.com"}},
            {"user_id": "u3", "email": "three@x.com", "name": "Three"},
        ],
        "next_page": None,
    }
    assert [(e.provider_id, e.name) for e in parse_users(body)] == [
        ("one@x.com", "One"),
        ("two@x.com", "two@x.com"),
        ("three@x.com", "Three"),
    ]


def test_summaries_are_gauges_per_metric() -> None:
    body = {
        "summaries": [
            {
                "starting_date": "2026-03-02",
                "daily_active_user_count": 40,
                "assigned_seat_count": 64,
                "extra": 1,
            },
            {"date": "2026-03-03", "pending_invite_count": 3},
        ]
    }
    records = parse_summaries(body, "enterprise_summary")
    assert [(r.day, r.variant, r.unit, r.quantity) for r in records] == [
        (DAY, "daily_active_user_count", "users", Decimal(40)),
        (DAY, "assigned_seat_count", "seats", Decimal(64)),
        (date(2026, 3, 3), "pending_invite_count", "invites", Decimal(3)),
    ]
    assert parse_summaries({"data": []}, "enterprise_summary") == []
    with pytest.raises(FatalProviderError, match="no date"):
        parse_summaries({"summaries": [{"daily_active_user_count": 1}]}, "enterprise_summary")


def test_envelope_names_the_organisation_and_its_freshness() -> None:
    body = envelope([])
    assert parse_account(body).id == "org-uuid"
    assert parse_refreshed_at(body) == datetime(2026, 3, 5, 4, tzinfo=UTC)
    assert parse_refreshed_at({}) is None
    with pytest.raises(FatalProviderError, match="organization_id"):
        parse_account({"data": []})

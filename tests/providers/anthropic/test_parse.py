"""The Anthropic parsers turn the documented example bodies (reference §2-§5) into exact records.

Bodies are decoded the way the client decodes them (``parse_float=Decimal``), so no
amount ever passes through a binary float here either.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from aispend.model import CostRecord, DirectoryEntry, UsageRecord
from aispend.providers.anthropic.parse import (
    parse_claude_code_page,
    parse_cost_page,
    parse_directory_page,
    parse_organization,
    parse_usage_page,
)
from aispend.providers.base import DayRecords, FatalProviderError, ProviderAccount

# --- The documented examples, verbatim (reference §2, §3, §4, §1) ---------------------

USAGE_EXAMPLE = """
{
  "data": [
    {
      "starting_at": "2025-08-01T00:00:00Z",
      "ending_at": "2025-08-02T00:00:00Z",
      "results": [
        {
          "uncached_input_tokens": 1500,
          "cache_creation": {"ephemeral_1h_input_tokens": 1000, "ephemeral_5m_input_tokens": 500},
          "cache_read_input_tokens": 200,
          "output_tokens": 500,
          "server_tool_use": {"web_search_requests": 10},
          "account_id": "user_01WCz1FkmYMm4gnmykNKUu3Q",
          "api_key_id": "apikey_01Rj2N8SVvo6BePZj99NhmiT",
          "service_account_id": "svac_01Hk3R9TWxq7CfQak00OiVw4",
          "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
          "model": "claude-opus-4-6",
          "service_tier": "standard",
          "context_window": "0-200k",
          "inference_geo": "global"
        }
      ]
    }
  ],
  "has_more": true,
  "next_page": "page_MjAyNS0wNS0xNFQwMDowMDowMFo="
}
"""

COST_EXAMPLE = (
    '{"data":[{"starting_at":"2025-08-01T00:00:00Z","ending_at":"2025-08-02T00:00:00Z","results":'
    '[{"amount":"123.78912","currency":"USD","cost_type":"tokens","description":"Claude Sonnet 4 Usage'
    ' - Input Tokens","model":"claude-opus-4-6","token_type":"uncached_input_tokens","context_window":'
    '"0-200k","service_tier":"standard","inference_geo":"global","workspace_id":'
    '"wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"}]}],"has_more":true,"next_page":"page_MjAyNS0wNS0xNFQwMDowMDowMFo="}'
)

CLAUDE_CODE_RECORD = """
{
  "date": "2025-08-08T00:00:00Z",
  "actor": {"type": "user_actor", "email_address": "user@emaildomain.com"},
  "organization_id": "12345678-1234-5678-1234-567812345678",
  "customer_type": "api",
  "subscription_type": "enterprise",
  "terminal_type": "iTerm.app",
  "is_remote": false,
  "core_metrics": {
    "num_sessions": 15,
    "lines_of_code": {"added": 342, "removed": 128},
    "commits_by_claude_code": 8,
    "pull_requests_by_claude_code": 2
  },
  "tool_actions": {
    "edit_tool": {"accepted": 25, "rejected": 3},
    "multi_edit_tool": {"accepted": 12, "rejected": 1},
    "notebook_edit_tool": {"accepted": 5, "rejected": 2},
    "write_tool": {"accepted": 8, "rejected": 0}
  },
  "model_breakdown": [
    {
      "model": "claude-opus-4-8",
      "tokens": {"input": 45230, "output": 12450, "cache_read": 8790, "cache_creation": 2340},
      "estimated_cost": {"amount": 186, "currency": "USD"}
    }
  ]
}
"""

ME_EXAMPLE = '{"id":"12345678-1234-5678-1234-567812345678","type":"organization","name":"Organization Name"}'

DAY = date(2025, 8, 1)
CC_DAY = date(2025, 8, 8)


def load(text: str) -> dict[str, Any]:
    """Decode like the client does: decimals stay ``Decimal``."""
    body = json.loads(text, parse_float=Decimal)
    assert isinstance(body, dict)
    return body


def usage_body(*rows: dict[str, Any], starting_at: str = "2025-08-01T00:00:00Z") -> dict[str, Any]:
    bucket = {"starting_at": starting_at, "ending_at": "2025-08-02T00:00:00Z", "results": list(rows)}
    return {"data": [bucket], "has_more": False, "next_page": None}


def claude_code_body(*records: dict[str, Any], has_more: bool = False) -> dict[str, Any]:
    return {
        "data": list(records),
        "has_more": has_more,
        "next_page": "page_cc2" if has_more else None,
    }


def example_usage_row() -> dict[str, Any]:
    row = load(USAGE_EXAMPLE)["data"][0]["results"][0]
    assert isinstance(row, dict)
    return row


def example_cost_row() -> dict[str, Any]:
    row = load(COST_EXAMPLE)["data"][0]["results"][0]
    assert isinstance(row, dict)
    return row


def only_usage(body: dict[str, Any]) -> UsageRecord:
    page = parse_usage_page(body)
    assert len(page.days) == 1
    assert len(page.days[0].usage) == 1
    return page.days[0].usage[0]


def only_cost(body: dict[str, Any]) -> CostRecord:
    page = parse_cost_page(body)
    assert len(page.days) == 1
    assert len(page.days[0].cost) == 1
    return page.days[0].cost[0]


# --- Usage report (§2) -------------------------------------------------------------------


def test_usage_example_parses_to_one_exact_record() -> None:
    page = parse_usage_page(load(USAGE_EXAMPLE))

    assert page.next_cursor == "page_MjAyNS0wNS0xNFQwMDowMDowMFo="
    assert page.days == [
        DayRecords(
            DAY,
            usage=[
                UsageRecord(
                    day=DAY,
                    stream="messages",
                    model="claude-opus-4-6",
                    workspace_id="wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
                    api_key_id="apikey_01Rj2N8SVvo6BePZj99NhmiT",
                    user_id="user_01WCz1FkmYMm4gnmykNKUu3Q",
                    service_tier="standard",
                    context_window="0-200k",
                    inference_geo="global",
                    input_tokens=1500,
                    cache_write_5m_tokens=500,
                    cache_write_1h_tokens=1000,
                    cache_write_other_tokens=0,
                    cache_read_tokens=200,
                    output_tokens=500,
                    web_search_requests=10,
                )
            ],
        )
    ]


def test_usage_keeps_5m_and_1h_cache_writes_apart() -> None:
    record = only_usage(usage_body(example_usage_row()))

    assert (record.cache_write_5m_tokens, record.cache_write_1h_tokens) == (500, 1000)
    assert record.cache_write_tokens == 1500


def test_usage_null_group_fields_become_empty_strings() -> None:
    row = example_usage_row()
    for name in (
        "account_id",
        "api_key_id",
        "service_account_id",
        "workspace_id",
        "model",
        "service_tier",
        "context_window",
        "inference_geo",
    ):
        row[name] = None

    record = only_usage(usage_body(row))

    assert record.workspace_id == ""
    assert record.api_key_id == ""
    assert record.user_id == ""
    assert record.model == ""
    assert record.service_tier == ""
    assert record.context_window == ""
    assert record.inference_geo == ""
    assert record.input_tokens == 1500


def test_usage_empty_bucket_gives_a_day_with_no_records() -> None:
    body = {
        "data": [
            {"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z", "results": []},
            {"starting_at": "2025-08-02T00:00:00Z", "ending_at": "2025-08-03T00:00:00Z", "results": []},
        ],
        "has_more": False,
        "next_page": None,
    }

    page = parse_usage_page(body)

    assert page.days == [DayRecords(date(2025, 8, 1)), DayRecords(date(2025, 8, 2))]
    assert page.next_cursor is None


def test_usage_duplicate_natural_keys_in_one_bucket_are_summed() -> None:
    first = example_usage_row()
    second = example_usage_row()
    # Differs only in a field that is not a dimension of the record.
    second["service_account_id"] = "svac_other"
    second["uncached_input_tokens"] = 1
    second["server_tool_use"] = {"web_search_requests": 2}
    other_model = example_usage_row()
    other_model["model"] = "claude-haiku-4-5-20251001"

    usage = parse_usage_page(usage_body(first, second, other_model)).days[0].usage

    assert len(usage) == 2
    merged = next(r for r in usage if r.model == "claude-opus-4-6")
    assert merged.input_tokens == 1501
    assert merged.cache_write_5m_tokens == 1000
    assert merged.cache_write_1h_tokens == 2000
    assert merged.cache_read_tokens == 400
    assert merged.output_tokens == 1000
    assert merged.web_search_requests == 12
    assert sum(r.input_tokens for r in usage) == 1500 + 1 + 1500


def test_usage_older_shape_without_geo_tools_or_cache_object() -> None:
    row: dict[str, Any] = {
        "uncached_input_tokens": 10,
        "cache_creation_input_tokens": 70,
        "cache_read_input_tokens": 3,
        "output_tokens": 4,
        "api_key_id": "apikey_old",
        "workspace_id": None,
        "model": "claude-3-5-haiku-20241022",
        "service_tier": "standard",
        "context_window": "0-200k",
    }

    record = only_usage(usage_body(row))

    assert record.inference_geo == ""
    assert record.web_search_requests == 0
    assert record.cache_write_other_tokens == 70
    assert (record.cache_write_5m_tokens, record.cache_write_1h_tokens) == (0, 0)
    assert record.cache_write_tokens == 70
    assert (record.input_tokens, record.cache_read_tokens, record.output_tokens) == (10, 3, 4)


def test_usage_nested_cache_object_wins_over_a_flat_field() -> None:
    row = example_usage_row()
    row["cache_creation_input_tokens"] = 1500  # the sum, must not be counted twice

    record = only_usage(usage_body(row))

    assert record.cache_write_tokens == 1500
    assert record.cache_write_other_tokens == 0


def test_usage_whole_decimal_counts_are_accepted() -> None:
    row = example_usage_row()
    row["output_tokens"] = Decimal("500.0")

    assert only_usage(usage_body(row)).output_tokens == 500


# --- Cost report (§3) --------------------------------------------------------------------


def test_cost_example_parses_cents_to_exact_dollars() -> None:
    page = parse_cost_page(load(COST_EXAMPLE))

    assert page.next_cursor == "page_MjAyNS0wNS0xNFQwMDowMDowMFo="
    assert page.days == [
        DayRecords(
            DAY,
            cost=[
                CostRecord(
                    day=DAY,
                    amount_usd=Decimal("1.2378912"),
                    workspace_id="wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
                    description="Claude Sonnet 4 Usage - Input Tokens",
                    cost_type="tokens",
                    model="claude-opus-4-6",
                    token_type="input",
                    service_tier="standard",
                    context_window="0-200k",
                    inference_geo="global",
                    currency="USD",
                )
            ],
        )
    ]
    amount = page.days[0].cost[0].amount_usd
    assert isinstance(amount, Decimal)
    # Exact, digit for digit: fractional cents are kept.
    assert str(amount) == "1.2378912"


@pytest.mark.parametrize(
    ("cents", "dollars"),
    [
        ("123.45", "1.2345"),
        ("1.000000", "0.01000000"),
        ("0.000001", "0.00000001"),
        ("41280.000000", "412.80000000"),
        ("-250", "-2.50"),
        ("0", "0"),
    ],
)
def test_cost_amounts_shift_the_decimal_point_without_rounding(cents: str, dollars: str) -> None:
    row = example_cost_row()
    row["amount"] = cents

    amount = only_cost(usage_body(row)).amount_usd

    assert amount == Decimal(dollars)
    assert amount.as_tuple().digits == Decimal(cents).as_tuple().digits


@pytest.mark.parametrize(
    ("token_type", "normalised"),
    [
        ("uncached_input_tokens", "input"),
        ("output_tokens", "output"),
        ("cache_read_input_tokens", "cache_read"),
        ("cache_creation.ephemeral_5m_input_tokens", "cache_write_5m"),
        ("cache_creation.ephemeral_1h_input_tokens", "cache_write_1h"),
        (None, ""),
    ],
)
def test_cost_token_types_are_normalised(token_type: str | None, normalised: str) -> None:
    row = example_cost_row()
    row["token_type"] = token_type

    assert only_cost(usage_body(row)).token_type == normalised


def test_cost_5m_and_1h_cache_writes_stay_separate_lines() -> None:
    five = example_cost_row()
    five["token_type"] = "cache_creation.ephemeral_5m_input_tokens"
    five["description"] = "Claude Opus 4.6 Usage - Input Tokens, Cache Write"
    five["amount"] = "10"
    hour = example_cost_row()
    hour["token_type"] = "cache_creation.ephemeral_1h_input_tokens"
    hour["description"] = "Claude Opus 4.6 Usage - Input Tokens, Cache Write"
    hour["amount"] = "20"

    cost = parse_cost_page(usage_body(five, hour)).days[0].cost

    assert {c.token_type: c.amount_usd for c in cost} == {
        "cache_write_5m": Decimal("0.10"),
        "cache_write_1h": Decimal("0.20"),
    }


def test_cost_default_workspace_and_ungrouped_fields_become_empty_strings() -> None:
    row: dict[str, Any] = {
        "amount": "5",
        "currency": "USD",
        "cost_type": None,
        "description": None,
        "model": None,
        "token_type": None,
        "context_window": None,
        "service_tier": None,
        "inference_geo": None,
        "workspace_id": None,
    }

    record = only_cost(usage_body(row))

    assert record == CostRecord(day=DAY, amount_usd=Decimal("0.05"))


@pytest.mark.parametrize(
    ("description", "cost_type"),
    [("Web Search Usage", "web_search"), ("Code Execution Usage", "code_execution")],
)
def test_cost_type_falls_back_to_the_description(description: str, cost_type: str) -> None:
    row: dict[str, Any] = {"amount": "1.000000", "currency": "USD", "description": description}

    record = only_cost(usage_body(row))

    assert record.cost_type == cost_type
    assert record.amount_usd == Decimal("0.01")


def test_cost_duplicate_natural_keys_are_summed_not_lost() -> None:
    first = example_cost_row()
    second = example_cost_row()
    second["amount"] = "0.00088"

    cost = parse_cost_page(usage_body(first, second)).days[0].cost

    assert len(cost) == 1
    assert cost[0].amount_usd == Decimal("1.2378912") + Decimal("0.0000088")
    assert cost[0].amount_usd == Decimal("1.2379")


def test_cost_empty_bucket_gives_a_day_with_no_records() -> None:
    page = parse_cost_page(usage_body())

    assert page.days == [DayRecords(DAY)]
    assert page.days[0].cost == []


def test_cost_currency_other_than_usd_is_refused_readably() -> None:
    row = example_cost_row()
    row["currency"] = "EUR"

    with pytest.raises(FatalProviderError, match="EUR") as info:
        parse_cost_page(usage_body(row))
    assert "USD" in str(info.value)


@pytest.mark.parametrize("amount", ["abc", None, "NaN", "Infinity", "", "1,5"])
def test_cost_amount_that_is_not_a_number_is_fatal(amount: str | None) -> None:
    row = example_cost_row()
    row["amount"] = amount

    with pytest.raises(FatalProviderError, match="amount") as info:
        parse_cost_page(usage_body(row))
    assert "cannot read" in str(info.value)


# --- Pagination and hostile bodies -------------------------------------------------------


@pytest.mark.parametrize("parse", [parse_usage_page, parse_cost_page])
def test_has_more_without_next_page_is_fatal(parse: Any) -> None:
    body = usage_body()
    body["has_more"] = True
    body["next_page"] = None

    with pytest.raises(FatalProviderError, match="has_more"):
        parse(body)


@pytest.mark.parametrize("parse", [parse_usage_page, parse_cost_page])
def test_last_page_has_no_cursor(parse: Any) -> None:
    body = usage_body()
    body["next_page"] = "page_stale"  # ignored once has_more is false

    assert parse(body).next_cursor is None


@pytest.mark.parametrize("data", [None, {}, "buckets", 3])
@pytest.mark.parametrize("parse", [parse_usage_page, parse_cost_page])
def test_data_that_is_not_a_list_is_fatal(parse: Any, data: Any) -> None:
    with pytest.raises(FatalProviderError, match="`data` list"):
        parse({"data": data, "has_more": False})


def test_bucket_without_results_list_is_fatal() -> None:
    body = usage_body()
    body["data"][0]["results"] = None

    with pytest.raises(FatalProviderError, match="results"):
        parse_usage_page(body)


@pytest.mark.parametrize("value", ["12", "1e3", Decimal("1.5"), True, [1], {"n": 1}])
def test_non_integer_token_count_is_fatal(value: Any) -> None:
    row = example_usage_row()
    row["output_tokens"] = value

    with pytest.raises(FatalProviderError, match="output_tokens"):
        parse_usage_page(usage_body(row))


@pytest.mark.parametrize(
    ("where", "name"),
    [
        ("uncached_input_tokens", "uncached_input_tokens"),
        ("cache_creation.ephemeral_5m_input_tokens", "ephemeral_5m_input_tokens"),
        ("server_tool_use.web_search_requests", "web_search_requests"),
    ],
)
def test_negative_token_count_is_fatal(where: str, name: str) -> None:
    row = example_usage_row()
    target = row
    *parents, leaf = where.split(".")
    for parent in parents:
        target = target[parent]
    target[leaf] = -1

    with pytest.raises(FatalProviderError, match=name) as info:
        parse_usage_page(usage_body(row))
    assert "-1" in str(info.value)


@pytest.mark.parametrize("starting_at", ["yesterday", "08/01/2025", None, "2025-13-01T00:00:00Z"])
def test_bucket_start_that_is_not_rfc3339_is_fatal(starting_at: Any) -> None:
    with pytest.raises(FatalProviderError, match="RFC 3339"):
        parse_usage_page(usage_body(example_usage_row(), starting_at=starting_at))


def test_bucket_start_with_an_offset_is_read_as_a_utc_day() -> None:
    record = only_usage(usage_body(example_usage_row(), starting_at="2025-08-02T01:00:00+02:00"))

    assert record.day == date(2025, 8, 1)


def test_cache_creation_that_is_not_an_object_is_fatal() -> None:
    row = example_usage_row()
    row["cache_creation"] = 1500

    with pytest.raises(FatalProviderError, match="cache_creation"):
        parse_usage_page(usage_body(row))


# Regression: a bucket or row that is not an object used to raise AttributeError.
@pytest.mark.parametrize(
    "body",
    [
        {"data": ["not a bucket"], "has_more": False},
        {"data": [{"starting_at": "2025-08-01T00:00:00Z", "results": ["not a row"]}], "has_more": False},
    ],
    ids=["bucket", "row"],
)
def test_bucket_or_row_that_is_not_an_object_is_fatal(body: dict[str, Any]) -> None:
    with pytest.raises(FatalProviderError):
        parse_usage_page(body)


# --- Claude Code report (§4) -------------------------------------------------------------


def test_claude_code_example_parses_to_one_record_per_user_and_model() -> None:
    page = parse_claude_code_page(claude_code_body(load(CLAUDE_CODE_RECORD)), CC_DAY)

    assert page.next_cursor is None
    assert page.days == [
        DayRecords(
            CC_DAY,
            usage=[
                UsageRecord(
                    day=CC_DAY,
                    stream="claude_code",
                    model="claude-opus-4-8",
                    user_id="user@emaildomain.com",
                    input_tokens=45230,
                    output_tokens=12450,
                    cache_read_tokens=8790,
                    cache_write_other_tokens=2340,
                    estimated_cost_usd=Decimal("1.86"),
                )
            ],
        )
    ]


def test_claude_code_api_actor_becomes_an_api_key_user() -> None:
    record = load(CLAUDE_CODE_RECORD)
    record["actor"] = {"type": "api_actor", "api_key_name": "ci-bot"}

    usage = parse_claude_code_page(claude_code_body(record), CC_DAY).days[0].usage

    assert [u.user_id for u in usage] == ["api_key:ci-bot"]


def test_claude_code_estimated_cost_keeps_fractional_cents() -> None:
    record = load(CLAUDE_CODE_RECORD)
    record["model_breakdown"][0]["estimated_cost"]["amount"] = Decimal("186.255")

    usage = parse_claude_code_page(claude_code_body(record), CC_DAY).days[0].usage

    assert usage[0].estimated_cost_usd == Decimal("1.86255")


def test_claude_code_local_and_remote_rows_of_one_user_are_summed() -> None:
    local = load(CLAUDE_CODE_RECORD)
    remote = load(CLAUDE_CODE_RECORD)
    remote["is_remote"] = True
    remote["terminal_type"] = "web"

    usage = parse_claude_code_page(claude_code_body(local, remote), CC_DAY).days[0].usage

    assert len(usage) == 1
    assert usage[0].input_tokens == 2 * 45230
    assert usage[0].estimated_cost_usd == Decimal("3.72")


def test_claude_code_empty_day_gives_a_day_with_no_records() -> None:
    page = parse_claude_code_page(claude_code_body(), CC_DAY)

    assert page.days == [DayRecords(CC_DAY)]


def test_claude_code_pages_forward_with_next_page() -> None:
    page = parse_claude_code_page(claude_code_body(load(CLAUDE_CODE_RECORD), has_more=True), CC_DAY)

    assert page.next_cursor == "page_cc2"


def test_claude_code_has_more_without_next_page_is_fatal() -> None:
    body = claude_code_body(load(CLAUDE_CODE_RECORD))
    body["has_more"] = True

    with pytest.raises(FatalProviderError, match="next_page"):
        parse_claude_code_page(body, CC_DAY)


def test_claude_code_garbage_is_fatal() -> None:
    bad_count = load(CLAUDE_CODE_RECORD)
    bad_count["model_breakdown"][0]["tokens"]["input"] = -5
    bad_cost = load(CLAUDE_CODE_RECORD)
    bad_cost["model_breakdown"][0]["estimated_cost"]["amount"] = "lots"

    with pytest.raises(FatalProviderError, match="input"):
        parse_claude_code_page(claude_code_body(bad_count), CC_DAY)
    with pytest.raises(FatalProviderError, match="estimated_cost"):
        parse_claude_code_page(claude_code_body(bad_cost), CC_DAY)
    with pytest.raises(FatalProviderError, match="`data` list"):
        parse_claude_code_page({"data": {"records": []}}, CC_DAY)


# --- Directory lists (§5) and /me ---------------------------------------------------------

WORKSPACES_PAGE = """
{"data": [
  {"id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ", "type": "workspace", "name": "Production",
   "created_at": "2025-01-01T00:00:00Z", "archived_at": null, "display_color": "#6C5BB9", "tags": {},
   "data_residency": {"allowed_inference_geos": "unrestricted", "default_inference_geo": "global",
                      "workspace_geo": "us"},
   "compartment_id": null, "external_key_id": null},
  {"id": "wrkspc_02Old", "type": "workspace", "name": "Old experiments",
   "created_at": "2024-01-01T00:00:00Z", "archived_at": "2025-03-01T00:00:00Z"}
 ],
 "first_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ", "last_id": "wrkspc_02Old", "has_more": true}
"""

API_KEYS_PAGE = """
{"data": [
  {"id": "apikey_01Rj2N8SVvo6BePZj99NhmiT", "type": "api_key", "name": "backend", "status": "active",
   "created_at": "2025-01-02T00:00:00Z", "expires_at": null,
   "created_by": {"id": "user_01WCz1FkmYMm4gnmykNKUu3Q", "type": "user"},
   "partial_key_hint": "sk-ant-api03-R2D...igAA",
   "principal": {"id": "user_01WCz1FkmYMm4gnmykNKUu3Q", "type": "user"},
   "workspace_id": null}
 ],
 "first_id": "apikey_01Rj2N8SVvo6BePZj99NhmiT", "last_id": "apikey_01Rj2N8SVvo6BePZj99NhmiT",
 "has_more": false}
"""

USERS_PAGE = """
{"data": [
  {"id": "user_01WCz1FkmYMm4gnmykNKUu3Q", "type": "user", "email": "ada@example.com", "name": "Ada",
   "role": "admin", "added_at": "2025-01-01T00:00:00Z"},
  {"id": "user_02NoName", "type": "user", "email": "bob@example.com", "name": null,
   "role": "developer", "added_at": "2025-01-01T00:00:00Z"}
 ],
 "first_id": "user_01WCz1FkmYMm4gnmykNKUu3Q", "last_id": "user_02NoName", "has_more": false}
"""


def test_workspaces_page_maps_to_workspace_entries_and_cursor() -> None:
    page = parse_directory_page("workspaces", load(WORKSPACES_PAGE))

    assert page.directory == [
        DirectoryEntry("workspace", "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ", "Production", {"archived_at": ""}),
        DirectoryEntry(
            "workspace", "wrkspc_02Old", "Old experiments", {"archived_at": "2025-03-01T00:00:00Z"}
        ),
    ]
    assert page.next_cursor == "wrkspc_02Old"
    assert page.days == []


def test_api_keys_page_maps_to_api_key_entries() -> None:
    page = parse_directory_page("api_keys", load(API_KEYS_PAGE))

    assert page.directory == [
        DirectoryEntry(
            "api_key",
            "apikey_01Rj2N8SVvo6BePZj99NhmiT",
            "backend",
            {"workspace_id": "", "status": "active", "hint": "sk-ant-api03-R2D...igAA"},
        )
    ]
    assert page.next_cursor is None


def test_users_page_maps_to_user_entries_named_by_email_when_nameless() -> None:
    page = parse_directory_page("users", load(USERS_PAGE))

    assert page.directory == [
        DirectoryEntry(
            "user", "user_01WCz1FkmYMm4gnmykNKUu3Q", "Ada", {"email": "ada@example.com", "role": "admin"}
        ),
        DirectoryEntry(
            "user", "user_02NoName", "bob@example.com", {"email": "bob@example.com", "role": "developer"}
        ),
    ]
    assert page.next_cursor is None


def test_directory_has_more_without_last_id_is_fatal() -> None:
    body = load(WORKSPACES_PAGE)
    body["last_id"] = None

    with pytest.raises(FatalProviderError, match="last_id"):
        parse_directory_page("workspaces", body)


def test_directory_item_without_id_is_fatal() -> None:
    body = load(USERS_PAGE)
    body["data"][0]["id"] = None

    with pytest.raises(FatalProviderError, match="no id"):
        parse_directory_page("users", body)


def test_organization_me_example() -> None:
    assert parse_organization(load(ME_EXAMPLE)) == ProviderAccount(
        id="12345678-1234-5678-1234-567812345678", name="Organization Name"
    )


def test_organization_without_id_is_fatal() -> None:
    with pytest.raises(FatalProviderError, match="no id"):
        parse_organization({"type": "organization", "name": "x"})

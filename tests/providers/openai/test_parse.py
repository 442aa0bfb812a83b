"""The OpenAI parser on the spec's own examples, older response versions and bad input."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from aispend.model import UsageRecord
from aispend.providers.base import FatalProviderError
from aispend.providers.openai.connector import check_admin_key_format
from aispend.providers.openai.lineitems import parse_line_item
from aispend.providers.openai.parse import (
    GIB_HOURS_PER_BYTE_DAY,
    parse_cost_page,
    parse_directory_page,
    parse_usage_page,
)

SPEC = Path(__file__).parents[2] / "data" / "openai-openapi.yaml"
NOV_1 = date(2024, 11, 1)


@cache
def spec_example(path: str) -> dict[str, Any]:
    """The documented response example of ``GET path`` in the official OpenAPI file."""
    with SPEC.open() as handle:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        spec = yaml.load(handle, Loader=loader)  # noqa: S506 - SafeLoader or its C twin
    example = spec["paths"][path]["get"]["x-oaiMeta"]["examples"]["response"]
    return json.loads(example, parse_float=Decimal)  # type: ignore[no-any-return]


def test_the_spec_completions_example_becomes_one_record_with_every_token_field() -> None:
    page = parse_usage_page("completions", spec_example("/organization/usage/completions"))
    assert page.next_cursor == "page_AAAAAGdGxdEiJdKOAAAAAGcqsYA="
    ((day, record),) = [(d.day, r) for d in page.days for r in d.usage]
    assert day == NOV_1
    assert record == UsageRecord(
        day=NOV_1,
        stream="completions",
        input_tokens=500,
        cache_read_tokens=400,
        cache_write_other_tokens=100,
        output_tokens=500,
        requests=5,
        input_text_tokens=400,
        input_cached_text_tokens=300,
        input_audio_tokens=50,
        input_cached_audio_tokens=50,
        input_image_tokens=50,
        input_cached_image_tokens=50,
        output_text_tokens=400,
        output_audio_tokens=50,
        output_image_tokens=50,
    )


def test_the_spec_costs_example_becomes_a_reported_usd_line() -> None:
    page = parse_cost_page(spec_example("/organization/costs"))
    ((record,),) = [d.cost for d in page.days]
    assert (record.day, record.amount_usd, record.currency, record.method) == (
        NOV_1,
        Decimal("0.06"),
        "USD",
        "reported",
    )
    assert page.next_cursor is None


def _page(result: dict[str, Any]) -> dict[str, Any]:
    bucket = {"object": "bucket", "start_time": 1730419200, "end_time": 1730505600, "results": [result]}
    return {"object": "page", "data": [bucket], "has_more": False, "next_page": None}


def test_a_2025_completions_result_without_the_newer_fields_is_read() -> None:
    old = {
        "object": "organization.usage.completions.result",
        "input_tokens": 1000,
        "input_cached_tokens": 300,
        "output_tokens": 200,
        "input_audio_tokens": 100,
        "output_audio_tokens": 20,
        "num_model_requests": 3,
        "project_id": "proj_a",
        "model": "gpt-4o-2024-08-06",
        "batch": True,
    }
    (record,) = parse_usage_page("completions", _page(old)).days[0].usage
    assert (record.input_tokens, record.cache_read_tokens, record.cache_write_other_tokens) == (700, 300, 0)
    assert (record.input_text_tokens, record.output_text_tokens) == (600, 180)
    assert (record.batch, record.workspace_id, record.service_tier) == ("true", "proj_a", "")


@pytest.mark.parametrize(
    ("stream", "result", "unit", "quantity", "variant"),
    [
        (
            "images",
            {"images": 3, "size": "1024x1024", "source": "image.generation"},
            "images",
            3,
            "1024x1024 image.generation",
        ),
        ("audio_speeches", {"characters": 1200}, "characters", 1200, ""),
        ("audio_transcriptions", {"seconds": 61}, "seconds", 61, ""),
        ("vector_stores", {"usage_bytes": 2**30}, "gibibyte_hours", 24, ""),
        ("code_interpreter_sessions", {"num_sessions": 2}, "sessions", 2, ""),
        ("file_search_calls", {"num_requests": 9, "vector_store_id": "vs_1"}, "calls", 9, "vs_1"),
        (
            "web_search_calls",
            {"num_requests": 4, "num_model_requests": 2, "context_level": "high"},
            "calls",
            4,
            "high",
        ),
    ],
)
def test_non_token_usage_is_a_quantity_in_a_unit(
    stream: str, result: dict[str, Any], unit: str, quantity: int, variant: str
) -> None:
    (record,) = parse_usage_page(stream, _page({"object": "x", **result})).days[0].usage
    assert (record.stream, record.unit, record.quantity, record.variant) == (stream, unit, quantity, variant)
    assert GIB_HOURS_PER_BYTE_DAY * 2**30 == 24


@pytest.mark.parametrize(
    "bad",
    [
        {"input_tokens": "many", "output_tokens": 1, "num_model_requests": 1},
        {"input_tokens": -1, "output_tokens": 1, "num_model_requests": 1},
        {"input_tokens": 5, "input_cached_tokens": 9, "output_tokens": 1, "num_model_requests": 1},
        {"input_tokens": 5, "output_tokens": 1, "num_model_requests": 1, "batch": "yes"},
    ],
)
def test_garbage_in_a_result_is_refused_readably(bad: dict[str, Any]) -> None:
    with pytest.raises(FatalProviderError, match="OpenAI returned a response we cannot read"):
        parse_usage_page("completions", _page({"object": "x", **bad}))


def test_a_non_usd_cost_is_refused_and_a_non_number_amount_too() -> None:
    eur = {"object": "organization.costs.result", "amount": {"value": Decimal("1.5"), "currency": "eur"}}
    with pytest.raises(FatalProviderError, match="EUR"):
        parse_cost_page(_page(eur))
    nan = {"object": "organization.costs.result", "amount": {"value": "NaN", "currency": "usd"}}
    with pytest.raises(FatalProviderError, match="not a decimal number"):
        parse_cost_page(_page(nan))


@pytest.mark.parametrize(
    ("line_item", "model", "cost_type", "token_type", "tier"),
    [
        (
            "gpt-4o-mini-2024-07-18, batch cached input",
            "gpt-4o-mini-2024-07-18",
            "tokens",
            "cache_read",
            "batch",
        ),
        ("gpt-4o-2024-08-06, input", "gpt-4o-2024-08-06", "tokens", "input", ""),
        ("GPT-4.1, Output (priority)", "GPT-4.1", "tokens", "output", "priority"),
        ("gpt-5 flex output", "gpt-5", "tokens", "output", "flex"),
        ("gpt-realtime, audio output", "gpt-realtime", "tokens", "output_audio", ""),
        ("gpt-5.6-sol, cache write input", "gpt-5.6-sol", "tokens", "cache_write", ""),
        ("dall-e-3, images", "dall-e-3", "images", "", ""),
        ("input_tokens", "", "tokens", "input", ""),
        ("cached_input_tokens", "", "tokens", "cache_read", ""),
        ("web search tool calls, high context", "", "web_search", "", ""),
        ("vector store storage", "", "vector_store", "", ""),
        ("Fine-tuning training hours", "", "other", "", ""),
    ],
)
def test_line_items_give_model_kind_and_tier_where_they_name_them(
    line_item: str, model: str, cost_type: str, token_type: str, tier: str
) -> None:
    item = parse_line_item(line_item)
    assert (item.model, item.cost_type, item.token_type, item.service_tier) == (
        model,
        cost_type,
        token_type,
        tier,
    )
    assert item.parsed == (cost_type != "other")


def test_a_parsed_line_item_is_recorded_as_such_with_its_search_context() -> None:
    row = {
        "object": "organization.costs.result",
        "amount": {"value": Decimal("0.0275"), "currency": "usd"},
        "line_item": "web search tool calls, medium context",
        "project_id": "proj_a",
        "api_key_id": None,
        "quantity": 1,
        "quantity_unit": None,
    }
    (record,) = parse_cost_page(_page(row)).days[0].cost
    assert (record.method, record.cost_type, record.token_type, record.api_key_id) == (
        "parsed_line_item",
        "web_search",
        "medium",
        "",
    )


def test_api_keys_name_their_owner_and_list_pages_continue_from_the_last_id() -> None:
    body = {
        "object": "list",
        "data": [
            {
                "object": "organization.project.api_key",
                "id": "key_1",
                "name": "ci",
                "redacted_value": "sk-abc...def",
                "owner": {"type": "service_account", "service_account": {"id": "svc_1", "name": "bot"}},
            }
        ],
        "has_more": True,
    }
    page = parse_directory_page("api_keys", body, "proj_a")
    (entry,) = page.directory
    assert (entry.kind, entry.name, entry.attributes["owner_name"], entry.attributes["workspace_id"]) == (
        "api_key",
        "ci",
        "bot",
        "proj_a",
    )
    assert page.next_cursor == "key_1"


@pytest.mark.parametrize("key", ["sk-proj-1", "sk-1", "sk-svcacct-1", "sess-1"])
def test_only_admin_keys_pass_the_format_check(key: str) -> None:
    with pytest.raises(FatalProviderError, match="Admin key starts with sk-admin-"):
        check_admin_key_format(key)
    check_admin_key_format("sk-admin-abc")

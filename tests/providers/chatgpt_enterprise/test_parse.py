"""Codex Analytics pages in every shape we know of (reference openai.md §5.1: not officially
documented), one test per variant; unknown fields are logged once and kept out of the facts."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from aispend.providers.base import FatalProviderError
from aispend.providers.chatgpt_enterprise import parse
from aispend.providers.chatgpt_enterprise.parse import (
    next_page,
    parse_code_review_responses,
    parse_code_reviews,
    parse_model_usage,
    parse_usage,
)

DAY = date(2026, 3, 2)
UNIX = 1772409600  # 2026-03-02T00:00:00Z
CLIENT = {
    "client_id": "CODEX_CLI",
    "threads": 2,
    "turns": 9,
    "credits": Decimal("4.75"),
    "uncached_text_input_tokens": 1000,
    "cached_text_input_tokens": 5000,
    "text_output_tokens": 300,
    "text_total_tokens": 6300,
}


def page(*rows: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {"object": "page", "data": list(rows), "has_more": False, "next_page": None, **envelope}


def totals(credits: str, turns: int = 9, threads: int = 2) -> dict[str, Any]:
    return {"threads": threads, "turns": turns, "credits": Decimal(credits)}


@pytest.fixture(autouse=True)
def fresh_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "_logged", set())


def test_documented_shape() -> None:
    """user_id + email, totals, clients with text tokens, models with speed."""
    row = {
        "object": "codex.usage",
        "start_time": UNIX,
        "end_time": UNIX + 86400,
        "user_id": "user-1",
        "email": "Dev@ACME.example",
        "totals": totals("4.75"),
        "clients": [CLIENT],
        "models": [{"model": "gpt-5-codex", "credits": Decimal("4.75"), "speed": "standard"}],
        "code_attribution": {"lines_added": 10},
    }
    usage, threads = parse_usage(page(row), "codex_usage")
    assert (usage.day, usage.user_id, usage.product, usage.variant) == (
        DAY,
        "dev@acme.example",
        "codex",
        "CODEX_CLI",
    )
    assert (usage.credits, usage.requests) == (Decimal("4.75"), 9)
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (1000, 5000, 300)
    assert (usage.input_text_tokens, usage.input_cached_text_tokens, usage.output_text_tokens) == (
        1000,
        5000,
        300,
    )
    assert (usage.unit, threads.unit, threads.quantity, threads.credits) == (
        "",
        "threads",
        Decimal(2),
        Decimal(0),
    )
    [model] = parse_model_usage(page(row), "codex_model_usage")
    assert (model.model, model.service_tier, model.credits, model.user_id) == (
        "gpt-5-codex",
        "standard",
        Decimal("4.75"),
        "dev@acme.example",
    )


def test_actor_shape() -> None:
    """The person in an actor object; models without speed."""
    row = {
        "start_time": UNIX,
        "actor": {"type": "user", "user_id": "user-2", "email": "two@acme.example"},
        "totals": totals("1.5", turns=3, threads=1),
        "clients": [{**CLIENT, "credits": "1.5", "turns": 3, "threads": 1}],
        "models": [{"model": "gpt-5.1-codex-max", "credits": 1.5}],
    }
    [usage, _] = parse_usage(page(row), "codex_usage")
    assert (usage.user_id, usage.credits) == ("two@acme.example", Decimal("1.5"))
    assert parse_model_usage(page(row), "codex_model_usage")[0].service_tier == ""


def test_flat_shape_with_an_rfc3339_start_and_no_totals() -> None:
    row = {
        "start_time": "2026-03-02T00:00:00Z",
        "user_email": "flat@acme.example",
        "clients": [CLIENT],
        "models": [],
    }
    [usage, threads] = parse_usage(page(row), "codex_usage")
    assert (usage.day, usage.user_id, usage.credits, threads.quantity) == (
        DAY,
        "flat@acme.example",
        Decimal("4.75"),
        Decimal(2),
    )
    assert parse_model_usage(page(row), "codex_model_usage") == []


def test_totals_only_shape() -> None:
    """No client breakdown: the totals become one row with no client."""
    row = {"start_time": UNIX, "user_id": "user-3", "email": "t@acme.example", "totals": totals("12.25")}
    [usage, threads] = parse_usage(page(row), "codex_usage")
    assert (usage.variant, usage.credits, usage.requests, threads.quantity) == (
        "",
        Decimal("12.25"),
        9,
        Decimal(2),
    )


def test_numbers_as_strings_and_a_date_only_start() -> None:
    row = {
        "start_time": "2026-03-02",
        "user_id": "user-4",
        "email": "s@acme.example",
        "totals": {"threads": "2", "turns": "9", "credits": "4.75"},
        "clients": [{key: str(value) for key, value in CLIENT.items()}],
    }
    [usage, _] = parse_usage(page(row), "codex_usage")
    assert (usage.day, usage.credits, usage.input_tokens) == (DAY, Decimal("4.75"), 1000)


def test_credits_no_client_explains_become_a_row_without_a_client() -> None:
    row = {
        "start_time": UNIX,
        "email": "r@acme.example",
        "totals": totals("6.00", turns=9),
        "clients": [CLIENT],
    }
    records = parse_usage(page(row), "codex_usage")
    rest = [r for r in records if r.variant == "" and r.unit == ""]
    assert [(r.credits, r.requests) for r in rest] == [(Decimal("1.25"), 0)]
    assert sum(r.credits for r in records) == Decimal("6.00")


def test_a_row_with_no_email_keeps_the_provider_user_id() -> None:
    row = {"start_time": UNIX, "actor": {"type": "user", "user_id": "user-9"}, "totals": totals("1")}
    assert parse_usage(page(row), "codex_usage")[0].user_id == "user-9"


def test_pages_with_or_without_has_more() -> None:
    assert next_page({"data": [], "has_more": True, "next_page": "c2"}) == "c2"
    assert next_page({"data": [], "has_more": False, "next_page": "c2"}) is None
    assert next_page({"data": [], "next_page": "c3"}) == "c3"  # next_page alone
    assert next_page({"data": [], "next_page": None}) is None
    with pytest.raises(FatalProviderError, match="has_more is true"):
        next_page({"data": [], "has_more": True})


def test_code_reviews_and_responses_are_daily_counts() -> None:
    reviews = {
        "start_time": UNIX,
        "pull_request_reviews": 12,
        "comments": 5,
        "comment_details": {"p0": 1, "p1": 4, "p2": 0},
    }
    counts = {r.variant: r.quantity for r in parse_code_reviews(page(reviews), "codex_code_reviews")}
    assert counts == {"pull_request_reviews": 12, "comments": 5, "comments_p0": 1, "comments_p1": 4}
    responses = {
        "start_time": UNIX,
        "pull_request_reviews": 12,
        "comments": 5,
        "replies": 2,
        "reactions": 4,
        "reaction_details": {"upvotes": 3, "downvotes": 1, "other": 0},
        "comment_response_details": {"engaged": 4, "replied": 2},
    }
    records = parse_code_review_responses(page(responses), "codex_code_review_responses")
    assert {r.variant: r.quantity for r in records}["reactions_upvotes"] == 3
    assert {r.unit for r in records} == {"count"}
    assert {r.product for r in records} == {"codex"}


def test_unreadable_numbers_are_refused() -> None:
    for value in ("abc", -1, True):
        row = {"start_time": UNIX, "email": "x@y.z", "totals": {"credits": value}}
        with pytest.raises(FatalProviderError, match="cannot read"):
            parse_usage(page(row), "codex_usage")
    with pytest.raises(FatalProviderError, match="whole count"):
        parse_usage(page({"start_time": UNIX, "email": "x@y.z", "totals": {"turns": "1.5"}}), "codex_usage")
    with pytest.raises(FatalProviderError, match="start_time"):
        parse_usage(page({"start_time": "yesterday", "email": "x@y.z"}), "codex_usage")


def test_unknown_fields_are_logged_once_and_never_imported(caplog: pytest.LogCaptureFixture) -> None:
    row = {
        "start_time": UNIX,
        "email": "u@acme.example",
        "cohort": "beta",
        "clients": [{**CLIENT, "surface": "tty"}],
    }
    with caplog.at_level(logging.WARNING):
        first = parse_usage(page(row, request_id="r1"), "codex_usage")
        second = parse_usage(page(row, request_id="r2"), "codex_usage")
    assert first == second
    warnings = sorted(r.getMessage() for r in caplog.records)
    assert warnings == [
        "ChatGPT Enterprise: unknown field 'cohort' in a usage object is not imported",
        "ChatGPT Enterprise: unknown field 'request_id' in a page object is not imported",
        "ChatGPT Enterprise: unknown field 'surface' in a client object is not imported",
    ]

"""Exact-Decimal regression: sample buckets priced against figures worked by hand.

Every expected figure is written out from the providers' published list prices
(``/work/shared/reference``: Anthropic §7, OpenAI §6, Google Cloud §2 and the simulator SKUs)
as tokens x USD per million tokens, with the tier, region and context rules applied by hand.
Each bucket is one aggregated usage row, priced per token kind and per its own context tier.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aispend.model import UsageRecord
from aispend.pricing.listcost import CardTerms, price_usage

DAY = date(2026, 10, 1)
M = 1_000_000


def bucket(model: str, day: date = DAY, stream: str = "messages", **fields: object) -> UsageRecord:
    return UsageRecord(day=day, stream=stream, model=model, **fields)  # type: ignore[arg-type]


CASES: list[tuple[str, str, UsageRecord, str]] = [
    # --- Anthropic: input, 5m write (x1.25), 1h write (x2), read (x0.1), output, searches at $10/1k
    (
        "anthropic",
        "opus 4.6, every token kind and web search",
        bucket(
            "claude-opus-4-6",
            input_tokens=M,
            cache_write_5m_tokens=200_000,
            cache_write_1h_tokens=100_000,
            cache_read_tokens=2 * M,
            output_tokens=300_000,
            web_search_requests=12,
            service_tier="standard",
            inference_geo="global",
        ),
        # 5 + 0.2*6.25 + 0.1*10 + 2*0.5 + 0.3*25 + 12*0.01
        "15.87",
    ),
    (
        "anthropic",
        "opus 4.6 in the US (x1.1 on tokens)",
        bucket("claude-opus-4-6", input_tokens=M, output_tokens=100_000, inference_geo="us"),
        # 5*1.1 + 0.1*25*1.1
        "8.25",
    ),
    (
        "anthropic",
        "opus 4.6, batch in the US: the multipliers stack",
        bucket(
            "claude-opus-4-6-20260205",
            input_tokens=2 * M,
            cache_read_tokens=M,
            cache_write_1h_tokens=M,
            service_tier="batch",
            inference_geo="us",
        ),
        # (2*5 + 0.5 + 10) * 0.5 * 1.1
        "11.275",
    ),
    (
        "anthropic",
        "sonnet 4.5 long context: every kind at the 200k-1M tier",
        bucket(
            "claude-sonnet-4-5-20250929",
            input_tokens=M,
            output_tokens=100_000,
            cache_write_5m_tokens=100_000,
            cache_write_1h_tokens=100_000,
            cache_read_tokens=M,
            context_window="200k-1M",
        ),
        # 6 + 0.1*22.5 + 0.1*7.5 + 0.1*12 + 0.6
        "10.8",
    ),
    (
        "anthropic",
        "sonnet 4.5 short context",
        bucket("claude-sonnet-4-5-20250929", input_tokens=M, output_tokens=M, context_window="0-200k"),
        "18",
    ),
    (
        "anthropic",
        "haiku 4.5, dated id",
        bucket(
            "claude-haiku-4-5-20251001",
            input_tokens=3 * M,
            output_tokens=500_000,
            cache_read_tokens=10 * M,
            cache_write_5m_tokens=M,
        ),
        # 3*1 + 0.5*5 + 10*0.1 + 1.25
        "7.75",
    ),
    ("anthropic", "haiku 4.5 by its alias", bucket("claude-haiku-4-5", input_tokens=M), "1"),
    (
        "anthropic",
        "opus 4.1, batch",
        bucket("claude-opus-4-1-20250805", input_tokens=M, output_tokens=M, service_tier="batch"),
        # (15 + 75) / 2
        "45",
    ),
    (
        "anthropic",
        "haiku 3.5 (retired)",
        bucket("claude-3-5-haiku-20241022", input_tokens=M, output_tokens=M, cache_write_5m_tokens=M),
        # 0.8 + 4 + 1
        "5.8",
    ),
    (
        "anthropic",
        "opus 4.6 long context before the March 2026 change: 2x in, 1.5x out",
        bucket(
            "claude-opus-4-6",
            day=date(2026, 3, 12),
            input_tokens=M,
            output_tokens=100_000,
            context_window="200k-1M",
        ),
        # 10 + 0.1*37.5
        "13.75",
    ),
    (
        "anthropic",
        "opus 4.6 long context from the change: standard rates",
        bucket(
            "claude-opus-4-6",
            day=date(2026, 3, 13),
            input_tokens=M,
            output_tokens=100_000,
            context_window="200k-1M",
        ),
        # 5 + 0.1*25
        "7.5",
    ),
    (
        "anthropic",
        "fable 5",
        bucket("claude-fable-5", input_tokens=M, output_tokens=M, cache_write_1h_tokens=M),
        # 10 + 50 + 20
        "80",
    ),
    (
        "anthropic",
        "sonnet 5, priority tier counts at standard list (billed under the commitment)",
        bucket("claude-sonnet-5", input_tokens=M, output_tokens=M, service_tier="priority"),
        "12",
    ),
    # --- OpenAI: input, cached input, output; batch and flex half, priority double
    (
        "openai",
        "gpt-4o, dated id",
        bucket(
            "gpt-4o-2024-08-06", stream="completions", input_tokens=M, cache_read_tokens=M, output_tokens=M
        ),
        # 2.5 + 1.25 + 10
        "13.75",
    ),
    (
        "openai",
        "gpt-4o-mini on the Batch API",
        bucket(
            "gpt-4o-mini-2024-07-18",
            stream="completions",
            input_tokens=2 * M,
            output_tokens=M,
            batch="true",
            service_tier="default",
        ),
        # (2*0.15 + 0.6) / 2
        "0.45",
    ),
    (
        "openai",
        "gpt-4.1 with image input billed as text input",
        bucket(
            "gpt-4.1-2025-04-14",
            stream="completions",
            input_tokens=M,
            input_image_tokens=250_000,
            output_tokens=M,
        ),
        # 2 + 8
        "10",
    ),
    (
        "openai",
        "o3 before its 2025-06-10 price cut",
        bucket("o3-2025-04-16", day=date(2025, 6, 9), stream="completions", input_tokens=M, output_tokens=M),
        "50",
    ),
    (
        "openai",
        "o3 from its price cut",
        bucket("o3-2025-04-16", day=date(2025, 6, 10), stream="completions", input_tokens=M, output_tokens=M),
        "10",
    ),
    (
        "openai",
        "o4-mini, flex",
        bucket(
            "o4-mini-2025-04-16", stream="completions", input_tokens=M, output_tokens=M, service_tier="flex"
        ),
        # (1.1 + 4.4) / 2
        "2.75",
    ),
    (
        "openai",
        "gpt-5, priority",
        bucket(
            "gpt-5-2025-08-07", stream="completions", input_tokens=M, output_tokens=M, service_tier="priority"
        ),
        # published 2.5 in / 20 out
        "22.5",
    ),
    (
        "openai",
        "gpt-5-mini, cached input and a cache write at the input price",
        bucket(
            "gpt-5-mini-2025-08-07",
            stream="completions",
            cache_read_tokens=10 * M,
            cache_write_other_tokens=M,
        ),
        # 10*0.025 + 0.25
        "0.5",
    ),
    (
        "openai",
        "gpt-5.6-terra before its 2026-07-30 cut: input and a 1.25x cache write",
        bucket(
            "gpt-5.6-terra",
            day=date(2026, 7, 29),
            stream="completions",
            input_tokens=M,
            cache_write_other_tokens=M,
        ),
        # 2.5 + 3.125
        "5.625",
    ),
    (
        "openai",
        "gpt-5.6-terra from its cut",
        bucket(
            "gpt-5.6-terra",
            day=date(2026, 7, 30),
            stream="completions",
            input_tokens=M,
            cache_write_other_tokens=M,
        ),
        # 2.0 + 2.5
        "4.5",
    ),
    (
        "openai",
        "gpt-realtime: audio in and out, cached audio",
        bucket(
            "gpt-realtime-2025-08-28",
            stream="completions",
            input_tokens=M,
            input_audio_tokens=M,
            cache_read_tokens=M,
            input_cached_audio_tokens=M,
            output_tokens=M,
            output_audio_tokens=M,
        ),
        # 32 + 0.4 + 64
        "96.4",
    ),
    (
        "openai",
        "text-embedding-3-small",
        bucket("text-embedding-3-small", stream="embeddings", input_tokens=10 * M),
        "0.2",
    ),
    (
        "openai",
        "whisper-1 seconds at $0.36 an hour",
        bucket("whisper-1", stream="audio_transcriptions", unit="seconds", quantity=Decimal(600)),
        "0.06",
    ),
    (
        "openai",
        "tts-1 characters at $15 a million",
        bucket("tts-1", stream="audio_speeches", unit="characters", quantity=Decimal(M)),
        "15",
    ),
    # --- Google Gemini (Vertex AI and the Gemini API)
    (
        "gcp",
        "gemini 2.5 flash: text, audio input, cached, output",
        bucket(
            "gemini-2.5-flash",
            stream="billing_usage",
            input_tokens=2 * M,
            input_audio_tokens=M,
            cache_read_tokens=M,
            output_tokens=M,
            product="vertex_ai",
            service_tier="standard",
        ),
        # 0.30 + 1.00 + 0.03 + 2.50
        "3.83",
    ),
    (
        "gcp",
        "gemini 2.5 flash, priority at 1.8x",
        bucket("gemini-2.5-flash", stream="billing_usage", input_tokens=M, service_tier="priority"),
        "0.54",
    ),
    (
        "gcp",
        "gemini 2.5 pro, long context",
        bucket(
            "gemini-2.5-pro", stream="billing_usage", input_tokens=M, output_tokens=M, context_window="long"
        ),
        # 2.50 + 15
        "17.5",
    ),
    (
        "gcp",
        "gemini 2.5 pro, short context",
        bucket(
            "gemini-2.5-pro", stream="billing_usage", input_tokens=M, output_tokens=M, context_window="short"
        ),
        "11.25",
    ),
    (
        "gcp",
        "gemini 2.5 pro, batch",
        bucket(
            "gemini-2.5-pro", stream="billing_usage", input_tokens=M, output_tokens=M, service_tier="batch"
        ),
        # (1.25 + 10) / 2
        "5.625",
    ),
    (
        "gcp",
        "gemini 2.0 flash on the Gemini API",
        bucket(
            "gemini-2.0-flash", stream="billing_usage", input_tokens=M, output_tokens=M, product="gemini_api"
        ),
        "0.5",
    ),
    (
        "gcp",
        "gemini 3 flash (GA id, catalogued as preview)",
        bucket(
            "gemini-3-flash", stream="billing_usage", input_tokens=M, output_tokens=M, cache_read_tokens=M
        ),
        # 0.5 + 3 + 0.05
        "3.55",
    ),
    (
        "gcp",
        "gemini 3.1 flash lite",
        bucket("gemini-3.1-flash-lite", stream="billing_usage", input_tokens=M, output_tokens=M),
        "1.75",
    ),
    (
        "gcp",
        "grounding with Google Search, $35 per 1,000",
        bucket("", stream="billing_usage", unit="count", variant="grounding", quantity=Decimal(200)),
        "7",
    ),
]


@pytest.mark.parametrize(("provider", "what", "row", "expected"), CASES, ids=[case[1] for case in CASES])
def test_list_cost_of_a_bucket_equals_the_hand_computed_figure(
    provider: str, what: str, row: UsageRecord, expected: str
) -> None:
    priced = price_usage(provider, row.day, row)
    assert priced.unpriced == ()
    assert priced.list_usd == Decimal(expected), what


def test_the_samples_cover_fifteen_models_of_each_family() -> None:
    models = {case[2].model for case in CASES if case[2].model}
    assert len(models) >= 15
    assert {case[0] for case in CASES} == {"anthropic", "openai", "gcp"}


def test_an_unknown_model_is_unpriced_not_free() -> None:
    row = bucket("claude-nova-9", input_tokens=M, output_tokens=M, web_search_requests=3)
    priced = price_usage("anthropic", DAY, row)
    assert priced.unpriced == ("input", "output", "web_search")
    assert priced.list_usd == 0
    assert price_usage("anthropic", DAY, row, CardTerms(Decimal(20))).effective_usd is None


def test_a_kind_without_a_price_leaves_the_rest_priced() -> None:
    row = bucket(
        "text-embedding-3-small", stream="embeddings", input_tokens=M, output_tokens=5, output_audio_tokens=5
    )
    priced = price_usage("openai", DAY, row)
    assert (priced.unpriced, priced.list_usd) == (("output_audio",), Decimal("0.02"))


def test_a_card_discount_and_explicit_rates() -> None:
    row = bucket("claude-opus-4-6", input_tokens=M, output_tokens=M, inference_geo="us", service_tier="batch")
    # list: (5 + 25) * 0.5 * 1.1 = 16.5; 20% off = 13.2
    assert price_usage("anthropic", DAY, row, CardTerms(Decimal(20))).effective_usd == Decimal("13.2")
    # input at an explicit $4 (x0.55 = 2.2), output at list less 10% (13.75 * 0.9 = 12.375)
    terms = CardTerms(Decimal(10), {"input": Decimal(4)})
    assert price_usage("anthropic", DAY, row, terms).effective_usd == Decimal("14.575")

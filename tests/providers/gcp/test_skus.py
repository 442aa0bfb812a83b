"""The SKU parser over every SKU string in the reference (gcp.md §2) and variants of them."""

from __future__ import annotations

import pytest

from aispend.providers.gcp.skus import SKU_OVERRIDES, SkuParse, parse_sku

# (SKU id, description) -> (model, kind, tier); every SKU string the reference lists comes first.
REFERENCE = [
    ("", "Gemini 2.5 Flash GA Text Input - Predictions", "gemini-2.5-flash", "input", ""),
    ("", "Gemini 2.5 Flash GA Text Output - Predictions", "gemini-2.5-flash", "output", ""),
    ("", "Gemini 2.5 Flash GA Thinking Text Output - Predictions", "gemini-2.5-flash", "thinking_output", ""),
    ("", "Gemini 2.5 Flash GA Input Text Caching", "gemini-2.5-flash", "cached_input", ""),
    ("7EBE-3B46-F75C", "Gemini 3 Flash Text Input - Predictions", "gemini-3-flash", "input", ""),
    ("0127-F0B7-365E", "Gemini 3 Flash Text Output - Predictions", "gemini-3-flash", "output", ""),
    ("E5C2-A033-7712", "Gemini 3 Flash Text Input Caching", "gemini-3-flash", "cached_input", ""),
    ("148C-9912-0E1E", "Gemini 3 Flash Text Input Caching Storage", "gemini-3-flash", "cache_storage", ""),
    (
        "2AF0-41D8-C5F1",
        "Gemini 2.0 Flash Text Input (Long) - Predictions",
        "gemini-2.0-flash",
        "input",
        "long",
    ),
    ("A7E4-0EAD-1D2E", "Gemini 2.5 Pro Input Text Caching (Long)", "gemini-2.5-pro", "cached_input", "long"),
    ("", "LLM Grounding with Google Search tool - Predictions", "", "other", ""),
    ("", "Vertex AI: Provisioned Throughput 1 month", "", "other", ""),
    (
        "981A-C057-0BF9",
        "Generate content input token count gemini 2.5 flash short input text",
        "gemini-2.5-flash",
        "input",
        "short",
    ),
    (
        "911A-8880-A243",
        "Generate content output token count gemini 2.5 flash short input text",
        "gemini-2.5-flash",
        "output",
        "short",
    ),
    (
        "6EDB-2409-6348",
        "Generate content output token count gemini 2.5 flash short output text non-thinking",
        "gemini-2.5-flash",
        "output",
        "short",
    ),
    (
        "2D1C-F790-3C09",
        "Generate content input token count Gemini 2.5 Pro short input text",
        "gemini-2.5-pro",
        "input",
        "short",
    ),
    (
        "5CDC-4C82-2AEC",
        "Generate content cached input token count gemini 2.5 flash input short text",
        "gemini-2.5-flash",
        "cached_input",
        "short",
    ),
    (
        "96EA-8692-BEAE",
        "GenerateContent text input token count for Gemini 2.0 Flash",
        "gemini-2.0-flash",
        "input",
        "",
    ),
    (
        "07D6-73CA-C859",
        "Generate_content cached text input token count for gemini 3 flash",
        "gemini-3-flash",
        "cached_input",
        "",
    ),
    (
        "E211-E01C-0CB3",
        "EmbedContent input token count for gemini-embedding-001",
        "gemini-embedding-001",
        "input",
        "",
    ),
    ("", "Cached content storage token hours", "", "cache_storage", ""),
    ("", "Grounding with Google Search", "", "other", ""),
    (
        "",
        "Generate content output token count gemini 3.1 flash lite preview text",
        "gemini-3.1-flash-lite",
        "output",
        "",
    ),
]

VARIANTS = [
    # Long context in the Gemini API wording, and in both cases.
    (
        "",
        "Generate content input token count Gemini 2.5 Pro long input text",
        "gemini-2.5-pro",
        "input",
        "long",
    ),
    ("", "GEMINI 2.5 PRO TEXT INPUT (LONG) - PREDICTIONS", "gemini-2.5-pro", "input", "long"),
    # Extra spaces, dashes and underscores between the name's parts.
    ("", "Gemini  2.5   Flash  Text Input - Predictions", "gemini-2.5-flash", "input", ""),
    ("", "gemini-2.5-flash-lite output text", "gemini-2.5-flash-lite", "output", ""),
    ("", "gemini_2.0_flash_lite text input", "gemini-2.0-flash-lite", "input", ""),
    ("", "Gemini 2.5 Flash Lite GA Text Output - Predictions", "gemini-2.5-flash-lite", "output", ""),
    ("", "Gemini 1.5 Ultra Text Input - Predictions", "gemini-1.5-ultra", "input", ""),
    ("", "Gemini 3 Pro Text Output - Predictions", "gemini-3-pro", "output", ""),
    # Modality and mode variants.
    ("", "Gemini 2.5 Flash GA Image Input - Predictions", "gemini-2.5-flash", "input", ""),
    ("", "Gemini 2.5 Flash GA Audio Input Caching", "gemini-2.5-flash", "cached_input", ""),
    ("", "Gemini 2.5 Pro Text Output - Batch Predictions", "gemini-2.5-pro", "output", ""),
    (
        "",
        "Gemini 2.5 Flash Text Output (Thinking On) - Predictions",
        "gemini-2.5-flash",
        "thinking_output",
        "",
    ),
    # An input SKU of the thinking mode bills input.
    ("", "Gemini 2.5 Flash Text Input (Thinking On) - Predictions", "gemini-2.5-flash", "input", ""),
    ("", "Gemini 2.5 Pro Video Input Caching Storage (Long)", "gemini-2.5-pro", "cache_storage", "long"),
    (
        "",
        "Generate content output token count gemini 2.5 pro long output text thinking",
        "gemini-2.5-pro",
        "thinking_output",
        "long",
    ),
]


@pytest.mark.parametrize(("sku_id", "description", "model", "kind", "tier"), REFERENCE + VARIANTS)
def test_model_kind_and_tier(sku_id: str, description: str, model: str, kind: str, tier: str) -> None:
    parsed = parse_sku(sku_id, description)

    assert (parsed.model, parsed.kind, parsed.tier) == (model, kind, tier)
    assert parsed.parsed


def test_output_is_checked_before_input() -> None:
    # The real output SKU whose description ends in "input text".
    parsed = parse_sku(
        "911A-8880-A243", "Generate content output token count gemini 2.5 flash short input text"
    )

    assert parsed.kind == "output"
    assert parsed.modality == "text"


@pytest.mark.parametrize(
    ("description", "mode", "modality"),
    [
        ("Gemini 2.5 Pro Text Input - Batch Predictions", "batch", "text"),
        ("Gemini 2.5 Flash Global Priority Text Input - Predictions", "priority", "text"),
        ("Gemini 2.5 Flash Flex Text Output - Predictions", "flex", "text"),
        ("Gemini 2.5 Flash GA Image Input - Predictions", "standard", "image"),
        ("Gemini 2.5 Flash GA Audio Input - Predictions", "standard", "audio"),
        ("Gemini 2.5 Pro Video Input - Predictions", "standard", "video"),
        ("Gemini 3 Flash Text Input Caching Storage", "", "text"),
        ("LLM Grounding with Google Search tool - Predictions", "", ""),
    ],
)
def test_mode_and_modality(description: str, mode: str, modality: str) -> None:
    parsed = parse_sku("", description)

    assert (parsed.mode, parsed.modality) == (mode, modality)


@pytest.mark.parametrize(
    ("description", "detail"),
    [
        ("LLM Grounding with Google Search tool - Predictions", "grounding"),
        ("Grounding with Google Search", "grounding"),
        ("Vertex AI: Provisioned Throughput 1 month", "provisioned_throughput"),
    ],
)
def test_other_kinds_are_named(description: str, detail: str) -> None:
    parsed = parse_sku("", description)

    assert (parsed.kind, parsed.detail, parsed.parsed) == ("other", detail, True)


@pytest.mark.parametrize(
    "description",
    ["Imagen 4 Fast image generation", "Vertex AI Agent Engine vCPU hours", "", "Text input tokens"],
)
def test_what_the_rules_cannot_read_is_unparsed_not_dropped(description: str) -> None:
    parsed = parse_sku("0000-0000-0000", description)

    assert parsed.parsed is False
    assert parsed.model == ""


def test_the_override_table_wins_over_the_rules() -> None:
    # Without the override the rules find the kind but no model.
    assert (
        parse_sku("AAAA-BBBB-CCCC", "EmbedContent input token count for gemini-embedding-001").parsed is False
    )
    for sku_id, override in SKU_OVERRIDES.items():
        parsed = parse_sku(sku_id, "anything at all, even a renamed description")
        assert (parsed.model, parsed.kind, parsed.parsed) == (override.model, override.kind, True)


def test_thinking_is_a_token_kind_and_storage_is_not() -> None:
    assert SkuParse("m", "thinking_output").is_tokens
    assert not SkuParse("m", "cache_storage").is_tokens
    assert not SkuParse("", "other").is_tokens

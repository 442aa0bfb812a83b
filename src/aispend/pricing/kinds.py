"""What a usage fact bills: its kinds of usage, their quantities and the bucket's price shape.

A usage fact is one aggregated bucket (a day of one model in one tier, context window,
region...). It is priced kind by kind: uncached text input, each modality's input and
output, cached reads, 5-minute and 1-hour cache writes, web searches, and non-token
quantities (images of a size, characters, seconds, tool calls, storage) named per provider.
Modality splits are parts of the totals, so the text part is what the others leave.

Streams that describe usage another stream already counts (a breakdown or a second view)
are not priced; neither is ChatGPT Enterprise, whose credits have their own contract rate
(``aispend.credit_rates``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from aispend.model import OVERLAPPING_STREAMS

__all__ = ["UNPRICED_PROVIDERS", "UNPRICED_STREAMS", "Bucket", "bucket_of", "is_priced", "usage_kinds"]

UNPRICED_STREAMS: Final = OVERLAPPING_STREAMS | frozenset({"enterprise_summary"})
"""Usage streams that repeat usage another stream counts (``model.OVERLAPPING_STREAMS``: Claude
Code, Claude Enterprise's per-user breakdown...) and Claude Enterprise's seat gauges."""
UNPRICED_PROVIDERS: Final = frozenset({"chatgpt_enterprise"})
"""Providers whose usage is billed in seat-plan credits, priced by ``aispend.credit_rates``."""

# OpenAI's non-token usage streams -> the kind their quantity bills as
_OPENAI_QUANTITY_KINDS = {
    "audio_speeches": "characters",
    "audio_transcriptions": "seconds",
    "file_search_calls": "file_search",
    "code_interpreter_sessions": "code_interpreter",
    "vector_stores": "vector_store",
}


@dataclass(frozen=True, slots=True)
class Bucket:
    """The dimensions that decide a bucket's price."""

    model: str
    tier: str
    context: str
    geo: str
    product: str


def is_priced(provider: str, stream: str) -> bool:
    """Whether facts of ``stream`` get list and effective prices."""
    return provider not in UNPRICED_PROVIDERS and stream not in UNPRICED_STREAMS


def bucket_of(row: Any) -> Bucket:
    """The price shape of a usage fact (any object with the usage fact's attributes)."""
    # The Batch API is a dimension of its own at OpenAI; elsewhere it is a service tier.
    tier = "batch" if row.batch == "true" else row.service_tier
    return Bucket(row.model, tier, row.context_window, row.inference_geo, row.product)


def _quantity_kind(provider: str, row: Any) -> str:
    if provider == "openai":
        if row.stream == "images":
            # variant is "<size> <source>": images are priced by size.
            return f"images:{row.variant.split(' ')[0]}"
        if row.stream == "web_search_calls":
            return f"web_search:{row.variant}" if row.variant else "web_search"
        return _OPENAI_QUANTITY_KINDS.get(str(row.stream), str(row.unit))
    # Google Cloud keeps a non-token SKU's kind (grounding, cache storage...) as its variant.
    return str(row.variant or row.unit)


def usage_kinds(provider: str, row: Any) -> list[tuple[str, Decimal]]:
    """(kind, quantity) of every kind of usage the fact bills, zero quantities left out."""
    if row.unit:
        quantity = Decimal(row.quantity)
        return [(_quantity_kind(provider, row), quantity)] if quantity else []
    counts = (
        ("input", row.input_tokens - row.input_audio_tokens - row.input_image_tokens),
        ("input_audio", row.input_audio_tokens),
        ("input_image", row.input_image_tokens),
        (
            "cache_read",
            row.cache_read_tokens - row.input_cached_audio_tokens - row.input_cached_image_tokens,
        ),
        ("cache_read_audio", row.input_cached_audio_tokens),
        ("cache_read_image", row.input_cached_image_tokens),
        ("cache_write_5m", row.cache_write_5m_tokens),
        ("cache_write_1h", row.cache_write_1h_tokens),
        ("cache_write", row.cache_write_other_tokens),
        ("output", row.output_tokens - row.output_audio_tokens - row.output_image_tokens),
        ("output_audio", row.output_audio_tokens),
        ("output_image", row.output_image_tokens),
        ("web_search", row.web_search_requests),
    )
    return [(kind, Decimal(count)) for kind, count in counts if count]

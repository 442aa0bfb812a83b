"""Record shapes of the simulated organisation and the table of its ten usage endpoints.

A :class:`UsageRow` is one finest-grain group of one usage endpoint on one day: its group
keys (``dims``, in the endpoint's :attr:`Endpoint.dims` order) and its stored counts
(``counts``, in :attr:`Endpoint.counts` order). A :class:`CostComponent` is the priced part
of such a row for one line item. The report routes aggregate these, and the ground-truth
accessors sum them, so both sides read the very same tuples.

:data:`ENDPOINTS` is reference §2.2 written out as data: path, result ``object``, the
``group_by`` values (which are also the group-key fields every result carries), the array
filters and which values the enumerated ones accept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

__all__ = [
    "COMPLETION_COUNTS",
    "COMPLETION_KINDS",
    "ENDPOINTS",
    "CostComponent",
    "Dim",
    "Endpoint",
    "UsageRow",
]

Dim = str | bool | None  # a group-key value: ids and names, or completions' batch flag


class UsageRow(NamedTuple):
    """Counts of one finest-grain group of one usage endpoint on one day."""

    day: date
    dims: tuple[Dim, ...]
    counts: tuple[int, ...]


class CostComponent(NamedTuple):
    """Dollars of one line item for one (project, key, user, model) on one day.

    ``amount`` is already rounded (at most 10 decimal places); cost results and every
    ground-truth total are plain sums of these. ``model`` is the model whose usage was
    priced, ``""`` for tool, session and storage costs that belong to no model — even when
    the served line item (``"input_tokens"`` and friends) does not name the model.
    """

    day: date
    project_id: str
    api_key_id: str | None
    user_id: str | None
    model: str
    line_item: str
    quantity: Decimal
    quantity_unit: str | None
    amount: Decimal


# Stored completion counts: every split the 2026 spec reports, from which the totals derive.
COMPLETION_COUNTS = (
    "input_text_tokens",
    "input_audio_tokens",
    "input_image_tokens",
    "input_cached_text_tokens",
    "input_cached_audio_tokens",
    "input_cached_image_tokens",
    "input_cache_write_tokens",
    "output_text_tokens",
    "output_audio_tokens",
    "output_image_tokens",
    "num_model_requests",
)
# Stored completion count -> the token kind it bills as (ModelPrice.per_kind); every modality's
# cached tokens bill as "cached input".
COMPLETION_KINDS = {
    "input_text_tokens": "input",
    "input_audio_tokens": "audio input",
    "input_image_tokens": "image input",
    "input_cached_text_tokens": "cached input",
    "input_cached_audio_tokens": "cached input",
    "input_cached_image_tokens": "cached input",
    "input_cache_write_tokens": "cache write input",
    "output_text_tokens": "output",
    "output_audio_tokens": "audio output",
    "output_image_tokens": "image output",
}
_WHO = ("project_id", "user_id", "api_key_id")
_WHO_FILTERS = {"project_ids": "project_id", "user_ids": "user_id", "api_key_ids": "api_key_id"}


@dataclass(frozen=True)
class Endpoint:
    """One ``/v1/organization/usage/{name}`` endpoint (reference §2.2)."""

    name: str
    result_object: str
    dims: tuple[str, ...]
    counts: tuple[str, ...]
    filters: dict[str, str]  # array query parameter -> group key it filters on
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)  # enumerated filter values
    gauge: bool = False  # a level (bytes stored), not a flow: sub-day buckets repeat it

    def render(self, counts: tuple[int, ...] | list[int]) -> dict[str, int]:
        """The metric fields of one result, in the order the spec's examples print them."""
        named = dict(zip(self.counts, counts, strict=True))
        if self.name != "completions":
            return named
        cached = (
            named["input_cached_text_tokens"]
            + named["input_cached_audio_tokens"]
            + named["input_cached_image_tokens"]
        )
        uncached = named["input_text_tokens"] + named["input_audio_tokens"] + named["input_image_tokens"]
        write = named["input_cache_write_tokens"]
        return {
            "input_tokens": cached + write + uncached,
            "input_cached_tokens": cached,
            "input_cache_write_tokens": write,
            "input_uncached_tokens": uncached,
            "output_tokens": (
                named["output_text_tokens"] + named["output_audio_tokens"] + named["output_image_tokens"]
            ),
            "input_text_tokens": named["input_text_tokens"],
            "output_text_tokens": named["output_text_tokens"],
            "input_cached_text_tokens": named["input_cached_text_tokens"],
            "input_audio_tokens": named["input_audio_tokens"],
            "input_cached_audio_tokens": named["input_cached_audio_tokens"],
            "output_audio_tokens": named["output_audio_tokens"],
            "input_image_tokens": named["input_image_tokens"],
            "input_cached_image_tokens": named["input_cached_image_tokens"],
            "output_image_tokens": named["output_image_tokens"],
            "num_model_requests": named["num_model_requests"],
        }


_ALL: tuple[Endpoint, ...] = (
    Endpoint(
        "completions",
        "organization.usage.completions.result",
        (*_WHO, "model", "batch", "service_tier"),
        COMPLETION_COUNTS,
        {**_WHO_FILTERS, "models": "model"},
    ),
    Endpoint(
        "embeddings",
        "organization.usage.embeddings.result",
        (*_WHO, "model"),
        ("input_tokens", "num_model_requests"),
        {**_WHO_FILTERS, "models": "model"},
    ),
    Endpoint(
        "moderations",
        "organization.usage.moderations.result",
        (*_WHO, "model"),
        ("input_tokens", "num_model_requests"),
        {**_WHO_FILTERS, "models": "model"},
    ),
    Endpoint(
        "images",
        "organization.usage.images.result",
        (*_WHO, "model", "size", "source"),
        ("images", "num_model_requests"),
        {**_WHO_FILTERS, "models": "model", "sizes": "size", "sources": "source"},
        {
            "sizes": ("256x256", "512x512", "1024x1024", "1792x1792", "1024x1792"),
            "sources": ("image.generation", "image.edit", "image.variation"),
        },
    ),
    Endpoint(
        "audio_speeches",
        "organization.usage.audio_speeches.result",
        (*_WHO, "model"),
        ("characters", "num_model_requests"),
        {**_WHO_FILTERS, "models": "model"},
    ),
    Endpoint(
        "audio_transcriptions",
        "organization.usage.audio_transcriptions.result",
        (*_WHO, "model"),
        ("seconds", "num_model_requests"),
        {**_WHO_FILTERS, "models": "model"},
    ),
    Endpoint(
        "vector_stores",
        "organization.usage.vector_stores.result",
        ("project_id",),
        ("usage_bytes",),
        {"project_ids": "project_id"},
        gauge=True,
    ),
    Endpoint(
        "code_interpreter_sessions",
        "organization.usage.code_interpreter_sessions.result",
        ("project_id",),
        ("num_sessions",),
        {"project_ids": "project_id"},
    ),
    Endpoint(
        "file_search_calls",
        "organization.usage.file_searches.result",
        (*_WHO, "vector_store_id"),
        ("num_requests",),
        {**_WHO_FILTERS, "vector_store_ids": "vector_store_id"},
    ),
    Endpoint(
        "web_search_calls",
        "organization.usage.web_searches.result",
        (*_WHO, "model", "context_level"),
        ("num_model_requests", "num_requests"),
        {**_WHO_FILTERS, "models": "model", "context_levels": "context_level"},
        {"context_levels": ("low", "medium", "high")},
    ),
)
ENDPOINTS: dict[str, Endpoint] = {e.name: e for e in _ALL}

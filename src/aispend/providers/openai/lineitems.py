"""Reading the model and token kind out of an OpenAI costs ``line_item``.

OpenAI does not publish its line-item strings: the spec's only example is
``"input_tokens"`` and its descriptions say no more than "line item". What is accepted
here, all case-insensitive:

- ``"{model}, {kind}"`` and ``"{model} {kind}"``, where kind is ``input``, ``cached input``,
  ``cache write input``, ``output``, ``audio input``/``output``, ``image input``/``output``,
  ``images``, ``characters`` or ``seconds``, optionally with a service tier as a leading word
  (``batch input``) or in parentheses (``input (batch)``);
- the spec's own style without a model: ``input_tokens``, ``output_tokens``,
  ``input_cached_tokens``, ``input_cache_write_tokens``...;
- tool and storage items without a model: web search, file search, code interpreter,
  vector store storage.

Anything else is kept as reported with its text, never guessed at: its cost is spread
over the project's usage as a whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aispend.model import NONE

__all__ = ["LineItem", "parse_line_item"]

TIERS = ("batch", "flex", "priority", "scale")

# kind phrase -> (cost_type, token_type)
KINDS: dict[str, tuple[str, str]] = {
    "input": ("tokens", "input"),
    "uncached input": ("tokens", "input"),
    "text input": ("tokens", "input"),
    "cached input": ("tokens", "cache_read"),
    "cache read": ("tokens", "cache_read"),
    "cache write input": ("tokens", "cache_write"),
    "cache write": ("tokens", "cache_write"),
    "cached write input": ("tokens", "cache_write"),
    "output": ("tokens", "output"),
    "text output": ("tokens", "output"),
    "audio input": ("tokens", "input_audio"),
    "audio output": ("tokens", "output_audio"),
    "image input": ("tokens", "input_image"),
    "image output": ("tokens", "output_image"),
    "images": ("images", NONE),
    "characters": ("audio_speech", NONE),
    "seconds": ("audio_transcription", NONE),
}
# The spec's example style: a usage field name, no model.
FIELD_KINDS: dict[str, tuple[str, str]] = {
    "input_tokens": ("tokens", "input"),
    "input_uncached_tokens": ("tokens", "input"),
    "input_text_tokens": ("tokens", "input"),
    "input_cached_tokens": ("tokens", "cache_read"),
    "cached_input_tokens": ("tokens", "cache_read"),
    "input_cache_write_tokens": ("tokens", "cache_write"),
    "output_tokens": ("tokens", "output"),
    "output_text_tokens": ("tokens", "output"),
    "input_audio_tokens": ("tokens", "input_audio"),
    "output_audio_tokens": ("tokens", "output_audio"),
    "input_image_tokens": ("tokens", "input_image"),
    "output_image_tokens": ("tokens", "output_image"),
}
TOOLS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^web search"), "web_search"),
    (re.compile(r"^file search"), "file_search"),
    (re.compile(r"^code interpreter"), "code_interpreter"),
    (re.compile(r"^vector stores? storage"), "vector_store"),
)
_CONTEXT = re.compile(r",\s*(?P<level>low|medium|high) context$")
_TIER_SUFFIX = re.compile(r"\s*\((?P<tier>" + "|".join(TIERS) + r")\)$")
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._:/-]*$")


@dataclass(frozen=True, slots=True)
class LineItem:
    model: str
    cost_type: str
    token_type: str
    service_tier: str
    variant: str
    parsed: bool
    """True when a model or token kind was read out of the text (method ``parsed_line_item``)."""


def _unparsed() -> LineItem:
    return LineItem(NONE, "other", NONE, NONE, NONE, parsed=False)


def _kind(phrase: str) -> tuple[str, tuple[str, str]] | None:
    """(tier, (cost_type, token_type)) of a kind phrase such as ``batch cached input``."""
    tier = NONE
    suffix = _TIER_SUFFIX.search(phrase)
    if suffix:
        tier, phrase = suffix.group("tier"), phrase[: suffix.start()]
    words = phrase.split(" ", 1)
    if len(words) == 2 and words[0] in TIERS and not tier:
        tier, phrase = words[0], words[1]
    found = KINDS.get(phrase.strip())
    return None if found is None else (tier, found)


def parse_line_item(line_item: str) -> LineItem:
    text = " ".join(line_item.lower().split())
    if not text:
        return _unparsed()
    if text in FIELD_KINDS:
        cost_type, token_type = FIELD_KINDS[text]
        return LineItem(NONE, cost_type, token_type, NONE, NONE, parsed=True)
    for pattern, cost_type in TOOLS:
        if pattern.search(text):
            context = _CONTEXT.search(text)
            variant = context.group("level") if context else NONE
            return LineItem(NONE, cost_type, NONE, NONE, variant, parsed=True)
    model, separator, phrase = line_item.strip().rpartition(",")
    if not separator:
        # "{model} {kind}": try each split point from the right, the model is a single word.
        for position in range(len(text) - 1, 0, -1):
            if text[position] == " " and _kind(text[position + 1 :]) and _MODEL_ID.match(text[:position]):
                model, phrase = text[:position], text[position + 1 :]
                break
        else:
            return _unparsed()
    found = _kind(" ".join(phrase.lower().split()))
    model = model.strip()
    if found is None or not model:
        return _unparsed()
    tier, (cost_type, token_type) = found
    return LineItem(model, cost_type, token_type, tier, NONE, parsed=True)

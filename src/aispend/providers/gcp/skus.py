"""Reading a Google Cloud SKU: model, token kind, context tier, mode and modality.

The billing export names what was used only in ``sku.description``, in two unrelated
grammars (``/work/shared/reference/gcp.md`` §2):

- Vertex AI: ``Gemini 2.5 Flash GA Thinking Text Output - Predictions``,
  ``Gemini 2.0 Flash Text Input (Long) - Predictions``, ``... - Batch Predictions``;
- Gemini API: ``Generate content output token count gemini 2.5 flash short input text``
  (sic: an *output* SKU that ends in "input text"), ``GenerateContent text input token count
  for Gemini 2.0 Flash``, ``Cached content storage token hours``.

The rules are the reference's, in its order, with two deliberate refinements (each noted
where it is applied). ``sku.id`` is the stable key: :data:`SKU_OVERRIDES` maps ids whose
descriptions the rules cannot read to their model and kind, and wins over the rules.
A SKU nothing can read is *unparsed*: it is kept (model ``""``, its description shown) and
reported, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Final, Literal

__all__ = ["SKU_OVERRIDES", "Kind", "SkuOverride", "SkuParse", "parse_sku"]

Kind = Literal["input", "output", "cached_input", "cache_storage", "thinking_output", "other"]


@dataclass(frozen=True, slots=True)
class SkuParse:
    """What a SKU bills. Empty strings mean "not said"; ``parsed`` is False when nothing was read.

    ``detail`` names an ``other`` kind the rules recognise (``grounding``,
    ``provisioned_throughput``); ``tier`` is the context tier (``short``/``long``); ``mode``
    is ``standard``, ``batch``, ``priority`` or ``flex`` for token SKUs.
    """

    model: str
    kind: Kind
    tier: str = ""
    mode: str = ""
    modality: str = ""
    detail: str = ""
    parsed: bool = True

    @property
    def is_tokens(self) -> bool:
        return self.kind in ("input", "output", "cached_input", "thinking_output")


@dataclass(frozen=True, slots=True)
class SkuOverride:
    model: str
    kind: Kind


SKU_OVERRIDES: Final[dict[str, SkuOverride]] = {
    # "EmbedContent input token count for gemini-embedding-001": the model name has no
    # version number after "gemini", which the model rule needs.
    "E211-E01C-0CB3": SkuOverride("gemini-embedding-001", "input"),
}
"""SKU id -> model and kind, for descriptions the rules cannot read (reviewed data: add an
entry with the SKU's description in a comment)."""

_STORAGE = re.compile(r"cach\w*\b.*\bstorage|storage token hours")
_CACHED = re.compile(r"cached|caching")
# "non-thinking" output SKUs bill plain output: a bare search for "thinking" would misread them.
_THINKING = re.compile(r"(?<!non-)(?<!non )\bthinking\b")
_OUTPUT = re.compile(r"\boutput\b")
_INPUT = re.compile(r"\binput\b")
# The reference writes the separator class as `[ -_]`, which in a regex is the range from
# space to underscore; it means a space, dash or underscore.
_MODEL = re.compile(r"gemini[ _-]?(\d+(?:\.\d+)?)[ _-]*(pro|flash(?:[ _-]lite)?|ultra|nano)?")
_LONG = re.compile(r"\blong\b")
_SHORT = re.compile(r"\bshort\b")
_MODES = ("batch", "priority", "flex")
_MODALITIES = ("image", "audio", "video", "text")
_DETAILS = (("grounding", "grounding"), ("provisioned throughput", "provisioned_throughput"))


def _kind(text: str) -> Kind:
    if _STORAGE.search(text):
        return "cache_storage"
    if _CACHED.search(text):
        return "cached_input"
    # The reference checks "thinking" before "output" and "output" before "input" (one real
    # output SKU ends in "input text"). We test "thinking" only on SKUs that bill output or
    # neither direction: an input SKU of a "(Thinking On)" mode bills input, not thinking.
    # The two readings agree on every SKU string the reference lists.
    if _OUTPUT.search(text):
        return "thinking_output" if _THINKING.search(text) else "output"
    if _INPUT.search(text):
        return "input"
    if _THINKING.search(text):
        return "thinking_output"
    return "other"


def _model(text: str) -> str:
    match = _MODEL.search(text)
    if match is None:
        return ""
    version, family = match.group(1), match.group(2)
    name = f"gemini-{version}"
    if family:
        name += "-" + re.sub(r"[ _-]", "-", family)
    return name


def _first(text: str, words: tuple[str, ...]) -> str:
    return next((word for word in words if re.search(rf"\b{word}\b", text)), "")


def parse_sku(sku_id: str, description: str) -> SkuParse:
    """Read one SKU. Never raises: what cannot be read comes back with ``parsed=False``."""
    text = " ".join(description.lower().split())
    kind = _kind(text)
    model = _model(text)
    detail = next((name for phrase, name in _DETAILS if phrase in text), "")
    tier = "long" if _LONG.search(text) else "short" if _SHORT.search(text) else ""
    result = SkuParse(
        model=model,
        kind=kind,
        tier=tier,
        mode=(_first(text, _MODES) or "standard") if kind not in ("other", "cache_storage") else "",
        modality=_first(text, _MODALITIES),
        detail=detail if kind == "other" else "",
    )
    override = SKU_OVERRIDES.get(sku_id)
    if override is not None:
        result = replace(result, model=override.model, kind=override.kind)
        if result.mode == "" and result.is_tokens:
            result = replace(result, mode="standard")
    # Cache storage is billed per cache, not per model: a model-less one is still understood.
    understood = bool(result.model) or bool(result.detail) or result.kind == "cache_storage"
    return result if understood else replace(result, parsed=False)

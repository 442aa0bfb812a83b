"""List prices of the simulated OpenAI models and tools, as reviewed data.

Token prices are USD per million tokens from reference §6 (genai-prices and LiteLLM agree
on them); each model has one or more :class:`ModelPrice` rows dated by the first day they
apply, so a price change lands on the right day (o3's June 2025 cut is the one example).
Service tiers stack one multiplier on top: Batch and Flex bill half, Priority double —
the rule of thumb §6 reads off the data, used here for every model so the arithmetic stays
checkable.

Prices marked *plausible* are not in §6 and were not checked against any source here:
they are OpenAI's published figures as remembered, kept so the simulated bill has
realistic proportions, and are never compared with anything outside the simulator.

Nothing here rounds; :mod:`.simcosts` multiplies and rounds once per cost component.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

__all__ = [
    "LIST_PRICES",
    "REASONING",
    "TIERS",
    "UNIT_PRICES",
    "ModelPrice",
    "price_per_mtok",
    "price_per_unit",
]

# service tier -> multiplier on the list price; "batch" stands for batch=true usage
TIERS: dict[str, Decimal] = {
    "default": Decimal(1),
    "batch": Decimal("0.5"),
    "flex": Decimal("0.5"),
    "priority": Decimal(2),
}


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens of one model from ``since`` on; None: the model has no such tokens.

    Every model here caches all modalities at its one ``cached_input`` price, which is what
    lets a single "cached input" line item carry them. Cache writes bill at the input price:
    reference §6 lists a separate write price only for the gpt-5.6 family, not simulated.
    """

    model: str
    since: date
    input: Decimal
    cached_input: Decimal | None = None
    output: Decimal | None = None
    audio_input: Decimal | None = None
    audio_output: Decimal | None = None
    image_input: Decimal | None = None
    image_output: Decimal | None = None

    def per_kind(self, kind: str) -> Decimal | None:
        """The base price of one token kind (before the tier multiplier).

        The kinds are the line items' (see :mod:`.simcosts`); cached audio and image tokens
        bill as ``cached input``.
        """
        return {
            "input": self.input,
            "cached input": self.cached_input,
            "cache write input": self.input if self.cached_input is not None else None,
            "output": self.output,
            "audio input": self.audio_input,
            "audio output": self.audio_output,
            "image input": self.image_input,
            "image output": self.image_output,
        }[kind]


def _text(model: str, since: date, inp: str, cached: str, out: str) -> ModelPrice:
    """A text model with vision: image input tokens bill as text input tokens."""
    return ModelPrice(model, since, Decimal(inp), Decimal(cached), Decimal(out), image_input=Decimal(inp))


_FOREVER = date.min
_PRICES: tuple[ModelPrice, ...] = (
    _text("gpt-4o-2024-08-06", _FOREVER, "2.50", "1.25", "10"),
    _text("gpt-4o-mini-2024-07-18", _FOREVER, "0.15", "0.075", "0.60"),
    _text("gpt-4.1-2025-04-14", _FOREVER, "2.00", "0.50", "8"),
    _text("gpt-4.1-mini-2025-04-14", _FOREVER, "0.40", "0.10", "1.60"),
    # o3's launch price, cut by 80% on 2025-06-10 (as announced publicly; not in §6).
    _text("o3-2025-04-16", _FOREVER, "10.00", "2.50", "40"),
    _text("o3-2025-04-16", date(2025, 6, 10), "2.00", "0.50", "8"),
    _text("o4-mini-2025-04-16", _FOREVER, "1.10", "0.275", "4.40"),
    _text("gpt-5-2025-08-07", _FOREVER, "1.25", "0.125", "10"),
    _text("gpt-5-mini-2025-08-07", _FOREVER, "0.25", "0.025", "2"),
    ModelPrice("text-embedding-3-small", _FOREVER, Decimal("0.02")),
    ModelPrice("text-embedding-3-large", _FOREVER, Decimal("0.13")),
    # plausible: speech-to-speech model, cached audio at the cached text price
    ModelPrice(
        "gpt-realtime-2025-08-28",
        _FOREVER,
        Decimal(4),
        Decimal("0.40"),
        Decimal(16),
        audio_input=Decimal(32),
        audio_output=Decimal(64),
    ),
    # plausible: image generation billed by tokens when called from the Responses API
    ModelPrice(
        "gpt-image-1",
        _FOREVER,
        Decimal(5),
        Decimal("1.25"),
        image_input=Decimal(10),
        image_output=Decimal(40),
    ),
)
LIST_PRICES: dict[str, tuple[ModelPrice, ...]] = {}
for _price in _PRICES:
    LIST_PRICES[_price.model] = (*LIST_PRICES.get(_price.model, ()), _price)

# Model-name prefixes of the reasoning models, whose web searches bill at the flat tool price.
REASONING = ("o3", "o4", "gpt-5")
# (item, variant) -> USD per unit, all plausible (see the module docstring)
UNIT_PRICES: dict[tuple[str, str], Decimal] = {
    ("dall-e-3", "1024x1024"): Decimal("0.04"),  # per image, standard quality
    ("dall-e-3", "1024x1792"): Decimal("0.08"),
    ("dall-e-2", "1024x1024"): Decimal("0.02"),
    ("dall-e-2", "512x512"): Decimal("0.018"),
    ("dall-e-2", "256x256"): Decimal("0.016"),
    ("tts-1", "character"): Decimal("0.000015"),  # $15 per million characters
    ("whisper-1", "second"): Decimal("0.0001"),  # $0.006 per minute
    # Search-preview pricing of the gpt-4o / gpt-4.1 families, by search context size ...
    ("web search", "low"): Decimal("0.025"),
    ("web search", "medium"): Decimal("0.0275"),
    ("web search", "high"): Decimal("0.03"),
    # ... and the flat tool-call price of the reasoning models.
    ("web search", "tool"): Decimal("0.01"),
    ("file search", "call"): Decimal("0.0025"),
    ("code interpreter", "session"): Decimal("0.03"),
    ("vector store", "gibibyte_day"): Decimal("0.10"),
}


@functools.cache
def price_per_mtok(model: str, kind: str, tier: str, day: date) -> Decimal:
    """USD per million tokens of ``kind`` for ``model`` in service ``tier`` on ``day``.

    ``tier`` is ``default``, ``batch``, ``flex`` or ``priority``. Raises ``KeyError`` for an
    unknown model, kind or tier and ``ValueError`` when the model has no such tokens.
    """
    rows = LIST_PRICES[model]
    # Every model's first row starts at date.min, so some row always applies.
    base = rows[bisect.bisect_right([p.since for p in rows], day) - 1].per_kind(kind)
    if base is None:
        raise ValueError(f"{model} has no {kind!r} tokens")
    return base * TIERS[tier]


def price_per_unit(item: str, variant: str) -> Decimal:
    """USD per image, character, second, call, session or GiB-day of a non-token item."""
    return UNIT_PRICES[(item, variant)]

"""Pricing one day of simulated usage into cost components, and the line-item names.

Every cost is a finest-grain usage row times a list price of :mod:`.simprices`, computed
exactly in ``Decimal`` and rounded once, half-even, to 10 decimal places: that rounded
:class:`~.simrows.CostComponent` is both what the costs route sums and what the ground
truth sums, so they agree to the last digit. Components keep the user and model of the
usage they price; the route drops them, as the real costs endpoint has neither.

Line items — an inference: the real strings are not public (reference §3 shows only
``"input_tokens"``), so the simulator uses this format, which the connector parses:

* tokens: ``"{model}, {tier}{kind}"`` with kind one of ``input``, ``cached input``,
  ``cache write input``, ``output``, ``audio input``, ``audio output``, ``image input``,
  ``image output`` and tier empty, ``batch ``, ``flex `` or ``priority ``
  (``"gpt-4o-mini-2024-07-18, batch cached input"``); embeddings ``"{model}, input"``;
* ``"{model}, images"``, ``"{model}, characters"`` (speech), ``"{model}, seconds"``
  (transcription);
* ``"web search tool calls, {low|medium|high} context"`` (gpt-4o and gpt-4.1 families,
  priced by search context size) and ``"web search tool calls"`` (reasoning models, flat);
* ``"file search tool calls"``, ``"code interpreter sessions"``, ``"vector store storage"``
  (the last two have no API key and no user).

Moderations are free and bill nothing. On some days (about one in twelve, chosen from the
seed and the date) one project's completions ``input``, ``cached input`` and ``output``
lines of every model and tier are billed instead as the model-less ``"input_tokens"``,
``"cached_input_tokens"`` and ``"output_tokens"`` of the spec's example, so a connector
must spread them across models itself.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from aispend.providers.openai.simprices import REASONING, price_per_mtok, price_per_unit
from aispend.providers.openai.simrows import COMPLETION_KINDS, ENDPOINTS, CostComponent, UsageRow

__all__ = ["AMOUNT_QUANTUM", "MODEL_LESS", "line_item", "no_model_project", "price_day"]

AMOUNT_QUANTUM = Decimal("1e-10")
GIB = 1 << 30
# token kind -> the model-less line item that replaces it on a "no-model" day
MODEL_LESS = {"input": "input_tokens", "cached input": "cached_input_tokens", "output": "output_tokens"}
_NO_MODEL_SHARE = 1 / 12

_Who = tuple[str, str | None, str | None]  # project, API key, user
_Key = tuple[str, str | None, str | None, str, str, str | None]  # who, model, line item, unit


def line_item(model: str, kind: str, tier: str) -> str:
    """The line item of ``kind`` tokens of ``model`` in ``tier`` (``default``, ``batch``, ...)."""
    return f"{model}, {kind}" if tier == "default" else f"{model}, {tier} {kind}"


def no_model_project(seed: int, day: date, usage: dict[str, list[UsageRow]]) -> str | None:
    """The project whose token lines are model-less on ``day``, if any.

    Drawn from its own stream, so a restatement of the day keeps the same choice.
    """
    rng = random.Random(f"{seed}:no-model-lines:{day.toordinal()}")
    if rng.random() >= _NO_MODEL_SHARE:
        return None
    projects = sorted({str(row.dims[0]) for row in usage["completions"]})
    return rng.choice(projects) if projects else None


class _Bill:
    """Exact quantities and dollars per component key; rounds once, when read out."""

    def __init__(self) -> None:
        self.quantities: dict[_Key, Decimal] = defaultdict(Decimal)
        self.amounts: dict[_Key, Decimal] = defaultdict(Decimal)

    def add(
        self, who: _Who, model: str, line: str, unit: str | None, quantity: Decimal, amount: Decimal
    ) -> None:
        """Bill ``amount`` dollars for ``quantity`` (counted in ``unit`` when there is one)."""
        key = (*who, model, line, unit)
        self.quantities[key] += quantity
        self.amounts[key] += amount

    def components(self, day: date) -> list[CostComponent]:
        return [
            CostComponent(
                day,
                *key[:5],
                self.quantities[key],
                key[5],
                self.amounts[key].quantize(AMOUNT_QUANTUM, rounding=ROUND_HALF_EVEN),
            )
            for key in sorted(self.amounts, key=lambda k: tuple(v or "" for v in k))
            if self.amounts[key]
        ]


def price_day(day: date, usage: dict[str, list[UsageRow]], no_model: str | None) -> list[CostComponent]:
    """The cost components of one day's usage, one per (project, key, user, model, line item)."""
    bill = _Bill()
    with localcontext() as ctx:
        # Headroom so every product and sum is exact and the quantize is the only rounding.
        ctx.prec = 60
        _price_completions(day, usage["completions"], no_model, bill)
        for row in usage["embeddings"]:
            model = str(row.dims[3])
            tokens = Decimal(row.counts[0])
            amount = tokens * price_per_mtok(model, "input", "default", day).scaleb(-6)
            bill.add(_who(row), model, line_item(model, "input", "default"), "tokens", tokens, amount)
        for endpoint, unit, suffix, variant in (
            ("audio_speeches", "characters", "characters", "character"),
            ("audio_transcriptions", "duration_seconds", "seconds", "second"),
        ):
            for row in usage[endpoint]:
                model, count = str(row.dims[3]), Decimal(row.counts[0])
                amount = count * price_per_unit(model, variant)
                bill.add(_who(row), model, f"{model}, {suffix}", unit, count, amount)
        for row in usage["images"]:
            model, images = str(row.dims[3]), Decimal(row.counts[0])
            amount = images * price_per_unit(model, str(row.dims[4]))
            bill.add(_who(row), model, f"{model}, images", "images", images, amount)
        for row in usage["web_search_calls"]:
            model, level = str(row.dims[3]), str(row.dims[4])
            flat = model.startswith(REASONING)
            line = "web search tool calls" if flat else f"web search tool calls, {level} context"
            calls = Decimal(row.counts[1])
            amount = calls * price_per_unit("web search", "tool" if flat else level)
            bill.add(_who(row), "", line, None, calls, amount)
        for row in usage["file_search_calls"]:
            calls = Decimal(row.counts[0])
            amount = calls * price_per_unit("file search", "call")
            bill.add(_who(row), "", "file search tool calls", None, calls, amount)
        for row in usage["code_interpreter_sessions"]:
            sessions = Decimal(row.counts[0])
            amount = sessions * price_per_unit("code interpreter", "session")
            bill.add(_who(row), "", "code interpreter sessions", None, sessions, amount)
        for row in usage["vector_stores"]:
            # Billed per GiB-day, reported in GiB-hours: both exact for whole 4 MiB blocks.
            gib_days = Decimal(row.counts[0]) / GIB
            amount = gib_days * price_per_unit("vector store", "gibibyte_day")
            bill.add(_who(row), "", "vector store storage", "gibibyte_hours", gib_days * 24, amount)
        return bill.components(day)


def _price_completions(day: date, rows: list[UsageRow], no_model: str | None, bill: _Bill) -> None:
    fields = ENDPOINTS["completions"].counts
    for row in rows:
        model, batch, tier = str(row.dims[3]), row.dims[4], str(row.dims[5])
        price_tier = "batch" if batch else tier
        tokens: dict[str, int] = defaultdict(int)
        for field, count in zip(fields, row.counts, strict=True):
            if field in COMPLETION_KINDS:
                tokens[COMPLETION_KINDS[field]] += count
        for kind, count in tokens.items():
            if not count:
                continue
            line = line_item(model, kind, price_tier)
            if row.dims[0] == no_model and kind in MODEL_LESS:
                line = MODEL_LESS[kind]
            amount = count * price_per_mtok(model, kind, price_tier, day).scaleb(-6)
            bill.add(_who(row), model, line, "tokens", Decimal(count), amount)


def _who(row: UsageRow) -> _Who:
    """Project, API key and user of a row; endpoints grouped by project only have neither."""
    project, *rest = row.dims
    if not rest:
        return str(project), None, None
    user, api_key = rest[0], rest[1]
    return str(project), _opt(api_key), _opt(user)


def _opt(value: object) -> str | None:
    return None if value is None else str(value)

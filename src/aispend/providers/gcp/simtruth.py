"""Ground truth of the simulated export: what an exact reader of its AI rows must find.

Each figure is summed straight from the rows with exact ``Decimal`` arithmetic: gross (``cost``),
credits (``credits[].amount``, negative), net (gross + credits) and list (``cost_at_list``), in
the billing currency or in US dollars (each row's amount divided by its own conversion rate, at
60 significant digits, unrounded), grouped by any of ``project``, ``model``, ``kind``, ``day``,
``service`` and ``credit_type``. ``kind`` is the SKU's true kind for regular rows (``grounding``
for the grounding SKUs) and the export's cost type otherwise (``adjustment``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal, localcontext
from typing import Literal

from aispend.providers.gcp.simcatalog import GEMINI_API, VERTEX_AI
from aispend.providers.gcp.simdata import ExportRow, SimulatedExport

__all__ = ["Measure", "ai_rows", "money_by", "tokens_by"]

Measure = Literal["gross", "credits", "net", "list"]
AI_SERVICES = (VERTEX_AI, GEMINI_API)


def ai_rows(export: SimulatedExport, since: date, until: date) -> list[ExportRow]:
    """The rows of the AI services with usage on days ``since`` to ``until`` (inclusive)."""
    return [row for row in export.rows if row.sku.service in AI_SERVICES and since <= row.day <= until]


def _dimension(row: ExportRow, name: str) -> object:
    if name == "project":
        return row.project.id
    if name == "model":
        return row.sku.model
    if name == "kind":
        return row.sku.truth_kind if row.cost_type == "regular" else row.cost_type
    if name == "day":
        return row.day
    if name == "service":
        return row.sku.service
    raise ValueError(f"unknown dimension {name!r}")


def _parts(row: ExportRow, measure: Measure) -> Iterable[tuple[str, Decimal]]:
    """(credit type or "", amount in the billing currency) of each part of the measure."""
    if measure in ("gross", "net"):
        yield "", row.cost
    if measure in ("credits", "net"):
        for credit in row.credits:
            yield credit.type, credit.amount
    if measure == "list":
        yield "", row.cost_at_list


def money_by(
    export: SimulatedExport,
    measure: Measure,
    by: Sequence[str],
    since: date,
    until: date,
    *,
    usd: bool = False,
) -> dict[tuple[object, ...], Decimal]:
    """``measure`` per group of ``by`` (``credit_type`` splits credits by type), exactly."""
    totals: dict[tuple[object, ...], Decimal] = defaultdict(Decimal)
    with localcontext() as context:
        context.prec = 60
        for row in ai_rows(export, since, until):
            for credit_type, amount in _parts(row, measure):
                key = tuple(credit_type if name == "credit_type" else _dimension(row, name) for name in by)
                totals[key] += amount / row.rate if usd else amount
    return dict(totals)


def tokens_by(
    export: SimulatedExport, by: Sequence[str], since: date, until: date
) -> dict[tuple[object, ...], int]:
    """Tokens of the regular rows of token SKUs per group of ``by`` (``kind`` tells input from output)."""
    totals: dict[tuple[object, ...], int] = defaultdict(int)
    for row in ai_rows(export, since, until):
        if row.cost_type == "regular" and row.sku.is_tokens:
            totals[tuple(_dimension(row, name) for name in by)] += int(row.usage_amount)
    return dict(totals)

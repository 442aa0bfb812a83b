"""Rows of the aispend queries (:mod:`.sql`) -> normalised records. Pure functions.

- Cost: each ``gross`` row becomes a cost line in the billing currency with its USD value,
  list cost and usage quantity; each ``credit`` row becomes its own line with a negative
  amount, ``cost_type="credit"`` and the credit's type and name as its description. Net cost is
  their sum. Lines with the same natural key (one SKU in one project, region and day whose
  conversion rate changed during the day) are merged, their USD values added before the one
  rounding.
- Usage: token SKUs become token counts per model, project, mode, tier and region (thinking
  tokens are output tokens and also ``reasoning_tokens``); anything else (cache storage,
  grounding, throughput) is a ``quantity`` of a ``unit``.
- A SKU the parser cannot read keeps model ``""``, its description, ``cost_type="unparsed_sku"``.

The project is the workspace-level dimension; the export has no API key or user.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from aispend.model import CostMethod, CostRecord, DirectoryEntry, UsageRecord
from aispend.providers.base import DayRecords
from aispend.providers.gcp.money import add_exact, effective_rate, exact, round_money, usd_exact
from aispend.providers.gcp.skus import SkuParse, parse_sku

__all__ = ["UNPARSED", "CostLine", "parse_accounts", "parse_cost_rows", "parse_projects", "parse_usage_rows"]

Row = Mapping[str, Any]

UNPARSED = "unparsed_sku"
PRODUCTS = {"C7E2-9256-1C43": "vertex_ai", "AEFD-7695-64FA": "gemini_api"}
TOKEN_TYPES = {
    "input": "input",
    "output": "output",
    "thinking_output": "output",
    "cached_input": "cache_read",
}
MAX_DESCRIPTION = 400


def _product(service_id: str) -> str:
    return PRODUCTS.get(service_id, service_id.lower())


def _unit(export_unit: str, sku: SkuParse) -> str:
    """The unit of ``usage.amount``. Token SKUs count single tokens (unit ``count``)."""
    if sku.is_tokens and export_unit in ("count", ""):
        return "tokens"
    if sku.kind == "cache_storage" and export_unit in ("h", "hour"):
        # [M] in the reference: cache storage is billed in token-hours with usage unit `h`.
        return "token_hours"
    return export_unit


def _cost_type(export_cost_type: str, sku: SkuParse) -> str:
    """Tax, adjustments and rounding errors keep the export's type; usage is typed by its SKU."""
    if export_cost_type not in ("regular", ""):
        return export_cost_type.replace(" ", "_")
    if not sku.parsed:
        return UNPARSED
    return sku.detail or sku.kind


def _credit_description(row: Row) -> str:
    # A credit's `name` is set only when its id is alphanumeric; `full_name` is the readable one.
    name = row["credit_full_name"] or row["credit_name"]
    text = f"{row['credit_type']}: {name}" if name else row["credit_type"] or "credit"
    return text[:MAX_DESCRIPTION]


@dataclass
class CostLine:
    """One cost line being merged: billing-currency sums and unrounded USD sums."""

    record: CostRecord
    amount: Decimal = Decimal(0)
    usd: Decimal = Decimal(0)
    list_usd: Decimal | None = None
    quantity: Decimal | None = None
    rates: set[Decimal] = field(default_factory=set)

    def add(
        self, amount: Decimal, rate: Decimal, list_amount: Decimal | None, quantity: Decimal | None
    ) -> None:
        self.amount = add_exact(self.amount, amount)
        self.usd = add_exact(self.usd, usd_exact(amount, rate))
        self.rates.add(rate)
        if list_amount is not None:
            self.list_usd = add_exact(self.list_usd or Decimal(0), usd_exact(list_amount, rate))
        if quantity is not None:
            self.quantity = add_exact(self.quantity or Decimal(0), quantity)

    def finished(self) -> CostRecord:
        amount_usd = round_money(self.usd)
        if len(self.rates) == 1:
            [rate] = self.rates
        else:
            # Several rates in one day: the rate that turns the day's amount into its dollars.
            rate = effective_rate(self.amount, self.usd) if self.usd else max(self.rates)
        return CostRecord(
            **{
                **_record_fields(self.record),
                "amount_usd": amount_usd,
                "amount": self.amount,
                "conversion_rate": rate,
                "list_amount_usd": round_money(self.list_usd) if self.list_usd is not None else None,
                "quantity": self.quantity,
            }
        )


def _record_fields(record: CostRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def _cost_base(row: Row, stream: str, sku: SkuParse) -> dict[str, Any]:
    return {
        "day": row["usage_day"],
        "amount_usd": Decimal(0),
        "workspace_id": row["project_id"],
        "model": sku.model,
        "token_type": TOKEN_TYPES.get(sku.kind, ""),
        "service_tier": sku.mode,
        "context_window": sku.tier,
        "inference_geo": row["region"],
        "currency": row["currency"],
        "stream": stream,
        "product": _product(row["service_id"]),
        "sku_id": row["sku_id"],
    }


def parse_cost_rows(rows: Iterable[Row], stream: str) -> list[DayRecords]:
    """Rows of :func:`.sql.cost_query` -> one :class:`DayRecords` per day they cover."""
    lines: dict[tuple[Any, ...], CostLine] = {}
    for row in rows:
        sku = parse_sku(row["sku_id"], row["sku_description"])
        method: CostMethod = "parsed_line_item" if sku.parsed else "reported"
        base = _cost_base(row, stream, sku)
        amount = exact(row["amount"])
        if row["line"] == "credit":
            record = CostRecord(
                **base, description=_credit_description(row), cost_type="credit", method=method
            )
            list_amount = quantity = None
        else:
            record = CostRecord(
                **base,
                description=row["sku_description"][:MAX_DESCRIPTION],
                cost_type=_cost_type(row["cost_type"], sku),
                unit=_unit(row["usage_unit"], sku),
                method=method,
            )
            list_amount, quantity = exact(row["list_amount"]), exact(row["usage_amount"])
        line = lines.get(_key(record))
        if line is None:
            line = lines[_key(record)] = CostLine(record)
        line.add(amount, exact(row["conversion_rate"]), list_amount, quantity)
    by_day: dict[date, DayRecords] = {}
    for line in lines.values():
        record = line.finished()
        by_day.setdefault(record.day, DayRecords(record.day)).cost.append(record)
    return sorted(by_day.values(), key=lambda d: d.day)


def _key(record: CostRecord) -> tuple[Any, ...]:
    return (
        record.day,
        record.workspace_id,
        record.description,
        record.cost_type,
        record.model,
        record.token_type,
        record.service_tier,
        record.context_window,
        record.inference_geo,
        record.currency,
        record.product,
        record.sku_id,
        record.unit,
    )


# kind -> (total field, {modality: split field})
_TOKEN_FIELDS: dict[str, tuple[str, dict[str, str]]] = {
    "input": (
        "input_tokens",
        {"text": "input_text_tokens", "audio": "input_audio_tokens", "image": "input_image_tokens"},
    ),
    "cached_input": (
        "cache_read_tokens",
        {
            "text": "input_cached_text_tokens",
            "audio": "input_cached_audio_tokens",
            "image": "input_cached_image_tokens",
        },
    ),
    "output": (
        "output_tokens",
        {"text": "output_text_tokens", "audio": "output_audio_tokens", "image": "output_image_tokens"},
    ),
    # Thinking is billed as output; the thinking part is also kept on its own.
    "thinking_output": ("output_tokens", {}),
}


def _tokens(amount: Decimal) -> int:
    # `usage.amount` is a FLOAT64 count; a token count is whole.
    return int(amount.to_integral_value(rounding=ROUND_HALF_EVEN))


def parse_usage_rows(rows: Iterable[Row], stream: str) -> list[DayRecords]:
    """Rows of :func:`.sql.usage_query` -> one :class:`DayRecords` of usage per day they cover."""
    counts: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        sku = parse_sku(row["sku_id"], row["sku_description"])
        amount = exact(row["usage_amount"])
        unit = _unit(row["usage_unit"], sku)
        if unit == "tokens":
            variant, usage_unit = "", ""
        elif sku.parsed:
            variant, usage_unit = sku.detail or sku.kind, unit
        else:
            variant, usage_unit = f"{UNPARSED}:{row['sku_id']}", unit
        key = (
            row["usage_day"],
            sku.model,
            row["project_id"],
            sku.mode,
            sku.tier,
            row["region"],
            _product(row["service_id"]),
            variant,
            usage_unit,
        )
        measures = counts[key]
        if usage_unit:
            measures["quantity"] = measures.get("quantity", Decimal(0)) + amount
            continue
        tokens = _tokens(amount)
        total, splits = _TOKEN_FIELDS[sku.kind]
        measures[total] += tokens
        if sku.kind == "thinking_output":
            measures["reasoning_tokens"] += tokens
        if sku.modality in splits:
            measures[splits[sku.modality]] += tokens
    by_day: dict[date, DayRecords] = {}
    for key, measures in counts.items():
        day, model, project, mode, tier, region, product, variant, unit = key
        record = UsageRecord(
            day=day,
            stream=stream,
            model=model,
            workspace_id=project,
            service_tier=mode,
            context_window=tier,
            inference_geo=region,
            product=product,
            variant=variant,
            unit=unit,
            **measures,
        )
        by_day.setdefault(day, DayRecords(day)).usage.append(record)
    return sorted(by_day.values(), key=lambda d: d.day)


def parse_projects(rows: Iterable[Row]) -> list[DirectoryEntry]:
    """Rows of :func:`.sql.projects_query` -> each project with its latest name and labels."""
    latest: dict[str, datetime] = {}
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        project = row["project_id"]
        grouped[project].append(row)
        if project not in latest or row["last_export"] > latest[project]:
            latest[project] = row["last_export"]
    entries = []
    for project, project_rows in sorted(grouped.items()):
        current = [row for row in project_rows if row["last_export"] == latest[project]]
        name = max(row["project_name"] for row in current) or project
        labels = {row["label_key"]: row["label_value"] for row in current if row["label_key"]}
        entries.append(DirectoryEntry("workspace", project, name, dict(sorted(labels.items()))))
    return entries


def parse_accounts(rows: Iterable[Row]) -> list[str]:
    """Rows of :func:`.sql.accounts_query` -> the billing account ids, sorted."""
    return sorted({str(row["billing_account_id"]) for row in rows if row["billing_account_id"]})

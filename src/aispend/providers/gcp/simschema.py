"""The billing export's table schema (detailed and standard) and its rows as BigQuery JSON.

The schema is the deployed detailed-export table of the reference (§1): names, types, modes
and nesting. The standard export is the same without the detailed-only columns. Both are in
the REST API's ``TableSchema`` shape, which ``tables.get`` answers and an emulator accepts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from aispend.providers.gcp.simcatalog import SERVICE_NAMES
from aispend.providers.gcp.simdata import ExportRow

__all__ = ["DETAILED_SCHEMA", "STANDARD_SCHEMA", "field_names", "row_json"]

Field = dict[str, Any]


def _f(name: str, kind: str = "STRING", mode: str = "NULLABLE", fields: list[Field] | None = None) -> Field:
    field: Field = {"name": name, "type": kind, "mode": mode}
    if fields is not None:
        field["fields"] = fields
    return field


def _pairs(name: str) -> Field:
    return _f(name, "RECORD", "REPEATED", [_f("key"), _f("value")])


DETAILED_SCHEMA: Final[list[Field]] = [
    _f("billing_account_id"),
    _f("service", "RECORD", fields=[_f("id"), _f("description")]),
    _f("sku", "RECORD", fields=[_f("id"), _f("description")]),
    _f("usage_start_time", "TIMESTAMP"),
    _f("usage_end_time", "TIMESTAMP"),
    _f(
        "project",
        "RECORD",
        fields=[
            _f("id"),
            _f("number"),
            _f("name"),
            _pairs("labels"),
            _f("ancestry_numbers"),
            _f("ancestors", "RECORD", "REPEATED", [_f("resource_name"), _f("display_name")]),
        ],
    ),
    _pairs("labels"),
    _pairs("system_labels"),
    _f("location", "RECORD", fields=[_f("location"), _f("country"), _f("region"), _f("zone")]),
    _f("resource", "RECORD", fields=[_f("name"), _f("global_name")]),
    _f(
        "tags",
        "RECORD",
        "REPEATED",
        [_f("key"), _f("value"), _f("inherited", "BOOLEAN"), _f("namespace")],
    ),
    _f(
        "price",
        "RECORD",
        fields=[
            _f("effective_price", "NUMERIC"),
            _f("tier_start_amount", "NUMERIC"),
            _f("unit"),
            _f("pricing_unit_quantity", "NUMERIC"),
            _f("list_price", "NUMERIC"),
            _f("effective_price_default", "NUMERIC"),
            _f("list_price_consumption_model", "NUMERIC"),
        ],
    ),
    _f("subscription", "RECORD", fields=[_f("instance_id")]),
    _f("transaction_type"),
    _f("seller_name"),
    _f("export_time", "TIMESTAMP"),
    _f("cost", "FLOAT"),
    _f("currency"),
    _f("currency_conversion_rate", "FLOAT"),
    _f(
        "usage",
        "RECORD",
        fields=[
            _f("amount", "FLOAT"),
            _f("unit"),
            _f("amount_in_pricing_units", "FLOAT"),
            _f("pricing_unit"),
        ],
    ),
    _f(
        "credits",
        "RECORD",
        "REPEATED",
        [_f("name"), _f("amount", "FLOAT"), _f("full_name"), _f("id"), _f("type")],
    ),
    _f("invoice", "RECORD", fields=[_f("month"), _f("publisher_type")]),
    _f("cost_type"),
    _f("adjustment_info", "RECORD", fields=[_f("id"), _f("description"), _f("mode"), _f("type")]),
    _f("cost_at_list", "FLOAT"),
    _f(
        "consumption_model",
        "RECORD",
        fields=[_f("id"), _f("description"), _f("applied_subscription_instance_id")],
    ),
    _f("cost_at_effective_price_default", "FLOAT"),
    _f("cost_at_list_consumption_model", "FLOAT"),
]

_DETAILED_ONLY = {
    "resource",
    "price",
    "subscription",
    "consumption_model",
    "cost_at_effective_price_default",
    "cost_at_list_consumption_model",
}
STANDARD_SCHEMA: Final[list[Field]] = [f for f in DETAILED_SCHEMA if f["name"] not in _DETAILED_ONLY]


def field_names(schema: list[Field], prefix: str = "") -> set[str]:
    """Dotted names of every field (``credits.amount``...)."""
    names: set[str] = set()
    for field in schema:
        name = prefix + field["name"]
        names.add(name)
        names |= field_names(field.get("fields", []), name + ".")
    return names


def _timestamp(value: datetime) -> str:
    return value.isoformat()


def row_json(row: ExportRow) -> dict[str, Any]:
    """``row`` as the JSON a streaming insert takes (FLOAT64 amounts as floats, like the export)."""
    region = row.region
    return {
        "billing_account_id": row.billing_account_id,
        "service": {"id": row.sku.service, "description": SERVICE_NAMES[row.sku.service]},
        "sku": {"id": row.sku.id, "description": row.sku.description},
        "usage_start_time": _timestamp(row.usage_start),
        "usage_end_time": _timestamp(row.usage_end),
        "project": {
            "id": row.project.id,
            "number": row.project.number,
            "name": row.project_name,
            "labels": [{"key": key, "value": value} for key, value in row.project_labels],
        },
        "labels": [],
        "system_labels": [],
        "location": {"location": region, "country": "", "region": region, "zone": ""},
        "resource": {"name": "", "global_name": ""},
        "export_time": _timestamp(row.export_time),
        "cost": float(row.cost),
        "currency": row.currency,
        "currency_conversion_rate": float(row.rate),
        "usage": {
            "amount": float(row.usage_amount),
            "unit": row.sku.unit,
            "amount_in_pricing_units": float(row.usage_amount / row.sku.per),
            "pricing_unit": "count" if row.sku.unit == "count" else row.sku.unit,
        },
        "credits": [
            {
                "name": credit.name or None,
                "amount": float(credit.amount),
                "full_name": credit.full_name,
                "id": credit.id,
                "type": credit.type,
            }
            for credit in row.credits
        ],
        "invoice": {"month": row.invoice_month, "publisher_type": "Google"},
        "cost_type": row.cost_type,
        "cost_at_list": float(row.cost_at_list),
        "transaction_type": "GOOGLE",
    }

"""How the simulator answers a query: aispend's own queries, understood narrowly, evaluated exactly.

The simulator is no SQL engine (``bqemulator`` runs the real SQL in the integration tests).
It reads what BigQuery would check before running anything: the query's name (its first-line
comment ``-- aispend:NAME``), the tables it reads (backtick-quoted identifiers after
``FROM``), every field it names through the aliases ``t.``, ``c.`` (``UNNEST(t.credits)``) and
``l.`` (``UNNEST(t.project.labels)``), and its ``@parameters``, which must all be supplied.
Then it computes that query's answer from the simulated rows in Python, with BigQuery's
semantics: FLOAT64 cast to NUMERIC (rounded half away from zero to nine places) and summed
exactly, groups as the query's ``GROUP BY``, order as its ``ORDER BY``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aispend.providers.gcp.simdata import ExportRow

__all__ = ["QUERY_SCHEMAS", "BigQueryError", "ParsedQuery", "evaluate", "parse_query"]

_MARK = re.compile(r"\A--\s*aispend:(\w+)")
_TABLE = re.compile(r"\bFROM\s+`([^`]*)`")
_ALIASED = re.compile(r"\b([tcl])\.((?:\w+\.)*\w+)")
_PARAMETER = re.compile(r"@(\w+)")
_ALIAS_ROOTS = {"t": "", "c": "credits.", "l": "project.labels."}
_NINE = Decimal("0.000000001")

Columns = tuple[tuple[str, str], ...]
QUERY_SCHEMAS: dict[str, Columns] = {
    "cost": (
        ("line", "STRING"),
        ("usage_day", "DATE"),
        ("project_id", "STRING"),
        ("service_id", "STRING"),
        ("sku_id", "STRING"),
        ("sku_description", "STRING"),
        ("region", "STRING"),
        ("cost_type", "STRING"),
        ("currency", "STRING"),
        ("conversion_rate", "NUMERIC"),
        ("usage_unit", "STRING"),
        ("credit_type", "STRING"),
        ("credit_name", "STRING"),
        ("credit_full_name", "STRING"),
        ("usage_amount", "NUMERIC"),
        ("amount", "NUMERIC"),
        ("list_amount", "NUMERIC"),
    ),
    "usage": (
        ("usage_day", "DATE"),
        ("project_id", "STRING"),
        ("service_id", "STRING"),
        ("sku_id", "STRING"),
        ("sku_description", "STRING"),
        ("region", "STRING"),
        ("usage_unit", "STRING"),
        ("usage_amount", "NUMERIC"),
    ),
    "projects": (
        ("project_id", "STRING"),
        ("project_name", "STRING"),
        ("label_key", "STRING"),
        ("label_value", "STRING"),
        ("last_export", "TIMESTAMP"),
    ),
    "accounts": (("billing_account_id", "STRING"),),
}


class BigQueryError(Exception):
    """An error BigQuery would answer with: HTTP status, reason and message."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


def _position(sql: str, index: int) -> str:
    line = sql.count("\n", 0, index) + 1
    column = index - (sql.rfind("\n", 0, index) + 1) + 1
    return f"[{line}:{column}]"


@dataclass(frozen=True)
class ParsedQuery:
    name: str
    tables: tuple[str, ...]
    parameters: Mapping[str, Any]


def _parameter_value(parameter: Mapping[str, Any]) -> Any:
    kind = parameter["parameterType"]["type"]
    value = parameter.get("parameterValue", {})
    if kind == "ARRAY":
        return tuple(item.get("value") for item in value.get("arrayValues", []))
    if kind == "TIMESTAMP":
        return datetime.fromisoformat(value["value"])
    return value.get("value")


def parse_query(
    sql: str, parameters: Sequence[Mapping[str, Any]], fields: Callable[[str], set[str]]
) -> ParsedQuery:
    """Check ``sql`` as BigQuery would before running it, against the fields of each table it reads.

    ``fields(table_id)`` returns a table's dotted field names, or raises the 404/403 that
    reading that table gets.
    """
    mark = _MARK.match(sql)
    if mark is None or mark.group(1) not in QUERY_SCHEMAS:
        raise BigQueryError(
            400, "invalidQuery", "This simulator answers only aispend's own queries (-- aispend:NAME)."
        )
    tables = tuple(dict.fromkeys(_TABLE.findall(sql)))
    known: set[str] = set()
    for table in tables:
        known |= fields(table)
    for match in _ALIASED.finditer(sql):
        alias, path = match.groups()
        parts = (_ALIAS_ROOTS[alias] + path).split(".")
        # The first part of the path the table does not have is the one BigQuery names.
        missing = next((n for n in range(1, len(parts) + 1) if ".".join(parts[:n]) not in known), 0)
        if missing:
            where = _position(sql, match.start())
            head, leaf = ".".join(parts[: missing - 1]), parts[missing - 1]
            if not head:
                raise BigQueryError(400, "invalidQuery", f"Unrecognized name: {leaf} at {where}")
            raise BigQueryError(
                400, "invalidQuery", f"Field name {leaf} does not exist in STRUCT {head} at {where}"
            )
    given = {p["name"]: _parameter_value(p) for p in parameters}
    for match in _PARAMETER.finditer(sql):
        if match.group(1) not in given:
            where = _position(sql, match.start())
            raise BigQueryError(
                400, "invalidQuery", f"Query parameter '{match.group(1)}' not found at {where}"
            )
    return ParsedQuery(mark.group(1), tables, given)


def _numeric(value: Decimal) -> Decimal:
    """CAST(FLOAT64 AS NUMERIC): the float's exact value rounded half away from zero to nine places."""
    return Decimal(float(value)).quantize(_NINE, rounding=ROUND_HALF_UP)


def _in_window(row: ExportRow, p: Mapping[str, Any]) -> bool:
    return (
        row.partition_time >= p["scan_from"]
        and row.export_time >= p["scan_from"]
        and p["window_start"] <= row.usage_start < p["window_end"]
        and row.sku.service in p["service_ids"]
    )


def _group_key(row: ExportRow) -> tuple[Any, ...]:
    return (
        row.day,
        row.project.id,
        row.sku.service,
        row.sku.id,
        row.sku.description,
        row.region,
        row.cost_type,
        row.currency,
        _numeric(row.rate),
    )


def _cost(rows: Iterable[ExportRow], p: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    gross: dict[tuple[Any, ...], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    credits: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    for row in rows:
        if not _in_window(row, p):
            continue
        sums = gross[(*_group_key(row), row.sku.unit)]
        for index, value in enumerate((row.usage_amount, row.cost, row.cost_at_list)):
            sums[index] += _numeric(value)
        for credit in row.credits:
            credits[(*_group_key(row), credit.type, credit.name, credit.full_name)] += _numeric(credit.amount)
    out = [("gross", *key, "", "", "", *sums) for key, sums in gross.items()]
    out += [
        ("credit", *key[:9], "", *key[9:], Decimal(0), amount, Decimal(0)) for key, amount in credits.items()
    ]
    return sorted(out, key=lambda result: result[1])


def _usage(rows: Iterable[ExportRow], p: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    sums: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    for row in rows:
        if _in_window(row, p) and row.cost_type == "regular":
            key = (row.day, row.project.id, row.sku.service, row.sku.id, row.sku.description, row.region)
            sums[(*key, row.sku.unit)] += _numeric(row.usage_amount)
    return sorted(((*key, amount) for key, amount in sums.items()), key=lambda result: result[0])


def _projects(rows: Iterable[ExportRow], p: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    latest: dict[tuple[str, str, str, str], datetime] = {}
    for row in rows:
        if row.partition_time < p["scan_from"] or row.sku.service not in p["service_ids"]:
            continue
        for key, value in row.project_labels or (("", ""),):
            group = (row.project.id, row.project_name, key, value)
            if group not in latest or row.export_time > latest[group]:
                latest[group] = row.export_time
    return sorted(((*group, seen) for group, seen in latest.items()), key=lambda result: result[0])


def _accounts(rows: Iterable[ExportRow], p: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (account,)
        for account in sorted({r.billing_account_id for r in rows if r.partition_time >= p["scan_from"]})
    ]


_EVALUATORS: dict[str, Callable[[Iterable[ExportRow], Mapping[str, Any]], list[tuple[Any, ...]]]] = {
    "cost": _cost,
    "usage": _usage,
    "projects": _projects,
    "accounts": _accounts,
}


def evaluate(query: ParsedQuery, rows: Sequence[ExportRow]) -> list[tuple[Any, ...]]:
    """The result rows of ``query`` over ``rows``, in :data:`QUERY_SCHEMAS` column order."""
    return _EVALUATORS[query.name](rows, query.parameters)

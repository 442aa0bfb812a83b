"""The SQL aispend runs against the billing export, and the columns it needs.

Every query names the table only through :meth:`TableId.sql` (a validated, backtick-quoted
identifier) and takes every value as a query parameter, so nothing a customer types can
change the SQL. The first line of each query is a comment naming it (``-- aispend:cost``),
which shows in BigQuery's job history what ran it.

The forms stay within what both BigQuery and the ``bqemulator`` test emulator accept: an
aliased ``UNNEST`` (``FROM t, UNNEST(t.credits) AS c``), fields qualified by the table alias,
and ``_PARTITIONTIME`` unqualified.

Money never passes through float arithmetic: each FLOAT64 amount is cast to NUMERIC before
it is summed (see :mod:`.money`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal

from aispend.providers.gcp.tableid import TableId

__all__ = [
    "DETAILED_ONLY",
    "REQUIRED_FIELDS",
    "SERVICES",
    "Parameter",
    "Query",
    "QueryName",
    "accounts_query",
    "cost_query",
    "projects_query",
    "scan_start",
    "usage_query",
]

SERVICES: Final[dict[str, str]] = {
    "C7E2-9256-1C43": "Vertex AI",
    "AEFD-7695-64FA": "Gemini API",
}
"""The AI services read by default: ``service.id`` -> its description (for display only)."""

REQUIRED_FIELDS: Final = (
    "billing_account_id",
    "service.id",
    "sku.id",
    "sku.description",
    "usage_start_time",
    "project.id",
    "project.name",
    "project.labels.key",
    "project.labels.value",
    "location.region",
    "export_time",
    "cost",
    "currency",
    "currency_conversion_rate",
    "usage.amount",
    "usage.unit",
    "credits.amount",
    "credits.type",
    "credits.name",
    "credits.full_name",
    "cost_type",
    "cost_at_list",
)
"""Every field the queries read (both the standard and the detailed export have them)."""

DETAILED_ONLY: Final = ("resource", "price")
"""Columns only the *detailed* export has: their absence marks a standard export table."""

_NUMERIC = "NUMERIC(38, 9)"
"""What every FLOAT64 amount is cast to before it is summed. It is BigQuery's NUMERIC (nine
decimal places) spelled out: a parameterized type is valid in a CAST, and without the
parameters bqemulator maps NUMERIC to DuckDB's DECIMAL(18, 3), which would round each amount
to a tenth of a cent."""

PARTITION_OVERLAP = timedelta(days=1)
"""Partitions are by load day, and a row is never loaded before the usage it bills, so a
window's rows all sit in partitions from its first day on. The reference does not say in
which time zone the load day is counted; starting the scan a day early covers either."""

DIRECTORY_DAYS = 400
ACCOUNT_DAYS = 35

QueryName = Literal["cost", "usage", "projects", "accounts"]


@dataclass(frozen=True, slots=True)
class Parameter:
    """A named query parameter: BigQuery type (``TIMESTAMP``, ``STRING``) and value(s)."""

    name: str
    type: Literal["TIMESTAMP", "STRING"]
    value: datetime | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Query:
    name: QueryName
    sql: str
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def scan_start(day: date) -> datetime:
    """The first partition (and export time) that can hold usage of ``day``."""
    return _midnight(day) - PARTITION_OVERLAP


_GROSS_COLUMNS = f"""\
  DATE(t.usage_start_time) AS usage_day,
  IFNULL(t.project.id, '') AS project_id,
  t.service.id AS service_id,
  t.sku.id AS sku_id,
  IFNULL(t.sku.description, '') AS sku_description,
  IFNULL(t.location.region, '') AS region,
  IFNULL(t.cost_type, '') AS cost_type,
  t.currency AS currency,
  CAST(t.currency_conversion_rate AS {_NUMERIC}) AS conversion_rate"""

_WINDOW_FILTER = """\
  _PARTITIONTIME >= @scan_from
  AND t.export_time >= @scan_from
  AND t.usage_start_time >= @window_start
  AND t.usage_start_time < @window_end
  AND t.service.id IN UNNEST(@service_ids)"""

_GROUP = (
    "usage_day, project_id, service_id, sku_id, sku_description, region, cost_type, currency, conversion_rate"
)


def _window_parameters(start: date, end: date, service_ids: tuple[str, ...]) -> tuple[Parameter, ...]:
    return (
        Parameter("scan_from", "TIMESTAMP", scan_start(start)),
        Parameter("window_start", "TIMESTAMP", _midnight(start)),
        Parameter("window_end", "TIMESTAMP", _midnight(end)),
        Parameter("service_ids", "STRING", service_ids),
    )


def cost_query(table: TableId, start: date, end: date, service_ids: tuple[str, ...]) -> Query:
    """Gross cost and every credit of the AI services, per usage day, project, SKU and region.

    One row per ``line``: ``gross`` (the SKU's cost, list cost and usage) or ``credit`` (one
    credit type and name). Ordered by day, so a page boundary splits the rows of at most one
    day, which the connector holds back until that day is whole.
    """
    # The table is a validated, quoted identifier (see tableid.py); every value is a parameter.
    sql = f"""-- aispend:cost
SELECT
  'gross' AS line,
{_GROSS_COLUMNS},
  IFNULL(t.usage.unit, '') AS usage_unit,
  '' AS credit_type,
  '' AS credit_name,
  '' AS credit_full_name,
  SUM(CAST(t.usage.amount AS {_NUMERIC})) AS usage_amount,
  SUM(CAST(t.cost AS {_NUMERIC})) AS amount,
  SUM(CAST(t.cost_at_list AS {_NUMERIC})) AS list_amount
FROM {table.sql()} AS t
WHERE
{_WINDOW_FILTER}
GROUP BY {_GROUP}, usage_unit
UNION ALL
SELECT
  'credit' AS line,
{_GROSS_COLUMNS},
  '' AS usage_unit,
  IFNULL(c.type, '') AS credit_type,
  IFNULL(c.name, '') AS credit_name,
  IFNULL(c.full_name, '') AS credit_full_name,
  CAST(0 AS {_NUMERIC}) AS usage_amount,
  SUM(CAST(c.amount AS {_NUMERIC})) AS amount,
  CAST(0 AS {_NUMERIC}) AS list_amount
FROM {table.sql()} AS t, UNNEST(t.credits) AS c
WHERE
{_WINDOW_FILTER}
GROUP BY {_GROUP}, credit_type, credit_name, credit_full_name
ORDER BY usage_day
"""  # noqa: S608
    return Query("cost", sql, _window_parameters(start, end, service_ids))


def usage_query(table: TableId, start: date, end: date, service_ids: tuple[str, ...]) -> Query:
    """Usage (tokens and other units) of the AI services' ``regular`` rows, per day, project, SKU, region.

    Only regular rows are usage: tax, adjustments and rounding errors bill money, not tokens.
    """
    # The table is a validated, quoted identifier (see tableid.py); every value is a parameter.
    sql = f"""-- aispend:usage
SELECT
  DATE(t.usage_start_time) AS usage_day,
  IFNULL(t.project.id, '') AS project_id,
  t.service.id AS service_id,
  t.sku.id AS sku_id,
  IFNULL(t.sku.description, '') AS sku_description,
  IFNULL(t.location.region, '') AS region,
  IFNULL(t.usage.unit, '') AS usage_unit,
  SUM(CAST(t.usage.amount AS {_NUMERIC})) AS usage_amount
FROM {table.sql()} AS t
WHERE
{_WINDOW_FILTER}
  AND t.cost_type = 'regular'
GROUP BY usage_day, project_id, service_id, sku_id, sku_description, region, usage_unit
ORDER BY usage_day
"""  # noqa: S608
    return Query("usage", sql, _window_parameters(start, end, service_ids))


def projects_query(table: TableId, today: date, service_ids: tuple[str, ...]) -> Query:
    """Each project that used an AI service recently, its name and labels, with when each was last seen.

    A project's current name and labels are those of its latest export; the connector picks them.
    Ordered by project, so a page boundary splits the rows of at most one project.
    """
    # The table is a validated, quoted identifier (see tableid.py); every value is a parameter.
    sql = f"""-- aispend:projects
SELECT
  t.project.id AS project_id,
  IFNULL(t.project.name, '') AS project_name,
  IFNULL(l.key, '') AS label_key,
  IFNULL(l.value, '') AS label_value,
  MAX(t.export_time) AS last_export
FROM {table.sql()} AS t
LEFT JOIN UNNEST(t.project.labels) AS l
WHERE
  _PARTITIONTIME >= @scan_from
  AND t.service.id IN UNNEST(@service_ids)
  AND t.project.id IS NOT NULL
GROUP BY project_id, project_name, label_key, label_value
ORDER BY project_id
"""  # noqa: S608
    parameters = (
        Parameter("scan_from", "TIMESTAMP", scan_start(today - timedelta(days=DIRECTORY_DAYS))),
        Parameter("service_ids", "STRING", service_ids),
    )
    return Query("projects", sql, parameters)


def accounts_query(table: TableId, today: date) -> Query:
    """The billing accounts whose rows the table holds (recent partitions only: a cheap scan)."""
    # The table is a validated, quoted identifier (see tableid.py); every value is a parameter.
    sql = f"""-- aispend:accounts
SELECT DISTINCT t.billing_account_id AS billing_account_id
FROM {table.sql()} AS t
WHERE _PARTITIONTIME >= @scan_from
"""  # noqa: S608
    parameters = (Parameter("scan_from", "TIMESTAMP", scan_start(today - timedelta(days=ACCOUNT_DAYS))),)
    return Query("accounts", sql, parameters)

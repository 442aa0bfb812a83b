"""The Google Cloud connector: Gemini and Vertex AI spend from the Cloud Billing detailed export.

Google has no cost API; the detailed billing export in BigQuery is the complete record. A
connection is only a table ID (plus, optionally, the project that runs the queries, an
endpoint and the services to read); the deployment's own Google identity reads it.

Streams:
- ``projects`` (directory): each project that used an AI service, its name and labels;
- ``billing_export`` (cost) and ``billing_usage`` (usage): per usage day, project, SKU and
  region. The export restates late usage and has no row id, so both are
  :class:`RestatedMonthsStream`: each run re-reads the current and previous month (and the
  one before in a month's first days) and the sync engine replaces them atomically.

A query's result can span pages. Rows come ordered by day (directory: by project), and the
rows of the last day on a page are held back and put in front of the next page, so every
page the engine receives holds whole days.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import httpx

from aispend.providers.base import DayRecords, FatalProviderError, FetchedPage, ProviderAccount, StreamSpec
from aispend.providers.gcp.parse import (
    UNPARSED,
    parse_accounts,
    parse_cost_rows,
    parse_projects,
    parse_usage_rows,
)
from aispend.providers.gcp.sql import (
    DETAILED_ONLY,
    REQUIRED_FIELDS,
    SERVICES,
    Query,
    accounts_query,
    cost_query,
    projects_query,
    usage_query,
)
from aispend.providers.gcp.tableid import TableId, TableIdError, check_project_id, parse_table_id
from aispend.sync.planner import RestatedMonthsStream, restated_from

if TYPE_CHECKING:
    from aispend.providers.gcp.client import BigQueryReader, ResultPage

__all__ = ["BIGQUERY_API", "GcpConnector", "refuse_key"]

log = logging.getLogger(__name__)

BIGQUERY_API = "https://bigquery.googleapis.com"
SERVICE_ID = re.compile(r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}")
EXPORT_TABLE = re.compile(r"gcp_billing_export_resource_v1_([0-9A-F]{6})_([0-9A-F]{6})_([0-9A-F]{6})")
COST, USAGE = "billing_export", "billing_usage"

COST_STREAM = RestatedMonthsStream(COST, "cost", "query", 31)
STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec("projects", "directory", "directory", 0),
    COST_STREAM,
    RestatedMonthsStream(USAGE, "usage", "query", 31),
)

SETUP = (
    "In Cloud Console > Billing > Billing export > BigQuery export, enable 'Detailed usage cost' into a "
    "dataset, then connect its table gcp_billing_export_resource_v1_<BILLING_ACCOUNT_ID>."
)


def refuse_key(key: str) -> None:
    """Google Cloud takes no key: its export is read with the deployment's own identity."""
    raise FatalProviderError(
        "Google Cloud takes no key: aispend reads the billing export with this deployment's own "
        "Google identity (Application Default Credentials) and stores no Google credential."
    )


def _options(options: Mapping[str, object]) -> tuple[TableId, str, tuple[str, ...]]:
    """The connection's table, query project and service ids, validated again on every use."""
    try:
        table = parse_table_id(str(options.get("table_id") or ""))
        query_project = check_project_id(
            str(options.get("query_project") or table.project), what="query project"
        )
    except TableIdError as error:
        raise FatalProviderError(str(error)) from None
    raw = options.get("service_ids") or list(SERVICES)
    services = tuple(str(item) for item in raw) if isinstance(raw, list | tuple) else ()
    bad = [item for item in services if not SERVICE_ID.fullmatch(item)]
    if not services or bad:
        raise FatalProviderError(
            f"Service IDs look like C7E2-9256-1C43 (Vertex AI); not {', '.join(map(repr, bad)) or 'none'}."
        )
    return table, query_project, services


class GcpConnector:
    """Reads the AI services' rows of one Cloud Billing detailed export table."""

    provider = "gcp"
    # Priority and flex usage are SKUs of their own in the export, billed apart from standard.
    billed_tiers: frozenset[str] = frozenset({"priority", "flex"})
    # The export has no API-key dimension at all.
    costs_by_key = False

    def __init__(self, reader: BigQueryReader, services: tuple[str, ...]) -> None:
        self.reader = reader
        self.table = reader.table
        self.services = services
        # Rows of a day (or project) cut by a page boundary, keyed by the cursor that continues it.
        self._held: dict[str, list[dict[str, Any]]] = {}
        self._warned: set[str] = set()

    @classmethod
    def create(
        cls, http: httpx.Client, reveal_key: Callable[[], str], base_url: str, options: Mapping[str, object]
    ) -> GcpConnector:
        """Build a connector for the table in ``options``; ``base_url`` is the BigQuery endpoint."""
        from aispend.providers.gcp.client import BigQueryReader  # google-cloud-bigquery loads only here

        table, query_project, services = _options(options)
        endpoint = None if base_url.rstrip("/") == BIGQUERY_API else base_url
        timeout = http.timeout.read or 60.0
        return cls(BigQueryReader(table, query_project, endpoint, timeout), services)

    def identify(self) -> ProviderAccount:
        """Check the table is a readable detailed export, then name its billing account(s).

        Three calls, each checking one thing the sync needs: the table's schema (it exists,
        this identity may see it, and it is the detailed export), a dry run of the cost query
        (this identity may run jobs in the query project and read the table's data) and the
        billing accounts in recent partitions (for the connection's name and to refuse
        connecting the same account twice).
        """
        fields = self.reader.table_fields()
        missing = [name for name in REQUIRED_FIELDS if name not in fields]
        if missing:
            raise FatalProviderError(
                f"The table {self.table} is not a Cloud Billing export table: it has no "
                f"{', '.join(missing)}.",
                next_step=SETUP,
            )
        if not all(column in fields for column in DETAILED_ONLY):
            raise FatalProviderError(
                f"The table {self.table} is the standard usage cost export; aispend needs the detailed "
                f"usage cost export, which also has {' and '.join(DETAILED_ONLY)} columns (resource-level "
                "rows and prices).",
                next_step=SETUP + " The detailed export backfills the current and previous month.",
            )
        today = datetime.now(UTC).date()
        self.reader.dry_run(cost_query(self.table, restated_from(COST_STREAM, today), today, self.services))
        accounts = parse_accounts(self._all_rows(accounts_query(self.table, today)))
        if accounts:
            account_id = "+".join(accounts)
        else:
            # A new export has no rows yet: its table is named after the billing account.
            match = EXPORT_TABLE.fullmatch(self.table.table)
            account_id = "-".join(match.groups()) if match else str(self.table)
        name = f"billing account {account_id} (export {self.table})"
        return ProviderAccount(account_id, name, frozenset(accounts or [account_id]))

    def streams(self) -> Sequence[StreamSpec]:
        return STREAMS

    def fetch(self, stream: StreamSpec, start: date, end: date, cursor: str | None) -> FetchedPage:
        if stream.name == "projects":
            page = self._page(projects_query(self.table, start, self.services), cursor)
            rows = self._whole(page, cursor, "project_id")
            return FetchedPage(directory=parse_projects(rows), next_cursor=page.cursor)
        if stream.name == COST:
            page = self._page(cost_query(self.table, start, end, self.services), cursor)
            days = parse_cost_rows(self._whole(page, cursor, "usage_day"), stream.name)
            self._warn_unparsed(days)
            return FetchedPage(days=days, next_cursor=page.cursor)
        if stream.name == USAGE:
            page = self._page(usage_query(self.table, start, end, self.services), cursor)
            days = parse_usage_rows(self._whole(page, cursor, "usage_day"), stream.name)
            return FetchedPage(days=days, next_cursor=page.cursor)
        raise ValueError(f"unknown Google Cloud stream {stream.name!r}")

    def _warn_unparsed(self, days: Sequence[DayRecords]) -> None:
        """Log each SKU the parser cannot read, once per run; its cost is kept with no model."""
        for day in days:
            for record in day.cost:
                if record.cost_type == UNPARSED and record.sku_id not in self._warned:
                    self._warned.add(record.sku_id)
                    log.warning(
                        "Google Cloud SKU %s (%r) in %s is not understood: its cost is kept with no model "
                        "as cost type %s. Add the SKU to aispend.providers.gcp.skus.SKU_OVERRIDES.",
                        record.sku_id,
                        record.description,
                        self.table,
                        UNPARSED,
                    )

    def _page(self, query: Query, cursor: str | None) -> ResultPage:
        return self.reader.first_page(query) if cursor is None else self.reader.page_at(cursor)

    def _all_rows(self, query: Query) -> list[dict[str, Any]]:
        page = self.reader.first_page(query)
        rows = list(page.rows)
        while page.cursor is not None:
            page = self.reader.page_at(page.cursor)
            rows += page.rows
        return rows

    def _whole(self, page: ResultPage, cursor: str | None, group: str) -> list[dict[str, Any]]:
        """The page's rows minus a trailing group the next page continues, plus one held back before."""
        rows = (self._held.pop(cursor, []) if cursor is not None else []) + page.rows
        if page.cursor is None or not rows:
            return rows
        last = rows[-1][group]
        cut = len(rows)
        while cut > 0 and rows[cut - 1][group] == last:
            cut -= 1
        self._held[page.cursor] = rows[cut:]
        return rows[:cut]

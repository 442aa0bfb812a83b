"""The spend pages: Overview (``/``), Explorer (``/explore`` and its CSV), Sync health (``/sync``)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy import select
from starlette.responses import Response

from aispend.providers.registry import PROVIDERS
from aispend.reports.dimensions import (
    NON_TOKEN_LABELS,
    SERVICE_TIER_LABELS,
    TOKEN_KIND_LABELS,
    TOKEN_KINDS,
)
from aispend.reports.queries import (
    GROUPINGS,
    PERIODS,
    UNATTRIBUTED,
    Grouping,
    SpendFilters,
    SpendReport,
    SpendRow,
    spend_report,
)
from aispend.store.schema import Connection
from aispend.web.dashboard import (
    connection_statuses,
    model_detail,
    overview,
    plain,
    provider_label,
    sync_runs,
    sync_totals,
)
from aispend.web.deps import RuntimeDep, SpendViewer, connection_named, org_db, report_days
from aispend.web.filters import SpendFiltersQuery
from aispend.web.pages.account import organisations
from aispend.web.templating import render

__all__ = ["EXPLORER_COLUMNS", "explorer_rows", "router"]

router = APIRouter(include_in_schema=False)

Sort = Literal["label", "cost", "input", "cache_write", "cache_read", "output"]
# (sort key, heading, SpendRow attribute): the Explorer's table, its CSV and its chart share these.
EXPLORER_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("cost", "Cost (USD)", "cost_usd"),
    ("input", "Input tokens", "input_tokens"),
    ("cache_write", "Cache write tokens", "cache_write_tokens"),
    ("cache_read", "Cache read tokens", "cache_read_tokens"),
    ("output", "Output tokens", "output_tokens"),
)
GROUPING_LABELS = {
    "provider": "Provider",
    "model": "Model",
    "workspace": "Workspace",
    "project": "Project",
    "api-key": "API key",
    "user": "User",
    "product": "Product",
    "token-kind": "Token kind",
    "service-tier": "Service tier",
    "day": "Day",
    "week": "Week",
    "month": "Month",
}
# (query parameter, heading): the Explorer's dimension filters, in the form's order.
FILTER_LABELS: tuple[tuple[str, str], ...] = (
    ("model", "Model"),
    ("workspace", "Workspace or project"),
    ("api_key", "API key"),
    ("user", "User"),
    ("product", "Product"),
    ("service_tier", "Service tier"),
    ("token_kind", "Token kind"),
)
TOKEN_KIND_CHOICES = {
    **{kind: TOKEN_KIND_LABELS[kind] for kind in TOKEN_KINDS},
    **{kind: label for kind, label in NON_TOKEN_LABELS.items() if kind},
    "codex": "Codex (credits at contract rate)",
}
# Grouping -> (the filter its row key sets, the grouping to show next): a row label's drill-down.
DRILL_DOWN: dict[str, tuple[str, str]] = {
    "workspace": ("workspace", "model"),
    "project": ("workspace", "model"),
    "api-key": ("api_key", "model"),
    "user": ("user", "model"),
    "product": ("product", "day"),
    "token-kind": ("token_kind", "model"),
    "service-tier": ("service_tier", "day"),
}
SinceQuery = Annotated[date | None, Query(description="First UTC day, inclusive")]
UntilQuery = Annotated[date | None, Query(description="Last UTC day, inclusive")]


def _today() -> date:
    return datetime.now(UTC).date()


@router.get("/")
def overview_page(
    request: Request,
    principal: SpendViewer,
    runtime: RuntimeDep,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> Response:
    first, last = report_days(since, until)
    try:
        data = overview(lambda: org_db(runtime, principal), principal.org_id, _today(), first, last)
    except ValueError as error:
        raise HTTPException(422, detail=str(error)) from None
    chart = data.as_json()["daily"]
    context = {
        "data": data,
        "chart": chart,
        "provider_label": provider_label,
        "organisations": organisations(runtime, principal),
        "nav": "overview",
    }
    return render(request, "overview.html", context)


def explorer_rows(report: SpendReport, sort: str, order: str) -> list[SpendRow]:
    """The report's rows in the Explorer's order (the CSV and the table use the same)."""
    rows = list(report.rows)
    if sort == "label" and report.by in PERIODS:
        # Periods sort by their date, not by the words of their label.
        rows.sort(key=lambda row: row.key or "", reverse=order == "desc")
    elif sort == "label":
        rows.sort(key=lambda row: row.label.lower(), reverse=order == "desc")
    else:
        attribute = next(attr for key, _heading, attr in EXPLORER_COLUMNS if key == sort)
        rows.sort(key=lambda row: getattr(row, attribute), reverse=order == "desc")
    return rows


def _explore(
    runtime: RuntimeDep,
    principal: SpendViewer,
    by: str,
    since: date | None,
    until: date | None,
    provider: str | None,
    connection: str | None,
    filters: SpendFilters,
) -> tuple[SpendReport, list[str]]:
    first, last = report_days(since, until)
    if by not in GROUPINGS:
        raise HTTPException(422, detail=f"cannot group by {by!r}; choose one of {', '.join(GROUPINGS)}")
    if provider and provider not in PROVIDERS:
        raise HTTPException(422, detail=f"unknown provider {provider!r}")
    with org_db(runtime, principal) as session:
        connection_id = connection_named(session, principal.org_id, connection)
        try:
            report = spend_report(
                session,
                principal.org_id,
                by=by,  # type: ignore[arg-type]
                since=first,
                until=last,
                connection_id=connection_id,
                provider=provider or None,
                filters=filters,
            )
        except ValueError as error:
            raise HTTPException(422, detail=str(error)) from None
        names = list(
            session.scalars(
                select(Connection.name).where(Connection.org_id == principal.org_id).order_by(Connection.name)
            )
        )
    return report, names


ByQuery = Annotated[Grouping, Query()]
SortQuery = Annotated[Sort, Query()]
OrderQuery = Annotated[Literal["asc", "desc"], Query()]
ProviderQuery = Annotated[str | None, Query(max_length=40)]
ConnectionQuery = Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$")]


@router.get("/explore")
def explore_page(
    request: Request,
    principal: SpendViewer,
    runtime: RuntimeDep,
    filters: SpendFiltersQuery,
    by: ByQuery = "model",
    since: SinceQuery = None,
    until: UntilQuery = None,
    provider: ProviderQuery = None,
    connection: ConnectionQuery = None,
    sort: SortQuery = "cost",
    order: OrderQuery = "desc",
) -> Response:
    chosen = {name: getattr(filters, name) or "" for name, _label in FILTER_LABELS}
    state = {
        "by": by,
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
        "provider": provider or "",
        "connection": connection or "",
        **chosen,
        "sort": sort,
        "order": order,
    }

    def link(**change: str) -> str:
        return "?" + urlencode({k: v for k, v in {**state, **change}.items() if v})

    try:
        report, names = _explore(runtime, principal, by, since, until, provider, connection, filters)
    except HTTPException as error:
        if error.status_code != 422 or not filters.active():
            raise
        cleared = {name: "" for name in chosen}
        refused = {
            "heading": "These filters cannot be combined",
            "text": f"{error.detail}.",
            "link": "/explore" + link(**cleared),
            "link_text": "Explorer without the filters",
        }
        return render(request, "message.html", refused, status=422)
    state.update(since=report.since.isoformat(), until=report.until.isoformat())
    rows = explorer_rows(report, sort, order)

    def drill(row: SpendRow) -> str | None:
        """Where a row's label leads: the same view narrowed to that row."""
        if not row.key or row.key == UNATTRIBUTED:
            return None
        if by == "model":
            return f"/models/{quote(row.key)}?since={state['since']}&until={state['until']}"
        if by == "provider":
            return link(provider=row.key, by="model")
        if by in PERIODS:
            first, last = _period_days(by, row.key)
            return link(since=first.isoformat(), until=last.isoformat(), by="day" if by != "day" else "model")
        name, then = DRILL_DOWN[by]
        return link(**{name: row.key, "by": then})

    total = report.total.cost_usd
    # A time chart runs in calendar order whatever the table's sort; the values are the table's.
    charted = sorted(rows, key=lambda row: row.key or "") if by in PERIODS else rows
    chart = {
        "kind": "time" if by in PERIODS else "bars",
        "labels": [row.label for row in charted],
        "cost_usd": [plain(row.cost_usd) for row in charted],
    }
    context: dict[str, Any] = {
        "report": report,
        "rows": rows,
        "values": _values,
        "share": lambda amount: _share(amount, total),
        "state": state,
        "link": link,
        "drill": drill,
        "csv_link": "/explore.csv" + link(),
        "columns": EXPLORER_COLUMNS,
        "groupings": GROUPING_LABELS,
        "filters": FILTER_LABELS,
        "tiers": SERVICE_TIER_LABELS,
        "kinds": TOKEN_KIND_CHOICES,
        "any_filter": bool(filters.active()),
        "clear_link": link(**{name: "" for name in chosen}),
        "providers": {p: provider_label(p) for p in PROVIDERS},
        "connections": names,
        "chart": chart,
        "nav": "explore",
    }
    return render(request, "explore.html", context)


def _period_days(by: str, key: str) -> tuple[date, date]:
    """The first and last day of a period row's key (``2026-11-23``, ``2026-W48``, ``2026-11``)."""
    if by == "day":
        day = date.fromisoformat(key)
        return day, day
    if by == "week":
        year, week = key.split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
        return monday, monday + timedelta(days=6)
    first = date.fromisoformat(f"{key}-01")
    following = (first + timedelta(days=31)).replace(day=1)
    return first, following - timedelta(days=1)


@router.get("/explore.csv")
def explore_csv(
    principal: SpendViewer,
    runtime: RuntimeDep,
    filters: SpendFiltersQuery,
    by: ByQuery = "model",
    since: SinceQuery = None,
    until: UntilQuery = None,
    provider: ProviderQuery = None,
    connection: ConnectionQuery = None,
    sort: SortQuery = "cost",
    order: OrderQuery = "desc",
) -> Response:
    """Exactly the Explorer's table: same rows, same order, cost at full precision."""
    report, _names = _explore(runtime, principal, by, since, until, provider, connection, filters)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([GROUPING_LABELS[by], *(heading for _k, heading, _a in EXPLORER_COLUMNS), "Share (%)"])
    total = report.total.cost_usd
    for row in explorer_rows(report, sort, order):
        writer.writerow([_csv_cell(row.label), *_values(row), _share(row.cost_usd, total)])
    name = f"aispend-{by}-{report.since}-{report.until}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _values(row: SpendRow) -> list[str]:
    return [
        plain(row.cost_usd) if attr == "cost_usd" else str(getattr(row, attr))
        for _k, _h, attr in EXPLORER_COLUMNS
    ]


def _share(amount: Decimal, total: Decimal) -> str:
    return f"{amount / total * 100:.1f}" if total else ""


def _csv_cell(text: str) -> str:
    # A provider-supplied name must not run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/models/{model:path}")
def model_page(
    request: Request,
    principal: SpendViewer,
    runtime: RuntimeDep,
    model: str,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> Response:
    first, last = report_days(since, until)
    with org_db(runtime, principal) as session:
        detail = model_detail(session, principal.org_id, model, first, last)
    if detail is None:
        context = {
            "heading": "No spend on this model",
            "text": f"Nothing was billed for {model!r} from {first} to {last}. Widen the period, "
            "or pick a model in the Explorer.",
            "link": "/explore?by=model",
            "link_text": "Explorer",
        }
        return render(request, "message.html", context, status=404)
    return render(request, "model.html", {"d": detail, "nav": "explore"})


@router.get("/sync")
def sync_page(request: Request, principal: SpendViewer, runtime: RuntimeDep) -> Response:
    with org_db(runtime, principal) as session:
        context: dict[str, Any] = {
            "connections": connection_statuses(session, principal.org_id, _today()),
            "totals": sync_totals(session, principal.org_id),
            "runs": sync_runs(session, principal.org_id, limit=100),
            "nav": "sync",
        }
    return render(request, "sync.html", context)

"""The dashboard pages' data as JSON under ``/api/v1``: overview, models, connections, sync runs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from aispend.web.api import SpendRowPublic
from aispend.web.dashboard import connection_statuses, model_detail, overview, sync_runs
from aispend.web.deps import RuntimeDep, SpendViewer, org_db, report_days

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")


class MonthToDatePublic(BaseModel):
    as_of: date = Field(description="Last complete UTC day counted")
    month_start: date
    month_end: date
    spend_usd: str = Field(description="This month's spend through as_of, decimal string")
    prior_since: date
    prior_until: date = Field(description="The same days of last month end here")
    prior_spend_usd: str
    change_percent: str | None = Field(description="Against the same days of last month; null if that was $0")
    forecast_usd: str = Field(description="Month-to-date plus the last 14 days' mean for the days left")
    forecast_low_usd: str = Field(description="Forecast with the daily mean minus one standard deviation")
    forecast_high_usd: str = Field(description="Forecast with the daily mean plus one standard deviation")


class DailySeriesPublic(BaseModel):
    provider: str
    label: str
    cost_usd: list[str] = Field(description="One decimal string per day of `days`")


class DailyPublic(BaseModel):
    days: list[date]
    series: list[DailySeriesPublic]


class TopPublic(BaseModel):
    title: str
    rows: list[SpendRowPublic]


class ConnectionStatusPublic(BaseModel):
    name: str
    provider: str
    provider_label: str
    provider_organization: str
    status: str
    key_fingerprint: str = Field(description="Never the key: a fingerprint such as sk-ant-admin…x7Qa")
    last_sync_at: datetime | None
    data_complete_through: date | None = Field(description="Last UTC day whose data is complete")
    last_error: str | None
    next_step: str | None = Field(description="What to do about last_error")
    syncing: bool = Field(description="A sync of this connection is running now")
    backfill_percent: float | None = Field(description="Share of the backfill window imported, 0-100")


class OverviewPublic(BaseModel):
    currency: str
    since: date
    until: date
    month_to_date: MonthToDatePublic
    total: SpendRowPublic = Field(description="Spend of [since, until]")
    daily: DailyPublic = Field(description="Daily spend per provider over [since, until]")
    top: dict[str, TopPublic] = Field(description="Top rows by model, project, api-key and user")
    connections: list[ConnectionStatusPublic]
    warnings: list[dict[str, Any]] = Field(description="Unpriced usage and credits, each with a message")


class ModelPublic(BaseModel):
    model: str
    label: str
    since: date
    until: date
    total: SpendRowPublic = Field(description="Cost and tokens by kind")
    list_cost_usd: str = Field(description="The same usage at list prices")
    cost_per_million_usd: str | None = Field(description="Effective cost per million tokens of every kind")
    list_per_million_usd: str | None = Field(description="List price per million tokens of every kind")
    cache_hit_ratio: str | None = Field(description="Cache reads over all input tokens, 0-1")
    batch_share: str | None = Field(description="Share of tokens sent through a batch API, 0-1")


class SyncRunPublic(BaseModel):
    id: int
    connection: str
    provider: str
    started_at: datetime
    finished_at: datetime | None
    status: str = Field(description="running, succeeded, failed or interrupted")
    requests: int
    rows: int
    duration_seconds: float | None
    error: str | None


def _today() -> date:
    return datetime.now(UTC).date()


@router.get("/overview", tags=["spend"])
def overview_data(
    principal: SpendViewer,
    runtime: RuntimeDep,
    since: Annotated[date | None, Query(description="First UTC day, inclusive; default 30 days ago")] = None,
    until: Annotated[date | None, Query(description="Last UTC day, inclusive; default yesterday")] = None,
) -> OverviewPublic:
    """The Overview page's data: month to date, forecast, daily spend by provider, top lists, freshness."""
    first, last = report_days(since, until)
    try:
        data = overview(lambda: org_db(runtime, principal), principal.org_id, _today(), first, last)
    except ValueError as error:
        raise HTTPException(422, detail=str(error)) from None
    return OverviewPublic.model_validate(data.as_json())


@router.get("/connections", tags=["connections"])
def connections(principal: SpendViewer, runtime: RuntimeDep) -> list[ConnectionStatusPublic]:
    """Every connection with its status, freshness, last error and backfill progress."""
    with org_db(runtime, principal) as session:
        return [
            ConnectionStatusPublic.model_validate(c.as_json())
            for c in connection_statuses(session, principal.org_id, _today())
        ]


@router.get("/models/{model:path}", tags=["spend"])
def model(
    principal: SpendViewer,
    runtime: RuntimeDep,
    model: Annotated[str, Path(max_length=200, pattern=r"^[^\x00]*$")],
    since: Annotated[date | None, Query(description="First UTC day, inclusive; default 30 days ago")] = None,
    until: Annotated[date | None, Query(description="Last UTC day, inclusive; default yesterday")] = None,
) -> ModelPublic:
    """One model: tokens by kind, effective cost per million tokens against list, cache hits, batch share."""
    first, last = report_days(since, until)
    with org_db(runtime, principal) as session:
        detail = model_detail(session, principal.org_id, model, first, last)
    if detail is None:
        raise HTTPException(404, detail=f"no spend on {model!r} from {first} to {last}")
    return ModelPublic.model_validate(detail.as_json())


@router.get("/sync-runs", tags=["connections"])
def runs(
    principal: SpendViewer, runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[SyncRunPublic]:
    """The latest sync runs, newest first: requests, rows, duration and error of each."""
    with org_db(runtime, principal) as session:
        return [SyncRunPublic.model_validate(run) for run in sync_runs(session, principal.org_id, limit)]

"""The FastAPI application: JSON API under ``/api/v1``, OpenAPI docs at ``/api/docs``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from aispend import __version__
from aispend.reports.queries import GROUPINGS, Grouping, report_period, spend_report
from aispend.runtime import Runtime
from aispend.store.schema import Connection

__all__ = ["create_app"]


class SpendRowPublic(BaseModel):
    key: str | None = Field(
        description="Provider id of the group; null for the Default workspace or no API key"
    )
    label: str = Field(description="Human name of the group")
    cost_usd: str = Field(description="Dollars as a decimal string at full stored precision, never rounded")
    input_tokens: int = Field(description="Uncached input tokens")
    cache_write_tokens: int = Field(description="Cache writes, 5-minute and 1-hour together")
    cache_read_tokens: int
    output_tokens: int


class SpendReportPublic(BaseModel):
    currency: str
    since: date = Field(description="First UTC day, inclusive")
    until: date = Field(description="Last UTC day, inclusive")
    by: Grouping
    rows: list[SpendRowPublic]
    total: SpendRowPublic


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="aispend",
        version=__version__,
        summary="AI token spend: usage and cost imported from AI providers, reconciled and reported.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.runtime = runtime

    @app.get("/healthz", tags=["health"])
    def healthz(runtime: RuntimeDep) -> dict[str, str]:
        """Liveness and database reachability."""
        with runtime.db.session() as session:
            session.execute(select(1))
        return {"status": "ok"}

    @app.get("/api/v1/spend", tags=["spend"])
    def spend(
        runtime: RuntimeDep,
        by: Annotated[Grouping, Query(description=f"One of: {', '.join(GROUPINGS)}")] = "model",
        since: Annotated[
            date | None, Query(description="First UTC day, inclusive; default 30 days ago")
        ] = None,
        until: Annotated[date | None, Query(description="Last UTC day, inclusive; default yesterday")] = None,
        connection: Annotated[str | None, Query(description="Only this connection (by name)")] = None,
    ) -> SpendReportPublic:
        """Spend grouped by one dimension: the same body as `aispend report spend --format json`."""
        try:
            since, until = report_period(since, until, datetime.now(UTC).date())
        except ValueError as error:
            raise HTTPException(422, detail=str(error)) from None
        with runtime.db.session() as session:
            connection_id = None
            if connection is not None:
                connection_id = session.scalar(
                    select(Connection.id).where(
                        Connection.org_id == runtime.org_id, Connection.name == connection
                    )
                )
                if connection_id is None:
                    raise HTTPException(404, detail=f"no connection named {connection!r}")
            report = spend_report(
                session, runtime.org_id, by=by, since=since, until=until, connection_id=connection_id
            )
            return SpendReportPublic.model_validate(report.as_json())

    return app

"""Local stand-in for the BigQuery REST API v2, serving a simulated Cloud Billing detailed export.

It answers the calls ``google-cloud-bigquery`` makes for aispend's queries, with their paths,
parameters and JSON shapes: ``tables.get`` (the schema check), ``jobs.insert`` (dry runs),
``jobs.query``, ``jobs.getQueryResults`` (``maxResults``, ``pageToken``, ``startIndex``) and
``jobs.get``. It refuses what BigQuery refuses, in BigQuery's error shape: an unknown table
(404 ``notFound``), an identity without BigQuery Data Viewer on the dataset or BigQuery Job User
on the query project (403 ``accessDenied``), a field the table does not have (400
``invalidQuery``, e.g. a detailed-only column on the standard export table), a missing query
parameter. Faults can be injected (500 ``internalError``, 503 ``backendError``, 403
``rateLimitExceeded``) and pages made small.

The data is :class:`~.simdata.SimulatedExport`; its ground truth is in :mod:`.simtruth`.
Serve it with :func:`aispend.providers.simserver.serve`; point the client at it with
``--bigquery-endpoint`` (it takes no credentials). Run it by hand with
``python -m aispend.providers.gcp.simulator --port 9050``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aispend.providers.gcp.simdata import SimulatedExport, SimulatorSettings
from aispend.providers.gcp.simquery import QUERY_SCHEMAS, BigQueryError, ParsedQuery, evaluate, parse_query
from aispend.providers.gcp.simschema import DETAILED_SCHEMA, STANDARD_SCHEMA, field_names
from aispend.providers.simserver import RunningSimulator, serve

__all__ = ["FAULTS", "BigQuerySimulator", "RecordedRequest", "RunningSimulator", "main", "serve"]

LOCATION = "US"
FAULTS: dict[str, tuple[int, str, str]] = {
    "500": (500, "internalError", "An internal error occurred and the request could not be completed."),
    "503": (503, "backendError", "Backend error. Job aborted."),
    "rate_limit": (
        403,
        "rateLimitExceeded",
        "Exceeded rate limits: too many api requests per user per method for this user_method.",
    ),
}
_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


@dataclass
class RecordedRequest:
    """One request as received: method, path, the query's name when it carried one."""

    method: str
    path: str
    query: str
    kind: str


@dataclass
class _Job:
    id: str
    project: str
    sql: str
    parsed: ParsedQuery
    rows: list[tuple[Any, ...]]
    labels: dict[str, str]
    created: float = field(default_factory=time.time)

    @property
    def reference(self) -> dict[str, str]:
        return {"projectId": self.project, "jobId": self.id, "location": LOCATION}


@dataclass
class _Fault:
    kind: str
    remaining: int
    route: str | None
    skip: int = 0


def _error(exc: BigQueryError) -> Response:
    body = {
        "error": {
            "code": exc.status,
            "message": exc.message,
            "errors": [{"message": exc.message, "domain": "global", "reason": exc.reason}],
            "status": _STATUS.get(exc.status, "UNKNOWN"),
        }
    }
    return JSONResponse(body, exc.status)


def _cell(value: Any, kind: str) -> dict[str, Any]:
    if value is None:
        return {"v": None}
    if kind == "TIMESTAMP":
        # The client asks for int64 microseconds (formatOptions.useInt64Timestamp).
        assert isinstance(value, datetime)
        return {"v": str(int(value.timestamp()) * 1_000_000 + value.microsecond)}
    if kind == "DATE":
        assert isinstance(value, date)
        return {"v": value.isoformat()}
    if kind == "NUMERIC":
        assert isinstance(value, Decimal)
        return {"v": format(value.normalize(), "f")}
    return {"v": str(value)}


def _schema(name: str) -> dict[str, Any]:
    return {
        "fields": [{"name": column, "type": kind, "mode": "NULLABLE"} for column, kind in QUERY_SCHEMAS[name]]
    }


class BigQuerySimulator:
    """The ASGI app, the simulated export, and the knobs tests turn (permissions, faults, page size)."""

    def __init__(self, settings: SimulatorSettings | None = None, *, max_page_rows: int = 0) -> None:
        self.export = SimulatedExport(settings or SimulatorSettings())
        self.settings = self.export.settings
        self.max_page_rows = max_page_rows
        self.can_read_table = True
        self.can_run_jobs = True
        self.requests: list[RecordedRequest] = []
        self._jobs: dict[str, _Job] = {}
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        prefix = "/bigquery/v2/projects/{project}"
        self.app = Starlette(
            routes=[
                Route(prefix + "/datasets/{dataset}/tables/{table}", self._route("table", self._tables_get)),
                Route(prefix + "/jobs", self._route("query", self._jobs_insert), methods=["POST"]),
                Route(prefix + "/queries", self._route("query", self._jobs_query), methods=["POST"]),
                Route(prefix + "/queries/{job}", self._route("results", self._query_results)),
                Route(prefix + "/jobs/{job}", self._route("job", self._jobs_get)),
                Route("/{path:path}", self._unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            ]
        )

    # --- the tables it serves --------------------------------------------------------------------

    @property
    def detailed_table(self) -> str:
        s = self.settings
        return f"{s.table_project}.{s.dataset}.gcp_billing_export_resource_v1_{s.table_suffix}"

    @property
    def standard_table(self) -> str:
        s = self.settings
        return f"{s.table_project}.{s.dataset}.gcp_billing_export_v1_{s.table_suffix}"

    @property
    def unrelated_table(self) -> str:
        """A table of the same dataset that is no billing export at all."""
        return f"{self.settings.table_project}.{self.settings.dataset}.invoices_summary"

    def _schemas(self) -> dict[str, list[dict[str, Any]]]:
        return {
            self.detailed_table: DETAILED_SCHEMA,
            self.standard_table: STANDARD_SCHEMA,
            self.unrelated_table: [
                {"name": name, "type": "STRING", "mode": "NULLABLE"} for name in ("month", "total")
            ],
        }

    # --- knobs ------------------------------------------------------------------------------------

    def inject(self, fault: str, times: int = 1, route: str | None = None, *, after: int = 0) -> None:
        """Answer ``times`` requests to ``route`` with ``fault`` (:data:`FAULTS`), once ``after`` have passed.

        Routes: ``table`` (tables.get), ``query`` (jobs.query and jobs.insert), ``results``
        (jobs.getQueryResults), ``job`` (jobs.get); None: any.
        """
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        with self._lock:
            self._faults.append(_Fault(fault, times, route, after))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def queries(self, name: str | None = None) -> list[RecordedRequest]:
        """The query requests received (runs and dry runs), of one query name if given."""
        return [r for r in self.requests if r.kind and (name is None or r.kind == name)]

    # --- request pipeline -------------------------------------------------------------------------

    def _route(
        self, route: str, handler: Callable[[Request, dict[str, Any]], Awaitable[dict[str, Any]]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            body = json.loads(await request.body() or b"{}") if request.method == "POST" else {}
            sql = body.get("query") or body.get("configuration", {}).get("query", {}).get("query", "")
            kind = sql.split("\n", 1)[0].removeprefix("-- aispend:") if sql.startswith("-- aispend:") else ""
            with self._lock:
                self.requests.append(
                    RecordedRequest(request.method, request.url.path, request.url.query, kind)
                )
                fault = self._take_fault(route)
            try:
                if fault is not None:
                    raise BigQueryError(*FAULTS[fault])
                return JSONResponse(await handler(request, body))
            except BigQueryError as exc:
                return _error(exc)

        return endpoint

    def _take_fault(self, route: str) -> str | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.route in (None, route):
                if fault.skip:
                    fault.skip -= 1
                    continue
                fault.remaining -= 1
                return fault.kind
        return None

    async def _unknown(self, request: Request) -> Response:
        return _error(BigQueryError(404, "notFound", f"Not found: URL {request.url.path}"))

    def _table_fields(self, table_id: str, action: str) -> set[str]:
        """Fields of ``table_id`` (``project.dataset.table``) for ``action``, or the error reading it gets."""
        shown = table_id.replace(".", ":", 1)
        schema = self._schemas().get(table_id)
        if not self.can_read_table:
            if action == "get":
                message = f"Permission bigquery.tables.get denied on table {shown} (or it may not exist)."
            else:
                message = (
                    f"User does not have permission to query table {shown}, or perhaps it does not exist."
                )
            raise BigQueryError(403, "accessDenied", f"Access Denied: Table {shown}: {message}")
        if schema is None:
            where = "" if action == "get" else f" was not found in location {LOCATION}"
            raise BigQueryError(404, "notFound", f"Not found: Table {shown}{where}")
        return field_names(schema)

    # --- the API ----------------------------------------------------------------------------------

    async def _tables_get(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        p = request.path_params
        table_id = f"{p['project']}.{p['dataset']}.{p['table']}"
        self._table_fields(table_id, "get")
        rows = len(self.export.rows)
        return {
            "kind": "bigquery#table",
            "id": f"{p['project']}:{p['dataset']}.{p['table']}",
            "tableReference": {"projectId": p["project"], "datasetId": p["dataset"], "tableId": p["table"]},
            "schema": {"fields": self._schemas()[table_id]},
            "timePartitioning": {"type": "DAY"},
            "numRows": str(rows),
            "numBytes": str(rows * 1200),
            "type": "TABLE",
            "location": LOCATION,
        }

    def _start(self, project: str, sql: str, parameters: Sequence[Mapping[str, Any]], labels: Any) -> _Job:
        if not self.can_run_jobs:
            raise BigQueryError(
                403,
                "accessDenied",
                f"Access Denied: Project {project}: User does not have bigquery.jobs.create permission in "
                f"project {project}.",
            )
        parsed = parse_query(sql, parameters, lambda table: self._table_fields(table, "query"))
        rows = evaluate(parsed, self.export.rows)
        job = _Job(uuid.uuid4().hex, project, sql, parsed, rows, dict(labels or {}))
        with self._lock:
            self._jobs[job.id] = job
        return job

    def _job_resource(self, job: _Job, dry_run: bool) -> dict[str, Any]:
        scanned = str(len(self.export.rows) * 200)
        return {
            "kind": "bigquery#job",
            "id": f"{job.project}:{LOCATION}.{job.id}",
            "jobReference": job.reference,
            "configuration": {
                "jobType": "QUERY",
                "dryRun": dry_run,
                "labels": job.labels,
                "query": {"query": job.sql, "useLegacySql": False},
            },
            "status": {"state": "DONE"},
            "statistics": {
                "creationTime": str(int(job.created * 1000)),
                "startTime": str(int(job.created * 1000)),
                "endTime": str(int(job.created * 1000)),
                "totalBytesProcessed": scanned,
                "query": {
                    "totalBytesProcessed": scanned,
                    "totalBytesBilled": "0" if dry_run else scanned,
                    "cacheHit": False,
                    "statementType": "SELECT",
                    "schema": _schema(job.parsed.name),
                },
            },
        }

    async def _jobs_insert(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        configuration = body.get("configuration", {})
        query = configuration.get("query", {})
        job = self._start(
            request.path_params["project"],
            query.get("query", ""),
            query.get("queryParameters", []),
            configuration.get("labels"),
        )
        dry_run = bool(configuration.get("dryRun"))
        if dry_run:
            with self._lock:
                del self._jobs[job.id]
        return self._job_resource(job, dry_run)

    async def _jobs_query(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        job = self._start(
            request.path_params["project"],
            body.get("query", ""),
            body.get("queryParameters", []),
            body.get("labels"),
        )
        if body.get("dryRun"):
            with self._lock:
                del self._jobs[job.id]
            return {
                "kind": "bigquery#queryResponse",
                "schema": _schema(job.parsed.name),
                "jobReference": {"projectId": job.project, "location": LOCATION},
                "totalBytesProcessed": str(len(self.export.rows) * 200),
                "jobComplete": True,
                "cacheHit": False,
            }
        return {"kind": "bigquery#queryResponse", **self._page(job, 0, body.get("maxResults"))}

    def _job(self, request: Request) -> _Job:
        job = self._jobs.get(request.path_params["job"])
        if job is None or job.project != request.path_params["project"]:
            raise BigQueryError(
                404, "notFound", f"Not found: Job {request.path_params['project']}:{LOCATION}."
            )
        return job

    async def _query_results(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        job = self._job(request)
        params = request.query_params
        if "startIndex" in params:
            offset = int(params["startIndex"])
        elif "pageToken" in params:
            offset = int(params["pageToken"].removeprefix("row-"))
        else:
            offset = 0
        limit = params.get("maxResults")
        return {"kind": "bigquery#getQueryResultsResponse", **self._page(job, offset, limit)}

    def _page(self, job: _Job, offset: int, max_results: Any) -> dict[str, Any]:
        size = len(job.rows) if max_results is None else int(max_results)
        if self.max_page_rows:
            size = min(size, self.max_page_rows)
        columns = QUERY_SCHEMAS[job.parsed.name]
        rows = job.rows[offset : offset + size]
        page: dict[str, Any] = {
            "schema": _schema(job.parsed.name),
            "jobReference": job.reference,
            "totalRows": str(len(job.rows)),
            "totalBytesProcessed": str(len(self.export.rows) * 200),
            "jobComplete": True,
            "cacheHit": False,
        }
        if size:
            page["rows"] = [
                {"f": [_cell(v, kind) for v, (_, kind) in zip(row, columns, strict=True)]} for row in rows
            ]
        if size and offset + size < len(job.rows):
            page["pageToken"] = f"row-{offset + size}"
        return page

    async def _jobs_get(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return self._job_resource(self._job(request), dry_run=False)


def main(argv: list[str] | None = None) -> None:
    """Serve a simulated export until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=9050)
    parser.add_argument("--days", type=int, default=100, help="days of history")
    parser.add_argument("--currency", default="USD", help="billing currency (USD, EUR or JPY)")
    args = parser.parse_args(argv)
    simulator = BigQuerySimulator(SimulatorSettings(history_days=args.days, currency=args.currency))
    server = serve(simulator, port=args.port)
    print(f"BigQuery simulator on {server.base_url}; table {simulator.detailed_table}. Ctrl-C stops.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()

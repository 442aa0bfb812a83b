"""Local stand-in for the OpenAI Admin API (usage, costs, projects, users, keys).

Serves the deterministic organisation of :mod:`.simdata` with the paths, parameters,
limits, pagination and error bodies of the real API (``/work/shared/reference/openai.md``
§1-4), plus the misbehaviour a connector has to survive: pacing 429s with
``retry-after``, injected 5xx/auth errors, stalls, truncated or HTML bodies and repeating
cursors.

This module holds the route table and the request pipeline (faults, authentication,
pacing, cursor loops) of :class:`OpenAISimulator`. Parameter parsing lives in
:mod:`.simparams`, response bodies in :mod:`.simreports`, the error shape and fault tables
in :mod:`.simerrors` and the uvicorn helper in :mod:`aispend.providers.simserver`;
``RunningSimulator`` and ``serve`` are re-exported from here, where callers import them.

Run it by hand with ``python -m aispend.providers.openai.simulator --port 9001``.
"""

from __future__ import annotations

import asyncio
import hmac
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aispend.providers.openai.simdata import OpenAISimulatorSettings, SimulatedOrganisation
from aispend.providers.openai.simerrors import (
    BODY_FAULTS,
    ERROR_FAULTS,
    GARBAGE,
    ApiError,
    bad,
    error_response,
    not_admin_key,
    wrong_key,
)
from aispend.providers.openai.simparams import (
    COST_GROUPS,
    COST_WIDTHS,
    USAGE_WIDTHS,
    array,
    parse_bool,
    parse_cost_filters,
    parse_group_by,
    parse_usage_filters,
    parse_window,
)
from aispend.providers.openai.simreports import (
    Result,
    cost_buckets,
    encode_json,
    envelope,
    list_page,
    usage_buckets,
)
from aispend.providers.openai.simrows import ENDPOINTS
from aispend.providers.simfaults import Misbehaviour
from aispend.providers.simserver import RunningSimulator, serve, serve_until_interrupted, simulator_arguments

__all__ = [
    "OpenAISimulator",
    "OpenAISimulatorSettings",
    "RecordedRequest",
    "RunningSimulator",
    "main",
    "serve",
]

BASE = "/v1/organization"


@dataclass
class RecordedRequest:
    """One request as received; the Authorization header is replaced by ``<redacted>``."""

    method: str
    path: str
    query: str
    headers: dict[str, str]


@dataclass(frozen=True)
class _Route:
    family: str  # requests of one family share a pace
    cursor_param: str | None  # "page" for reports, "after" for lists
    handler: Callable[[QueryParams, str | None], Result]  # (query, project id of the path)


class OpenAISimulator:
    """The ASGI app plus the knobs tests turn: faults, restatements, recorded requests."""

    def __init__(self, settings: OpenAISimulatorSettings | None = None) -> None:
        self.org = SimulatedOrganisation(settings)
        self.settings = self.org.settings
        self.requests: list[RecordedRequest] = []
        self._misbehaviour = Misbehaviour({*ERROR_FAULTS, *BODY_FAULTS})
        self._lock = threading.Lock()
        self._ids = random.Random(f"{self.settings.seed}:request-ids")
        self._routes: dict[str, _Route] = {
            f"{BASE}/usage/{name}": _Route(f"usage/{name}", "page", partial(self._usage, name))
            for name in ENDPOINTS
        }
        self._routes |= {
            f"{BASE}/costs": _Route("costs", "page", self._costs),
            f"{BASE}/projects": _Route("directory", "after", self._projects),
            f"{BASE}/users": _Route("directory", "after", self._users),
            f"{BASE}/admin_api_keys": _Route("directory", "after", self._admin_keys),
        }
        self._project_routes: dict[str, _Route] = {
            "api_keys": _Route("directory", "after", self._api_keys),
            "service_accounts": _Route("directory", "after", self._service_accounts),
            "users": _Route("directory", "after", self._project_users),
        }
        self.app = Starlette(
            routes=[
                Route(
                    "/{path:path}",
                    self._endpoint,
                    methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                )
            ]
        )

    def inject(self, fault: str, times: int = 1, path_prefix: str | None = None) -> None:
        """Make the next ``times`` requests under ``path_prefix`` (any path if None) misbehave.

        Faults: ``500``, ``503``, ``429`` (``retry-after: 1``), ``401``, ``403``, ``timeout``
        (stalls ``timeout_seconds`` before answering), ``truncated`` (half the JSON body),
        ``garbage`` (an HTML page with status 200) and ``repeat_cursor`` (the next cursor
        repeats the one the request carried, so a naive paginator loops). Injections queue
        up in order. ``times=0`` cancels the pending injections of ``fault`` (only those with
        this ``path_prefix`` when one is given), including cursors ``repeat_cursor`` armed.
        """
        self._misbehaviour.inject(fault, times, path_prefix)

    def restate(self, days: int = 3) -> None:
        """Revise the last ``days`` complete days (see ``SimulatedOrganisation.restate``)."""
        self.org.restate(days)

    # ------------------------------------------------------------------ plumbing

    def _request_id(self) -> str:
        with self._lock:
            return f"req_{self._ids.getrandbits(128):032x}"

    async def _endpoint(self, request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        if "authorization" in headers:
            headers["authorization"] = "<redacted>"
        self.requests.append(RecordedRequest(request.method, request.url.path, request.url.query, headers))
        request_id = self._request_id()
        try:
            response = await self._handle(request)
        except ApiError as exc:
            return error_response(exc, request_id)
        except Exception as exc:  # a simulator bug must still answer in the API's shape
            return error_response(ApiError(500, "server_error", f"simulator error: {exc}"), request_id)
        response.headers["x-request-id"] = request_id
        return response

    async def _handle(self, request: Request) -> Response:
        path = request.url.path
        fault = self._misbehaviour.take(path)
        if fault in ERROR_FAULTS:
            raise ERROR_FAULTS[fault]()
        if fault == "timeout":
            await asyncio.sleep(self.settings.timeout_seconds)
        route, project_id = self._resolve(request.method, path)
        self._authenticate(request)
        self._pace(route.family)
        params = request.query_params
        carried = params.get(route.cursor_param) if route.cursor_param else None
        result = route.handler(params, project_id)
        armed = False
        if carried is not None and route.cursor_param is not None:
            armed = self._misbehaviour.take_armed(route.cursor_param, carried)
        if fault == "repeat_cursor" or armed:
            self._repeat(route, result, carried)
        body = encode_json(result.payload).encode()
        if fault == "truncated":
            return Response(body[: len(body) // 2], 200, media_type="application/json")
        if fault == "garbage":
            return Response(GARBAGE, 200, media_type="text/html")
        return Response(body, 200, media_type="application/json")

    def _resolve(self, method: str, path: str) -> tuple[_Route, str | None]:
        """The route of ``path`` and the project id it names, if any."""
        clean = path.rstrip("/")
        route, project_id = self._routes.get(clean), None
        parts = clean.split("/")
        if route is None and len(parts) == 6 and clean.startswith(f"{BASE}/projects/"):
            route, project_id = self._project_routes.get(parts[5]), parts[4]
        if route is None:
            raise ApiError(404, "invalid_request_error", f"Invalid URL ({method} {path})", code="unknown_url")
        if method != "GET":
            # The real API creates and updates through some of these paths; the simulator only reads.
            raise ApiError(405, "invalid_request_error", f"Method {method} is not allowed on {path}")
        return route, project_id

    def _authenticate(self, request: Request) -> None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise ApiError(
                401,
                "invalid_request_error",
                "You didn't provide an API key. You need to provide your API key in an Authorization "
                "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if hmac.compare_digest(key.encode(), self.settings.admin_key.encode()):
            return
        if key.startswith("sk-") and not key.startswith("sk-admin-"):
            raise not_admin_key()  # sk-proj-..., sk-svcacct-... or a legacy user key sk-...
        raise wrong_key(f"{key[:9]}****{key[-4:]}" if len(key) > 16 else "****")

    def _pace(self, family: str) -> None:
        wait = self._misbehaviour.too_soon(family, self.settings.min_request_interval)
        if wait is not None:
            raise ApiError(
                429,
                "requests",
                f"Rate limit reached for {family} requests. Please try again in {wait}s.",
                code="rate_limit_exceeded",
                headers={"retry-after": str(wait)},
            )

    def _repeat(self, route: _Route, result: Result, carried: str | None) -> None:
        """Serve a cursor that loops: the one the request carried, or one armed to repeat."""
        if route.cursor_param is None:
            return
        payload = result.payload
        key = "next_page" if route.cursor_param == "page" else "last_id"
        payload["has_more"] = True
        if carried is not None:
            payload[key] = carried
            return
        cursor = payload.get(key) or result.self_cursor
        if cursor is not None:
            payload[key] = cursor
            self._misbehaviour.arm(route.cursor_param, cursor)

    # ------------------------------------------------------------------ reports

    def _usage(self, name: str, params: QueryParams, _project: str | None) -> Result:
        endpoint = ENDPOINTS[name]
        window = parse_window(params, USAGE_WIDTHS, self.org.today)
        groups = parse_group_by(params, endpoint.dims)
        filters = parse_usage_filters(params, endpoint)
        records = partial(self.org.usage_records, name)
        return envelope(window, usage_buckets(window, endpoint, records, groups, filters))

    def _costs(self, params: QueryParams, _project: str | None) -> Result:
        window = parse_window(params, COST_WIDTHS, self.org.today)
        groups = parse_group_by(params, COST_GROUPS)
        filters = parse_cost_filters(params)
        return envelope(window, cost_buckets(window, self.org.cost_records, groups, filters))

    # ------------------------------------------------------------------ directory

    def _projects(self, params: QueryParams, _project: str | None) -> Result:
        archived = bool(parse_bool(params, "include_archived"))
        return list_page(self.org.projects, params, lambda p: archived or p["archived_at"] is None)

    def _users(self, params: QueryParams, _project: str | None) -> Result:
        emails = {e.lower() for e in array(params, "emails")}
        return list_page(self.org.users, params, lambda u: not emails or u["email"].lower() in emails)

    def _admin_keys(self, params: QueryParams, _project: str | None) -> Result:
        order = params.get("order", "asc")
        if order not in ("asc", "desc"):
            raise bad(f"Invalid value: '{order}'. Supported values are: 'asc', 'desc'.", "order")
        keys = self.org.admin_keys
        return list_page(keys if order == "asc" else keys[::-1], params)

    def _in_project(
        self, table: dict[str, list[dict[str, Any]]], project: str | None
    ) -> list[dict[str, Any]]:
        if project not in table:
            raise ApiError(
                404, "invalid_request_error", f"No project found with id '{project}'.", code="not_found"
            )
        return table[project]

    def _api_keys(self, params: QueryParams, project: str | None) -> Result:
        access = params.get("owner_project_access", "any")
        if access not in ("active", "inactive", "any"):
            raise bad(
                f"Invalid value: '{access}'. Supported values are: 'active', 'inactive', 'any'.",
                "owner_project_access",
            )
        keys = self._in_project(self.org.api_keys, project)
        return list_page(keys, params, lambda k: access in ("any", k["owner_project_access"]))

    def _service_accounts(self, params: QueryParams, project: str | None) -> Result:
        return list_page(self._in_project(self.org.service_accounts, project), params)

    def _project_users(self, params: QueryParams, project: str | None) -> Result:
        return list_page(self._in_project(self.org.project_users, project), params)


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: serve a simulated organisation until interrupted."""
    args = simulator_arguments(
        argv,
        "python -m aispend.providers.openai.simulator",
        "Serve a simulated OpenAI Admin API with deterministic data.",
        9001,
    )
    settings = OpenAISimulatorSettings(
        seed=args.seed, today=args.today, history_days=args.days, min_request_interval=args.min_interval
    )
    serve_until_interrupted(
        OpenAISimulator(settings),
        args.host,
        args.port,
        lambda running: (
            f"OpenAI Admin API simulator of {settings.organization_name}: {running.base_url}/v1",
            f"admin key: {settings.admin_key}",
        ),
    )


if __name__ == "__main__":
    main()

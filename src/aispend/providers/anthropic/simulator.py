"""Local stand-in for the Anthropic Admin API (usage, cost, Claude Code, directory).

Serves the deterministic organisation of :mod:`simdata` with the paths, parameters, limits,
pagination and error bodies of the real API (``/work/shared/reference/anthropic.md`` §1-5),
plus the misbehaviour a connector has to survive: pacing 429s with ``retry-after``, injected
5xx/auth errors, stalls, truncated or HTML bodies and repeating cursors.

This module holds the route table and the request pipeline (faults, authentication,
pacing, cursor loops) of :class:`AnthropicSimulator`. Parameter parsing lives in
:mod:`.simparams`, response bodies in :mod:`.simreports`, the error shape and fault tables
in :mod:`.simerrors` and the uvicorn helper in :mod:`aispend.providers.simserver`; ``RunningSimulator`` and
``serve`` are re-exported from here, where callers import them.

Run it by hand with ``python -m aispend.providers.anthropic.simulator --port 9000``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aispend.providers.anthropic.simdata import SimulatedOrganisation, SimulatorSettings
from aispend.providers.anthropic.simerrors import (
    BODY_FAULTS,
    ERROR_FAULTS,
    GARBAGE,
    ApiError,
    bad,
    error_response,
)
from aispend.providers.anthropic.simparams import (
    COST_GROUPS,
    COST_WIDTHS,
    DATE_ONLY,
    FAST_MODE_BETA,
    USAGE_GROUPS,
    USAGE_WIDTHS,
    decode_cursor,
    encode_cursor,
    parse_group_by,
    parse_limit,
    parse_usage_filters,
    parse_window,
)
from aispend.providers.anthropic.simreports import Result, cost_buckets, envelope, list_page, usage_buckets
from aispend.providers.simfaults import Misbehaviour
from aispend.providers.simserver import RunningSimulator, serve, serve_until_interrupted, simulator_arguments

__all__ = ["AnthropicSimulator", "RecordedRequest", "RunningSimulator", "main", "serve"]


@dataclass
class RecordedRequest:
    """One request as received; credentials are replaced by ``<redacted>``."""

    method: str
    path: str
    query: str
    headers: dict[str, str]


@dataclass(frozen=True)
class _Route:
    family: str
    cursor_param: str | None
    handler: Callable[[QueryParams, Request], Result]


class AnthropicSimulator:
    """The ASGI app plus the knobs tests turn: faults, restatements, recorded requests."""

    def __init__(self, settings: SimulatorSettings | None = None) -> None:
        self.org = SimulatedOrganisation(settings)
        self.settings = self.org.settings
        self.requests: list[RecordedRequest] = []
        self._misbehaviour = Misbehaviour({*ERROR_FAULTS, *BODY_FAULTS})
        self._lock = threading.Lock()
        self._ids = random.Random(f"{self.settings.seed}:request-ids")
        base = "/v1/organizations"
        self._routes: dict[str, _Route] = {
            f"{base}/me": _Route("directory", None, self._me),
            f"{base}/usage_report/messages": _Route("usage", "page", self._messages),
            f"{base}/cost_report": _Route("cost", "page", self._cost),
            f"{base}/usage_report/claude_code": _Route("claude_code", "page", self._claude_code),
            f"{base}/workspaces": _Route("directory", "after_id", self._workspaces),
            f"{base}/api_keys": _Route("directory", "after_id", self._api_keys),
            f"{base}/users": _Route("directory", "after_id", self._users),
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

        Injections queue up in order. ``times=0`` cancels the pending injections of ``fault``
        (only those with this ``path_prefix`` when one is given), including cursors a
        ``repeat_cursor`` fault has armed to loop.
        """
        self._misbehaviour.inject(fault, times, path_prefix)

    def restate(self, days: int = 3) -> None:
        """Revise the last ``days`` complete days (see ``SimulatedOrganisation.restate``)."""
        self.org.restate(days)

    # ------------------------------------------------------------------ plumbing

    def _request_id(self) -> str:
        alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
        with self._lock:
            return "req_011C" + "".join(self._ids.choice(alphabet) for _ in range(20))

    async def _endpoint(self, request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        for secret in ("x-api-key", "authorization"):
            if secret in headers:
                headers[secret] = "<redacted>"
        self.requests.append(RecordedRequest(request.method, request.url.path, request.url.query, headers))
        request_id = self._request_id()
        try:
            response = await self._handle(request)
        except ApiError as exc:
            response = error_response(exc, request_id)
        except Exception as exc:  # a simulator bug must still answer in the API's shape
            response = error_response(ApiError(500, "api_error", f"simulator error: {exc}"), request_id)
        response.headers["request-id"] = request_id
        return response

    async def _handle(self, request: Request) -> Response:
        path = request.url.path
        fault = self._misbehaviour.take(path)
        if fault in ERROR_FAULTS:
            status, kind, message = ERROR_FAULTS[fault]
            raise ApiError(status, kind, message, {"retry-after": "1"} if status == 429 else None)
        if fault == "timeout":
            await asyncio.sleep(self.settings.timeout_seconds)
        route = self._resolve(path)
        if request.method != "GET":
            raise ApiError(405, "invalid_request_error", f"Method {request.method} is not allowed on {path}")
        self._authenticate(request)
        self._pace(route.family)
        params = request.query_params
        carried = params.get(route.cursor_param) if route.cursor_param else None
        result = route.handler(params, request)
        armed = False
        if carried is not None and route.cursor_param is not None:
            armed = self._misbehaviour.take_armed(route.cursor_param, carried)
        if fault == "repeat_cursor" or armed:
            self._repeat(route, result, carried)
        body = json.dumps(result.payload).encode()
        if fault == "truncated":
            return Response(body[: len(body) // 2], 200, media_type="application/json")
        if fault == "garbage":
            return Response(GARBAGE, 200, media_type="text/html")
        return Response(
            body,
            200,
            media_type="application/json",
            headers={"anthropic-organization-id": self.settings.organization_id},
        )

    def _resolve(self, path: str) -> _Route:
        route = self._routes.get(path.rstrip("/") or "/")
        if route is None:
            raise ApiError(404, "not_found_error", f"Not found: {path}")
        return route

    def _authenticate(self, request: Request) -> None:
        key = request.headers.get("x-api-key")
        if not key:
            raise ApiError(401, "authentication_error", "x-api-key header is required")
        if key.startswith("sk-ant-api03-"):
            raise ApiError(
                401,
                "authentication_error",
                "The Admin API requires an admin key (sk-ant-admin01-...); standard API keys cannot call it",
            )
        if not hmac.compare_digest(key.encode(), self.settings.admin_key.encode()):
            raise ApiError(401, "authentication_error", "invalid x-api-key")

    def _pace(self, family: str) -> None:
        wait = self._misbehaviour.too_soon(family, self.settings.min_request_interval)
        if wait is not None:
            raise ApiError(
                429,
                "rate_limit_error",
                f"Too many {family} requests; retry after {wait} s",
                {"retry-after": str(wait)},
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

    def _messages(self, params: QueryParams, request: Request) -> Result:
        window = parse_window(params, USAGE_WIDTHS, self.org.today)
        groups = parse_group_by(params, USAGE_GROUPS)
        filters = parse_usage_filters(params)
        beta = request.headers.get("anthropic-beta", "")
        if ("speed" in groups or params.getlist("speeds[]")) and FAST_MODE_BETA not in beta:
            raise bad(f"speed filters and grouping need the anthropic-beta: {FAST_MODE_BETA} header")
        return envelope(window, usage_buckets(window, self.org.usage_records, groups, filters))

    def _cost(self, params: QueryParams, request: Request) -> Result:
        window = parse_window(params, COST_WIDTHS, self.org.today)
        groups = parse_group_by(params, COST_GROUPS)
        return envelope(window, cost_buckets(window, self.org.cost_records, groups))

    def _claude_code(self, params: QueryParams, request: Request) -> Result:
        raw = params.get("starting_at")
        if not raw:
            raise bad("starting_at: field required")
        if not DATE_ONLY.fullmatch(raw):
            raise bad(f"starting_at: expected a UTC date in YYYY-MM-DD form, got {raw!r}")
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise bad(f"starting_at: invalid date {raw!r}") from None
        limit = parse_limit(params, 20, 1000, "")
        offset = 0
        if params.get("page"):
            # Offset paging within one day: the cursor is "<day>|<offset>" and must match the query.
            cursor_day, _, cursor_offset = decode_cursor(params["page"]).partition("|")
            if cursor_day != raw or not cursor_offset.isdigit():
                raise bad("page: cursor does not match this query")
            offset = int(cursor_offset)
        records = self.org.claude_code_records(day)
        chunk = records[offset : offset + limit]
        more = offset + limit < len(records)
        return Result(
            {
                "data": chunk,
                "has_more": more,
                "next_page": encode_cursor(f"{raw}|{offset + limit}") if more else None,
            },
            encode_cursor(f"{raw}|{offset}"),
        )

    # ------------------------------------------------------------------ directory

    def _me(self, params: QueryParams, request: Request) -> Result:
        return Result(
            {
                "id": self.settings.organization_id,
                "type": "organization",
                "name": self.settings.organization_name,
            }
        )

    def _workspaces(self, params: QueryParams, request: Request) -> Result:
        raw = params.get("include_archived", "false").lower()
        if raw not in ("true", "false", "1", "0"):
            raise bad(f"include_archived: expected a boolean, got {raw!r}")
        archived = raw in ("true", "1")
        return list_page(self.org.workspaces, params, lambda w: archived or w["archived_at"] is None)

    def _api_keys(self, params: QueryParams, request: Request) -> Result:
        status = params.get("status")
        if status is not None and status not in ("active", "inactive", "archived", "expired"):
            raise bad(f"status: invalid value {status!r}")
        workspace = params.get("workspace_id")
        creator = params.get("created_by_user_id")
        return list_page(
            self.org.api_keys,
            params,
            lambda k: (
                (status is None or k["status"] == status)
                and (workspace is None or k["workspace_id"] == workspace)
                and (creator is None or k["created_by"]["id"] == creator)
            ),
        )

    def _users(self, params: QueryParams, request: Request) -> Result:
        email = params.get("email")
        roles = set(params.getlist("roles[]"))
        return list_page(
            self.org.users,
            params,
            lambda u: (
                (email is None or u["email"].lower() == email.lower()) and (not roles or u["role"] in roles)
            ),
        )


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: serve a simulated organisation until interrupted."""
    args = simulator_arguments(
        argv,
        "python -m aispend.providers.anthropic.simulator",
        "Serve a simulated Anthropic Admin API with deterministic data.",
        9000,
    )
    settings = SimulatorSettings(
        seed=args.seed, today=args.today, history_days=args.days, min_request_interval=args.min_interval
    )
    serve_until_interrupted(
        AnthropicSimulator(settings),
        args.host,
        args.port,
        lambda running: (
            f"Anthropic Admin API simulator: {running.base_url}",
            f"admin key: {settings.admin_key}",
        ),
    )


if __name__ == "__main__":
    main()

"""Local stand-in for the Anthropic Admin API (usage, cost, Claude Code, directory).

Serves the deterministic organisation of :mod:`simdata` with the paths, parameters, limits,
pagination and error bodies of the real API (``/work/shared/reference/anthropic.md`` §1-5),
plus the misbehaviour a connector has to survive: pacing 429s with ``retry-after``, injected
5xx/auth errors, stalls, truncated or HTML bodies and repeating cursors.

Run it by hand with ``python -m aispend.providers.anthropic.simulator --port 9000``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import hmac
import json
import math
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aispend.providers.anthropic.simdata import (
    CENT_QUANTUM,
    CostRow,
    SimulatedOrganisation,
    SimulatorSettings,
    UsageRow,
)

__all__ = ["AnthropicSimulator", "RecordedRequest", "RunningSimulator", "main", "serve"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
# bucket_width -> (step, default limit, max limit)
_USAGE_WIDTHS = {
    "1d": (timedelta(days=1), 7, 31),
    "1h": (timedelta(hours=1), 24, 168),
    "1m": (timedelta(minutes=1), 60, 1440),
}
_COST_WIDTHS = {"1d": (timedelta(days=1), 7, 31)}
# Group fields every usage row carries (null unless grouped); `speed` appears only when grouped.
_ROW_DIMS = (
    "account_id",
    "api_key_id",
    "service_account_id",
    "workspace_id",
    "model",
    "service_tier",
    "context_window",
    "inference_geo",
)
_USAGE_GROUPS = tuple(sorted((*_ROW_DIMS, "speed")))
# Cost fields parsed out of the description: null unless grouped by it.
_DESCRIBED = (
    "cost_type",
    "description",
    "model",
    "token_type",
    "context_window",
    "service_tier",
    "inference_geo",
)
_COST_GROUPS = ("workspace_id", "description")
# filter parameter -> (dimension, allowed values or None for free text)
_USAGE_FILTERS: dict[str, tuple[str, frozenset[str] | None]] = {
    "api_key_ids[]": ("api_key_id", None),
    "workspace_ids[]": ("workspace_id", None),
    "account_ids[]": ("account_id", None),
    "service_account_ids[]": ("service_account_id", None),
    "models[]": ("model", None),
    "service_tiers[]": (
        "service_tier",
        frozenset({"standard", "batch", "priority", "priority_on_demand", "flex", "flex_discount"}),
    ),
    "context_window[]": ("context_window", frozenset({"0-200k", "200k-1M"})),
    "inference_geos[]": ("inference_geo", frozenset({"global", "us", "not_available"})),
    "speeds[]": ("speed", frozenset({"standard", "fast"})),
}
_FAST_MODE_BETA = "fast-mode-2026-02-01"
_ERROR_FAULTS: dict[str, tuple[int, str, str]] = {
    "404": (404, "not_found_error", "Not found"),
    "500": (500, "api_error", "Internal server error"),
    "529": (529, "overloaded_error", "Overloaded"),
    "503": (503, "api_error", "Service temporarily unavailable"),
    "429": (429, "rate_limit_error", "Rate limit exceeded; retry after the given delay"),
    "401": (401, "authentication_error", "invalid x-api-key"),
    "403": (403, "permission_error", "This key does not have permission to use this resource"),
}
_BODY_FAULTS = ("timeout", "truncated", "garbage", "repeat_cursor")
_GARBAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>upstream connect error</p></body></html>"
)


class ApiError(Exception):
    """An error answered in the Anthropic error shape."""

    def __init__(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
        self.headers = headers or {}


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request_error", message)


@dataclass
class RecordedRequest:
    """One request as received; credentials are replaced by ``<redacted>``."""

    method: str
    path: str
    query: str
    headers: dict[str, str]


@dataclass
class _Fault:
    kind: str
    remaining: int
    path_prefix: str | None


@dataclass
class _Result:
    payload: dict[str, Any]
    self_cursor: str | None = None  # a cursor that re-reads this very page


@dataclass(frozen=True)
class _Route:
    family: str
    cursor_param: str | None
    handler: Callable[[QueryParams, Request], _Result]


# --------------------------------------------------------------------------- parameters


def _instant(name: str, raw: str) -> datetime:
    try:
        if _DATE_ONLY.fullmatch(raw):
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise _bad(f"{name}: invalid RFC 3339 datetime {raw!r}") from None
    # Naive values are read as UTC rather than refused: the docs never say either way.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _limit(params: QueryParams, default: int, maximum: int, what: str) -> int:
    raw = params.get("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad(f"limit: expected an integer, got {raw!r}") from None
    if not 1 <= value <= maximum:
        raise _bad(f"limit: must be between 1 and {maximum}{what}; got {value}")
    return value


def _floor(moment: datetime, step: timedelta) -> datetime:
    return _EPOCH + step * ((moment - _EPOCH) // step)


def _ceil(moment: datetime, step: timedelta) -> datetime:
    floor = _floor(moment, step)
    return floor if floor == moment else floor + step


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode_cursor(text: str) -> str:
    return "page_" + base64.b64encode(text.encode()).decode("ascii")


def _decode_cursor(raw: str) -> str:
    if not raw.startswith("page_"):
        raise _bad("page: invalid page token")
    try:
        return base64.b64decode(raw[5:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _bad("page: invalid page token") from None


def _group_by(params: QueryParams, allowed: tuple[str, ...]) -> tuple[str, ...]:
    chosen = params.getlist("group_by[]")
    for dim in chosen:
        if dim not in allowed:
            raise _bad(f"group_by[]: {dim!r} is not one of {', '.join(allowed)}")
    return tuple(dim for dim in allowed if dim in chosen)


def _cents(amount: Decimal) -> str:
    return f"{amount.quantize(CENT_QUANTUM, rounding=ROUND_HALF_EVEN):f}"


def _sort_key(key: tuple[str | None, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((v is not None, v or "") for v in key)


@dataclass(frozen=True)
class _Window:
    """Bucket boundaries of one report request and the slice this page serves."""

    start: datetime
    end: datetime
    step: timedelta
    page_start: datetime
    limit: int

    def buckets(self) -> list[datetime]:
        out: list[datetime] = []
        moment = self.page_start
        while moment < self.end and len(out) < self.limit:
            out.append(moment)
            moment += self.step
        return out


# --------------------------------------------------------------------------- simulator


class AnthropicSimulator:
    """The ASGI app plus the knobs tests turn: faults, restatements, recorded requests."""

    def __init__(self, settings: SimulatorSettings | None = None) -> None:
        self.org = SimulatedOrganisation(settings)
        self.settings = self.org.settings
        self.requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._armed: set[tuple[str, str]] = set()
        self._last_seen: dict[str, float] = {}
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
        if fault not in _ERROR_FAULTS and fault not in _BODY_FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            if times > 0:
                self._faults.append(_Fault(fault, times, path_prefix))
                return
            self._faults = [
                f
                for f in self._faults
                if f.kind != fault or (path_prefix is not None and f.path_prefix != path_prefix)
            ]
            if fault == "repeat_cursor":
                self._armed.clear()

    def restate(self, days: int = 3) -> None:
        """Revise the last ``days`` complete days (see ``SimulatedOrganisation.restate``)."""
        self.org.restate(days)

    # ------------------------------------------------------------------ plumbing

    def _take_fault(self, path: str) -> str | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and (fault.path_prefix is None or path.startswith(fault.path_prefix)):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault.kind
            return None

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
            response = _error_response(exc, request_id)
        except Exception as exc:  # a simulator bug must still answer in the API's shape
            response = _error_response(ApiError(500, "api_error", f"simulator error: {exc}"), request_id)
        response.headers["request-id"] = request_id
        return response

    async def _handle(self, request: Request) -> Response:
        path = request.url.path
        fault = self._take_fault(path)
        if fault in _ERROR_FAULTS:
            status, kind, message = _ERROR_FAULTS[fault]
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
            with self._lock:
                armed = (route.cursor_param, carried) in self._armed
                self._armed.discard((route.cursor_param, carried))
        if fault == "repeat_cursor" or armed:
            self._repeat(route, result, carried)
        body = json.dumps(result.payload).encode()
        if fault == "truncated":
            return Response(body[: len(body) // 2], 200, media_type="application/json")
        if fault == "garbage":
            return Response(_GARBAGE, 200, media_type="text/html")
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
        interval = self.settings.min_request_interval
        if interval <= 0:
            return
        now = time.monotonic()
        with self._lock:
            last = self._last_seen.get(family)
            if last is not None and now - last < interval:
                wait = max(1, math.ceil(interval - (now - last)))
                # Rejected calls do not reset the clock, so retry-after stays truthful.
                raise ApiError(
                    429,
                    "rate_limit_error",
                    f"Too many {family} requests; retry after {wait} s",
                    {"retry-after": str(wait)},
                )
            self._last_seen[family] = now

    def _repeat(self, route: _Route, result: _Result, carried: str | None) -> None:
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
            with self._lock:
                self._armed.add((route.cursor_param, cursor))

    # ------------------------------------------------------------------ reports

    def _window(self, params: QueryParams, widths: dict[str, tuple[timedelta, int, int]]) -> _Window:
        width = params.get("bucket_width", "1d")
        if width not in widths:
            raise _bad(f"bucket_width: must be one of {', '.join(widths)}; got {width!r}")
        step, default, maximum = widths[width]
        limit = _limit(params, default, maximum, f" for bucket_width {width}")
        raw_start = params.get("starting_at")
        if not raw_start:
            raise _bad("starting_at: field required")
        start = _floor(_instant("starting_at", raw_start), step)
        today = datetime.combine(self.org.today, datetime.min.time(), UTC)
        raw_end = params.get("ending_at")
        end = today
        if raw_end:
            requested = _ceil(_instant("ending_at", raw_end), step)
            if requested <= start:
                raise _bad("ending_at: must be after starting_at")
            end = min(requested, today)
        page_start = start
        if params.get("page"):
            page_start = _instant("page", _decode_cursor(params["page"]))
            if (
                page_start < start
                or page_start >= max(end, start + step)
                or _floor(page_start, step) != page_start
            ):
                raise _bad("page: cursor does not match this query")
        return _Window(start, end, step, page_start, limit)

    @staticmethod
    def _envelope(window: _Window, data: list[dict[str, Any]]) -> _Result:
        served = window.buckets()
        following = (served[-1] + window.step) if served else window.end
        more = following < window.end
        return _Result(
            {
                "data": data,
                "has_more": more,
                "next_page": _encode_cursor(_rfc3339(following)) if more else None,
            },
            _encode_cursor(_rfc3339(served[0] if served else window.page_start)),
        )

    def _messages(self, params: QueryParams, request: Request) -> _Result:
        window = self._window(params, _USAGE_WIDTHS)
        groups = _group_by(params, _USAGE_GROUPS)
        filters: list[tuple[str, set[str]]] = []
        for name, (dim, allowed) in _USAGE_FILTERS.items():
            values = params.getlist(name)
            if not values:
                continue
            bad = [v for v in values if allowed is not None and v not in allowed]
            if bad:
                raise _bad(f"{name}: invalid value {bad[0]!r}")
            filters.append((dim, set(values)))
        beta = request.headers.get("anthropic-beta", "")
        if ("speed" in groups or params.getlist("speeds[]")) and _FAST_MODE_BETA not in beta:
            raise _bad(f"speed filters and grouping need the anthropic-beta: {_FAST_MODE_BETA} header")
        parts = timedelta(days=1) // window.step
        memo: dict[tuple[date, bool], list[dict[str, Any]]] = {}
        data = []
        for bucket in window.buckets():
            key = (bucket.date(), bucket.time() == datetime.min.time())
            if key not in memo:
                memo[key] = _usage_results(self.org.usage_records(key[0]), parts, key[1], groups, filters)
            data.append(_bucket(bucket, window.step, memo[key]))
        return self._envelope(window, data)

    def _cost(self, params: QueryParams, request: Request) -> _Result:
        window = self._window(params, _COST_WIDTHS)
        groups = _group_by(params, _COST_GROUPS)
        data = []
        for bucket in window.buckets():
            data.append(
                _bucket(bucket, window.step, _cost_results(self.org.cost_records(bucket.date()), groups))
            )
        return self._envelope(window, data)

    def _claude_code(self, params: QueryParams, request: Request) -> _Result:
        raw = params.get("starting_at")
        if not raw:
            raise _bad("starting_at: field required")
        if not _DATE_ONLY.fullmatch(raw):
            raise _bad(f"starting_at: expected a UTC date in YYYY-MM-DD form, got {raw!r}")
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise _bad(f"starting_at: invalid date {raw!r}") from None
        limit = _limit(params, 20, 1000, "")
        offset = 0
        if params.get("page"):
            cursor_day, _, cursor_offset = _decode_cursor(params["page"]).partition("|")
            if cursor_day != raw or not cursor_offset.isdigit():
                raise _bad("page: cursor does not match this query")
            offset = int(cursor_offset)
        records = self.org.claude_code_records(day)
        chunk = records[offset : offset + limit]
        more = offset + limit < len(records)
        return _Result(
            {
                "data": chunk,
                "has_more": more,
                "next_page": _encode_cursor(f"{raw}|{offset + limit}") if more else None,
            },
            _encode_cursor(f"{raw}|{offset}"),
        )

    # ------------------------------------------------------------------ directory

    def _me(self, params: QueryParams, request: Request) -> _Result:
        return _Result(
            {
                "id": self.settings.organization_id,
                "type": "organization",
                "name": self.settings.organization_name,
            }
        )

    def _workspaces(self, params: QueryParams, request: Request) -> _Result:
        raw = params.get("include_archived", "false").lower()
        if raw not in ("true", "false", "1", "0"):
            raise _bad(f"include_archived: expected a boolean, got {raw!r}")
        archived = raw in ("true", "1")
        return _list_page(self.org.workspaces, params, lambda w: archived or w["archived_at"] is None)

    def _api_keys(self, params: QueryParams, request: Request) -> _Result:
        status = params.get("status")
        if status is not None and status not in ("active", "inactive", "archived", "expired"):
            raise _bad(f"status: invalid value {status!r}")
        workspace = params.get("workspace_id")
        creator = params.get("created_by_user_id")
        return _list_page(
            self.org.api_keys,
            params,
            lambda k: (
                (status is None or k["status"] == status)
                and (workspace is None or k["workspace_id"] == workspace)
                and (creator is None or k["created_by"]["id"] == creator)
            ),
        )

    def _users(self, params: QueryParams, request: Request) -> _Result:
        email = params.get("email")
        roles = set(params.getlist("roles[]"))
        return _list_page(
            self.org.users,
            params,
            lambda u: (
                (email is None or u["email"].lower() == email.lower()) and (not roles or u["role"] in roles)
            ),
        )


def _bucket(start: datetime, step: timedelta, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"starting_at": _rfc3339(start), "ending_at": _rfc3339(start + step), "results": results}


def _error_response(exc: ApiError, request_id: str) -> Response:
    body = {"type": "error", "error": {"type": exc.kind, "message": exc.message}, "request_id": request_id}
    return Response(json.dumps(body).encode(), exc.status, headers=exc.headers, media_type="application/json")


def _usage_results(
    rows: list[UsageRow],
    parts: int,
    first: bool,
    groups: tuple[str, ...],
    filters: list[tuple[str, set[str]]],
) -> list[dict[str, Any]]:
    """One day's rows, cut to one of ``parts`` equal sub-buckets, grouped and summed."""

    def value(row: UsageRow, dim: str) -> str | None:
        if dim in ("account_id", "service_account_id"):
            return None  # no OAuth or workload-identity traffic in this organisation
        if dim == "speed":
            return "standard"
        result: str | None = getattr(row, dim)
        return result

    sums: dict[tuple[str | None, ...], list[int]] = {}
    for row in rows:
        if any(value(row, dim) not in wanted for dim, wanted in filters):
            continue
        key = tuple(value(row, dim) for dim in groups)
        acc = sums.setdefault(key, [0] * 6)
        for i, measure in enumerate(row[7:]):
            # Remainders go to the first sub-bucket so the parts add up to the day exactly.
            acc[i] += measure // parts + (measure % parts if first else 0)
    out = []
    for key in sorted(sums, key=_sort_key):
        m = sums[key]
        if not any(m):
            continue
        named = dict(zip(groups, key, strict=True))
        item: dict[str, Any] = {
            "uncached_input_tokens": m[0],
            "cache_creation": {"ephemeral_1h_input_tokens": m[2], "ephemeral_5m_input_tokens": m[1]},
            "cache_read_input_tokens": m[3],
            "output_tokens": m[4],
            "server_tool_use": {"web_search_requests": m[5]},
        }
        item.update((dim, named.get(dim)) for dim in _ROW_DIMS)
        if "speed" in named:
            item["speed"] = named["speed"]
        out.append(item)
    return out


def _cost_results(rows: list[CostRow], groups: tuple[str, ...]) -> list[dict[str, Any]]:
    by_workspace = "workspace_id" in groups
    by_description = "description" in groups
    sums: dict[tuple[str | None, str | None], tuple[Decimal, CostRow]] = {}
    for row in rows:
        key = (row.workspace_id if by_workspace else None, row.description if by_description else None)
        total, sample = sums.get(key, (Decimal(0), row))
        sums[key] = (total + row.amount_cents, sample)
    out = []
    for key in sorted(sums, key=_sort_key):
        total, sample = sums[key]
        item: dict[str, Any] = {"amount": _cents(total), "currency": "USD"}
        item.update((name, getattr(sample, name) if by_description else None) for name in _DESCRIBED)
        item["workspace_id"] = key[0]
        out.append(item)
    return out


def _list_page(
    items: list[dict[str, Any]], params: QueryParams, keep: Callable[[dict[str, Any]], bool]
) -> _Result:
    """Keyset paging over a stable order, as the real list endpoints do with ids."""
    limit = _limit(params, 20, 1000, "")
    after, before = params.get("after_id"), params.get("before_id")
    if after and before:
        raise _bad("after_id and before_id cannot be used together")
    position = {item["id"]: i for i, item in enumerate(items)}
    for name, value in (("after_id", after), ("before_id", before)):
        if value and value not in position:
            raise _bad(f"{name}: unknown id {value!r}")
    kept = [(i, item) for i, item in enumerate(items) if keep(item)]
    if before:
        earlier = [item for i, item in kept if i < position[before]]
        chunk, more = earlier[-limit:], len(earlier) > limit
    else:
        later = [item for i, item in kept if not after or i > position[after]]
        chunk, more = later[:limit], len(later) > limit
    return _Result(
        {
            "data": chunk,
            "first_id": chunk[0]["id"] if chunk else None,
            "last_id": chunk[-1]["id"] if chunk else None,
            "has_more": more,
        }
    )


# --------------------------------------------------------------------------- serving


@dataclass
class RunningSimulator:
    """A simulator served by uvicorn on a loopback port in a daemon thread."""

    base_url: str
    port: int
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _socket: socket.socket = field(repr=False)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(sim: AnthropicSimulator, host: str = "127.0.0.1", port: int = 0) -> RunningSimulator:
    """Start serving ``sim``; returns once the port accepts connections (port 0 = any free)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY only then
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    actual = int(sock.getsockname()[1])
    config = uvicorn.Config(sim.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"anthropic-simulator:{actual}"
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"simulator did not start on {host}:{actual}")
        time.sleep(0.01)
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    return RunningSimulator(f"http://{shown}:{actual}", actual, server, thread, sock)


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: serve a simulated organisation until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m aispend.providers.anthropic.simulator",
        description="Serve a simulated Anthropic Admin API with deterministic data.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--days", type=int, default=400, help="days of history before today")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--today", type=date.fromisoformat, help="pretend today is this UTC date")
    parser.add_argument("--min-interval", type=float, default=0.0, help="seconds per endpoint family")
    args = parser.parse_args(argv)
    settings = SimulatorSettings(
        seed=args.seed, today=args.today, history_days=args.days, min_request_interval=args.min_interval
    )
    running = serve(AnthropicSimulator(settings), args.host, args.port)
    print(f"Anthropic Admin API simulator: {running.base_url}", flush=True)
    print(f"admin key: {settings.admin_key}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()


if __name__ == "__main__":
    main()

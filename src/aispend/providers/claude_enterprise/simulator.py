"""Local stand-in for the Claude Enterprise Analytics and Spend Limits APIs.

Serves the seeded organisation of :mod:`.simdata` with the reference's paths, parameters,
limits and error bodies (anthropic.md §6): scoped keys (403 naming the scope needed and the
scopes the key has), 60 requests a minute per organisation and API family (429 with
``retry-after``), cursors refused when reused with other parameters (400) or after a data
refresh (410), the top-100 groups of a bucket, and spend limits whose writes change what
later reads return. Faults from the Anthropic simulator's table can be injected, plus
``410`` (a data refresh before the next request that carries a cursor).

Run it by hand with ``python -m aispend.providers.claude_enterprise.simulator --port 9100``.
"""

from __future__ import annotations

import argparse
import hmac
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aispend.providers.anthropic.simerrors import ERROR_FAULTS, ApiError, bad, error_response
from aispend.providers.claude_enterprise.simdata import (
    READ_ANALYTICS,
    READ_LIMITS,
    WRITE_LIMITS,
    EnterpriseSettings,
    SimulatedEnterprise,
)
from aispend.providers.claude_enterprise.simlimits import SpendLimits
from aispend.providers.claude_enterprise.simreports import (
    Paging,
    bucketed_report,
    summaries,
    user_report,
    users_activity,
)
from aispend.providers.simfaults import Fault
from aispend.providers.simserver import RunningSimulator, serve

__all__ = ["ClaudeEnterpriseSimulator", "RunningSimulator", "main", "serve"]

FAULTS = {**ERROR_FAULTS, "410": (410, "invalid_request_error", "page: cursor expired after a data refresh")}
Handler = Callable[[Request], Awaitable[dict[str, Any]]]


@dataclass
class Recorded:
    """One request as received (never its key)."""

    method: str
    path: str
    query: str


class ClaudeEnterpriseSimulator:
    """The ASGI app plus the knobs tests turn: faults, restatements, data refreshes."""

    def __init__(self, settings: EnterpriseSettings | None = None) -> None:
        self.org = SimulatedEnterprise(settings)
        self.settings = self.org.settings
        self.limits = SpendLimits(self.org)
        self.paging = Paging()
        self.data_refreshed_at = datetime.combine(self.org.today, datetime.min.time(), UTC)
        self.requests: list[Recorded] = []
        self.rejected = 0  # requests answered 429
        self.restate_on_refresh: tuple[int, ...] = ()  # days a later refresh() revises
        self._faults: list[Fault] = []
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._ids = random.Random(f"{self.settings.seed}:request-ids")
        a, s = "/v1/organizations/analytics", "/v1/organizations/spend_limits"
        r = "/v1/organizations/spend_limit_increase_requests"
        routes = [
            (f"{a}/usage_report", "GET", self._usage),
            (f"{a}/cost_report", "GET", self._cost),
            (f"{a}/user_usage_report", "GET", self._user_usage),
            (f"{a}/user_cost_report", "GET", self._user_cost),
            (f"{a}/users", "GET", self._users),
            (f"{a}/summaries", "GET", self._summaries),
            (f"{s}/effective", "GET", self._effective),
            (f"{s}/{{limit_id}}", "GET", self._limit),
            (s, "POST", self._set_limit),
            (f"{s}/{{limit_id}}", "DELETE", self._delete_limit),
            (r, "GET", self._requests),
            (f"{r}/{{request_id}}", "GET", self._request),
            (f"{r}/{{request_id}}/approve", "POST", self._approve),
            (f"{r}/{{request_id}}/deny", "POST", self._deny),
        ]
        routes.append(("/{path:path}", "*", self._unknown))
        self.app = Starlette(
            routes=[
                Route(path, self._wrap(handler), methods=None if method == "*" else [method])
                for path, method, handler in routes
            ]
        )

    # ------------------------------------------------------------------ knobs

    def inject(self, fault: str, times: int = 1, path_prefix: str | None = None) -> None:
        """Answer the next ``times`` matching requests with ``fault`` (a status of the fault table).

        ``410`` hits only requests that carry a page cursor, and refreshes the data first.
        """
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self._faults.append(Fault(fault, times, path_prefix))

    def refresh(self) -> None:
        """A data refresh: the days in ``restate_on_refresh`` are revised, and every cursor
        handed out so far expires."""
        with self._lock:
            days, self.restate_on_refresh = self.restate_on_refresh, ()
            self.paging.generation += 1
            self.data_refreshed_at = datetime.now(UTC).replace(microsecond=0)
        self.org.restate(*days)

    def restate(self, *days_ago: int) -> None:
        """Revise the given days (cost data is revisable for 30 days)."""
        self.org.restate(*days_ago)

    # ------------------------------------------------------------------ pipeline

    def _take_fault(self, request: Request) -> str | None:
        carries_cursor = "page" in request.query_params
        with self._lock:
            for fault in self._faults:
                if fault.path_prefix is not None and not request.url.path.startswith(fault.path_prefix):
                    continue
                if fault.kind == "410" and not carries_cursor:
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault.kind
        return None

    def _wrap(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            self.requests.append(Recorded(request.method, request.url.path, request.url.query))
            with self._lock:
                request_id = "req_011C" + "".join(
                    self._ids.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(20)
                )
            try:
                fault = self._take_fault(request)
                if fault == "410":
                    self.refresh()
                elif fault is not None:
                    status, kind, message = FAULTS[fault]
                    raise ApiError(status, kind, message, {"retry-after": "1"} if status == 429 else None)
                self._authorise(request)
                payload = await handler(request)
            except ApiError as exc:
                if exc.status == 429:
                    self.rejected += 1
                response = error_response(exc, request_id)
            else:
                response = Response(json.dumps(payload).encode(), 200, media_type="application/json")
            response.headers["request-id"] = request_id
            return response

        return endpoint

    def _authorise(self, request: Request) -> None:
        key = request.headers.get("x-api-key", "")
        if not key:
            raise ApiError(401, "authentication_error", "x-api-key header is required")
        if key.startswith("sk-ant-admin"):
            raise ApiError(401, "authentication_error", "Admin API keys cannot call the Analytics API")
        scopes = next(
            (
                s
                for known, s in self.settings.scopes().items()
                if hmac.compare_digest(key.encode(), known.encode())
            ),
            None,
        )
        if scopes is None:
            raise ApiError(401, "authentication_error", "invalid x-api-key")
        analytics = "/analytics/" in request.url.path
        needed = READ_ANALYTICS if analytics else READ_LIMITS if request.method == "GET" else WRITE_LIMITS
        if needed not in scopes:
            raise ApiError(
                403,
                "permission_error",
                f"This API key does not have the scope this request needs: {needed}. "
                f"The key's scopes: {', '.join(scopes) or 'none'}.",
            )
        if not analytics and not self.settings.usage_credits:
            raise ApiError(
                403, "permission_error", "Spend limits need usage credits turned on for the organization"
            )
        self._pace("analytics" if analytics else "spend_limits")

    def _pace(self, family: str) -> None:
        budget, window = self.settings.rate_limit
        if budget <= 0:
            return
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(family, deque())
            while seen and now - seen[0] >= window:
                seen.popleft()
            if len(seen) >= budget:
                # Rejected calls do not count, so retry-after stays truthful.
                wait = max(1, math.ceil(seen[0] + window - now))
                raise ApiError(
                    429, "rate_limit_error", f"Rate limit of {budget} requests per {window:g} s exceeded",
                    {"retry-after": str(wait)},
                )  # fmt: skip
            seen.append(now)

    def _analytics(self, payload: dict[str, Any]) -> dict[str, Any]:
        payload["data_refreshed_at"] = self.data_refreshed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return payload

    # ------------------------------------------------------------------ analytics

    async def _usage(self, request: Request) -> dict[str, Any]:
        return self._analytics(bucketed_report(self.org, self.paging, request.query_params, cost=False))

    async def _cost(self, request: Request) -> dict[str, Any]:
        return self._analytics(bucketed_report(self.org, self.paging, request.query_params, cost=True))

    async def _user_usage(self, request: Request) -> dict[str, Any]:
        return self._analytics(user_report(self.org, self.paging, request.query_params, cost=False))

    async def _user_cost(self, request: Request) -> dict[str, Any]:
        return self._analytics(user_report(self.org, self.paging, request.query_params, cost=True))

    async def _users(self, request: Request) -> dict[str, Any]:
        return users_activity(self.org, self.paging, request.query_params)

    async def _summaries(self, request: Request) -> dict[str, Any]:
        return summaries(self.org, request.query_params)

    async def _unknown(self, request: Request) -> dict[str, Any]:
        raise ApiError(404, "not_found_error", f"Not found: {request.method} {request.url.path}")

    # ------------------------------------------------------------------ spend limits

    async def _effective(self, request: Request) -> dict[str, Any]:
        return self.limits.effective_list(request.query_params)

    async def _limit(self, request: Request) -> dict[str, Any]:
        return self.limits.configured(request.path_params["limit_id"])

    async def _set_limit(self, request: Request) -> dict[str, Any]:
        return self.limits.upsert(await _json(request))

    async def _delete_limit(self, request: Request) -> dict[str, Any]:
        return self.limits.delete(request.path_params["limit_id"])

    async def _requests(self, request: Request) -> dict[str, Any]:
        return self.limits.request_list(request.query_params)

    async def _request(self, request: Request) -> dict[str, Any]:
        return self.limits.request_body(self.limits.request(request.path_params["request_id"]))

    async def _approve(self, request: Request) -> dict[str, Any]:
        return self.limits.approve(request.path_params["request_id"], await _json(request))

    async def _deny(self, request: Request) -> dict[str, Any]:
        return self.limits.deny(request.path_params["request_id"], await _json(request))


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise bad("body: invalid JSON") from None


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: serve a simulated Claude Enterprise organisation until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m aispend.providers.claude_enterprise.simulator",
        description="Serve simulated Claude Enterprise Analytics and Spend Limits APIs.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--days", type=int, default=120, help="days of history before today")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--today", type=date.fromisoformat, help="pretend today is this UTC date")
    args = parser.parse_args(argv)
    settings = EnterpriseSettings(seed=args.seed, today=args.today, history_days=args.days)
    running = serve(ClaudeEnterpriseSimulator(settings), args.host, args.port)
    print(f"Claude Enterprise simulator: {running.base_url}", flush=True)
    print(f"key with every scope: {settings.full_key}", flush=True)
    print(f"read-only key: {settings.read_only_key}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()


if __name__ == "__main__":
    main()

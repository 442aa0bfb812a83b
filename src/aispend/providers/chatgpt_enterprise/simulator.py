"""Local stand-in for the ChatGPT Enterprise Codex Analytics API (reference openai.md §5.1).

Serves the workspace of :mod:`.simdata` at the reference's paths with its parameters
(``start_time``/``end_time`` in Unix seconds, ``group_by`` day or week, ``limit``/``page``),
its 90-day look-back, bearer keys (401 unknown, 403 without the scope or from another
organisation, 404 for another workspace), OpenAI-shaped errors, a per-minute budget answered
with 429 and ``retry-after``, and cursors refused when reused with other parameters. Rows
come in an order that is not by day, each in one of several shapes, with a few fields no
client knows, because the real shape is not public.

Run it by hand with ``python -m aispend.providers.chatgpt_enterprise.simulator --port 9200``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aispend.providers.chatgpt_enterprise.simdata import CodexDay, CodexSettings, CodexWorkspace
from aispend.providers.simserver import RunningSimulator, serve

__all__ = ["ChatGPTEnterpriseSimulator", "RunningSimulator", "main", "serve"]

SCOPE = "codex.enterprise.analytics.read"
FAULTS = {
    "429": (429, "rate_limit_exceeded", "Rate limit reached; retry after the given delay"),
    "500": (500, "server_error", "The server had an error while processing your request"),
    "503": (503, "server_error", "The service is temporarily unavailable"),
}


class ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.headers = status, kind, message, headers or {}

    def response(self) -> Response:
        body = {"error": {"message": self.message, "type": self.kind, "param": None, "code": self.kind}}
        return Response(json.dumps(body).encode(), self.status, self.headers, media_type="application/json")


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request_error", message)


def _unix(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp())


class ChatGPTEnterpriseSimulator:
    """The ASGI app plus the knobs tests turn: faults and recorded requests."""

    def __init__(self, settings: CodexSettings | None = None) -> None:
        self.workspace = CodexWorkspace(settings)
        self.settings = self.workspace.settings
        self.requests: list[str] = []
        self.rejected = 0
        self._faults: list[list[Any]] = []
        self._seen: deque[float] = deque()
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[Route("/v1/analytics/codex/workspaces/{workspace_id}/{endpoint}", self._endpoint)]
        )

    def inject(self, fault: str, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``fault`` (429, 500 or 503)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self._faults.append([fault, times])

    async def _endpoint(self, request: Request) -> Response:
        self.requests.append(f"{request.url.path}?{request.url.query}")
        try:
            self._fault()
            self._authorise(request)
            payload = self._handle(request.path_params["endpoint"], request.query_params)
        except ApiError as exc:
            if exc.status == 429:
                self.rejected += 1
            return exc.response()
        return Response(json.dumps(payload).encode(), 200, media_type="application/json")

    def _fault(self) -> None:
        with self._lock:
            if not self._faults:
                return
            fault = self._faults[0]
            fault[1] -= 1
            if fault[1] <= 0:
                self._faults.pop(0)
        status, kind, message = FAULTS[fault[0]]
        raise ApiError(status, kind, message, {"retry-after": "1"} if status == 429 else None)

    def _authorise(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            raise ApiError(401, "invalid_request_error", "You didn't provide an API key.")
        key = header[7:].encode()
        known = self.settings
        if hmac.compare_digest(key, known.unscoped_key.encode()):
            raise ApiError(
                403,
                "insufficient_permissions",
                f"You have insufficient permissions. Missing scopes: {SCOPE}.",
            )
        if hmac.compare_digest(key, known.other_org_key.encode()):
            raise ApiError(
                403, "insufficient_permissions", "The API key's organization does not own this workspace."
            )
        if not hmac.compare_digest(key, known.key.encode()):
            raise ApiError(401, "invalid_api_key", "Incorrect API key provided.")
        if request.path_params["workspace_id"] != known.workspace_id:
            raise ApiError(404, "not_found", f"Workspace {request.path_params['workspace_id']} not found.")
        self._pace()

    def _pace(self) -> None:
        budget, window = self.settings.rate_limit
        if budget <= 0:
            return
        now = time.monotonic()
        with self._lock:
            while self._seen and now - self._seen[0] >= window:
                self._seen.popleft()
            if len(self._seen) >= budget:
                wait = max(1, math.ceil(self._seen[0] + window - now))
                raise ApiError(429, "rate_limit_exceeded", "Rate limit reached.", {"retry-after": str(wait)})
            self._seen.append(now)

    # ------------------------------------------------------------------ pages

    def _window(self, params: QueryParams) -> tuple[date, date, str]:
        try:
            start = int(params.get("start_time", ""))
            end = int(params["end_time"]) if params.get("end_time") else int(time.time())
        except ValueError:
            raise _bad("start_time and end_time are Unix seconds") from None
        if start < time.time() - 90 * 86400:
            raise _bad("start_time must be within the last 90 days")
        if end <= start:
            raise _bad("end_time must be after start_time")
        group_by = params.get("group_by", "day")
        if group_by not in ("day", "week"):
            raise _bad("group_by must be day or week")
        first = datetime.fromtimestamp(start, UTC).date()
        last = datetime.fromtimestamp(end - 1, UTC).date() + timedelta(days=1)
        return first, min(last, self.workspace.today), group_by

    def _page(self, params: QueryParams, rows: list[dict[str, Any]]) -> dict[str, Any]:
        raw = params.get("limit", "50")
        if not raw.isdigit() or not 1 <= int(raw) <= 500:
            raise _bad("limit must be between 1 and 500")
        limit = int(raw)
        query = hashlib.sha256(json.dumps(sorted(p for p in params.multi_items() if p[0] != "page")).encode())
        offset = 0
        if params.get("page"):
            try:
                state = json.loads(base64.urlsafe_b64decode(params["page"]))
                same, offset = state["q"] == query.hexdigest()[:16], int(state["o"])
            except (binascii.Error, ValueError, KeyError, TypeError):
                raise _bad("page is not a valid cursor") from None
            if not same:
                raise _bad("page cursor does not match the query parameters")
        more = offset + limit < len(rows)
        cursor = json.dumps({"q": query.hexdigest()[:16], "o": offset + limit}).encode()
        return {
            "object": "page",
            "data": rows[offset : offset + limit],
            "has_more": more,
            "next_page": base64.urlsafe_b64encode(cursor).decode() if more else None,
        }

    def _handle(self, endpoint: str, params: QueryParams) -> dict[str, Any]:
        first, last, group_by = self._window(params)
        days = [first + timedelta(days=n) for n in range((last - first).days)]
        if endpoint == "usage":
            if group_by == "week" or params.get("group") == "workspace":
                raise _bad("this simulator serves daily per-user usage only")
            uses = [use for day in days for use in self.workspace.days_of(day)]
            # Not by day: by person, then day (the real order is not documented).
            uses.sort(key=lambda use: (use.user_id, use.day))
            return self._page(params, [self._usage_row(use) for use in uses])
        if endpoint in ("code_reviews", "code_review_responses"):
            rows = []
            for day in days:
                review = self.workspace.reviews_of(day)
                if review is not None:
                    row: dict[str, Any] = {
                        "object": f"codex.{endpoint}",
                        "start_time": _unix(day),
                        "end_time": _unix(day + timedelta(days=1)),
                        "pull_request_reviews": review.pull_request_reviews,
                        "comments": sum(review.comments.values()),
                    }
                    if endpoint == "code_reviews":
                        row["comment_details"] = review.comments
                    else:
                        row.update(
                            replies=review.replies,
                            reactions=sum(review.reactions.values()),
                            reaction_details=review.reactions,
                            comment_response_details=review.responses,
                        )
                    rows.append(row)
            return self._page(params, rows)
        raise ApiError(404, "not_found", f"Unknown endpoint {endpoint}.")

    def _usage_row(self, use: CodexDay) -> dict[str, Any]:
        shape = self.workspace.shape_of(use)
        as_text = shape == "strings"

        def num(value: int) -> int | str:
            return str(value) if as_text else value

        def credits(value: Decimal) -> float | str:
            # JSON numbers (read back exactly by a Decimal-parsing client) or decimal strings.
            return f"{value:f}" if as_text else float(value)

        clients = [
            {
                "client_id": c.client_id,
                "threads": num(c.threads),
                "turns": num(c.turns),
                "credits": credits(c.credits),
                "uncached_text_input_tokens": num(c.uncached),
                "cached_text_input_tokens": num(c.cached),
                "text_output_tokens": num(c.output),
                "text_total_tokens": num(c.uncached + c.cached + c.output),
            }
            for c in use.clients
        ]
        if as_text and clients:
            clients[0]["surface"] = "terminal"  # a field nobody documents
        models: list[dict[str, Any]] = [
            {"model": m.model, "credits": credits(m.credits)} | ({"speed": m.speed} if m.speed else {})
            for m in use.models
        ]
        totals = {
            "threads": num(sum(c.threads for c in use.clients)),
            "turns": num(sum(c.turns for c in use.clients)),
            "credits": credits(use.credits),
        }
        start, end = _unix(use.day), _unix(use.day + timedelta(days=1))
        row: dict[str, Any] = {"object": "codex.usage", "start_time": start, "end_time": end}
        if shape == "actor":
            row["actor"] = {"type": "user", "user_id": use.user_id, "email": use.email}
            row["cohort"] = "early-access"  # a field nobody documents
            return row | {"totals": totals, "clients": clients, "models": models}
        if shape == "flat":
            row["start_time"] = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return row | {"user_email": use.email, "clients": clients, "models": models}
        row |= {"user_id": use.user_id, "email": use.email, "totals": totals}
        if shape == "totals_only":
            return row
        if as_text:
            row["start_time"] = use.day.isoformat()
        lines = sum(c.output for c in use.clients) // 40
        return row | {"clients": clients, "models": models, "code_attribution": {"lines_added": lines}}


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: serve a simulated ChatGPT Enterprise workspace until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m aispend.providers.chatgpt_enterprise.simulator",
        description="Serve a simulated ChatGPT Enterprise Codex Analytics API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--days", type=int, default=120, help="days of history before today")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    settings = CodexSettings(seed=args.seed, history_days=args.days)
    running = serve(ChatGPTEnterpriseSimulator(settings), args.host, args.port)
    print(f"ChatGPT Enterprise Codex Analytics simulator: {running.base_url}", flush=True)
    print(f"workspace id: {settings.workspace_id}; key: {settings.key}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()


if __name__ == "__main__":
    main()

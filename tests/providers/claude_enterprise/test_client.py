"""Claude Enterprise client and paging through ``httpx.MockTransport``: scoped 403s, 410 restarts,
the 100-group fallback to hourly buckets, whole windows of per-user rows, readable windows."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from aispend.model import UsageRecord
from aispend.providers.auth import RevealedKeyAuth
from aispend.providers.base import FatalProviderError, FetchedPage, StreamSpec
from aispend.providers.chunks import MAX_RESTARTS, WholeWindowPager, WindowPart
from aispend.providers.claude_enterprise import buckets
from aispend.providers.claude_enterprise.client import ClaudeEnterpriseClient, CursorExpiredError, ScopeError
from aispend.providers.claude_enterprise.connector import (
    STREAMS,
    ClaudeEnterpriseConnector,
    check_enterprise_key_format,
    readable_window,
)
from aispend.providers.claude_enterprise.spendlimits import probe_capabilities

TODAY = date(2026, 6, 30)
Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler) -> ClaudeEnterpriseClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return ClaudeEnterpriseClient(
        http, RevealedKeyAuth("x-api-key", lambda: "sk-ant-api01-test"), "https://api.test"
    )


def error(status: int, message: str, kind: str = "permission_error") -> httpx.Response:
    return httpx.Response(status, json={"type": "error", "error": {"type": kind, "message": message}})


def stream(name: str) -> StreamSpec:
    return next(s for s in STREAMS if s.name == name)


def test_key_format() -> None:
    check_enterprise_key_format("sk-ant-api01-abc")
    for key, hint in (
        ("sk-ant-admin01-x", "connect anthropic"),
        ("sk-ant-api03-x", "regular API key"),
        ("sk-x", "not an"),
    ):
        with pytest.raises(FatalProviderError, match=hint):
            check_enterprise_key_format(key)


def test_a_403_about_scopes_names_the_missing_and_the_held_ones() -> None:
    message = (
        "This API key does not have the scope this request needs: write:spend_limits. "
        "The key's scopes: read:analytics, read:spend_limits."
    )
    api = client(lambda request: error(403, message))
    with pytest.raises(ScopeError) as raised:
        api.send("POST", "/v1/organizations/spend_limits", {"amount": "1"})
    assert raised.value.needed == "write:spend_limits"
    assert raised.value.granted == ["read:analytics", "read:spend_limits"]
    assert "lacks the write:spend_limits scope" in str(raised.value)


def test_other_403s_410s_and_write_timeouts() -> None:
    api = client(lambda request: error(403, "Spend limits need usage credits turned on"))
    with pytest.raises(FatalProviderError) as raised:
        api.get("/v1/organizations/spend_limits/effective")
    assert not isinstance(raised.value, ScopeError)
    expired = client(lambda request: error(410, "cursor expired", "invalid_request_error"))
    with pytest.raises(CursorExpiredError):
        expired.get("/v1/organizations/analytics/usage_report")

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    # A write that timed out may have happened: fatal, so nothing sends it twice.
    with pytest.raises(FatalProviderError, match="in time"):
        client(timeout).send("POST", "/v1/organizations/spend_limits", {})


def day_bucket(day: date, rows: int, hour: int | None = None) -> dict[str, Any]:
    start = f"{day.isoformat()}T{hour or 0:02d}:00:00Z"
    results = [
        {"amount": "100", "currency": "USD", "model": f"m{n}", "cost_type": "tokens"} for n in range(rows)
    ]
    return {"starting_at": start, "ending_at": start, "results": results}


def cost_page(data: list[Any], next_page: str | None = None) -> httpx.Response:
    body = {"data": data, "has_more": next_page is not None, "next_page": next_page, "organization_id": "o"}
    return httpx.Response(200, json=body)


def fetch_all(connector: ClaudeEnterpriseConnector, name: str, start: date, end: date) -> list[FetchedPage]:
    pages, cursor = [], None
    while True:
        page = connector.fetch(stream(name), start, end, cursor)
        pages.append(page)
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_a_410_restarts_at_the_first_day_not_yet_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buckets, "MAX_DAY_BUCKETS", 2)
    start = TODAY - timedelta(days=6)
    seen: list[dict[str, Any]] = []
    expired = {"done": False}

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        first = date.fromisoformat(params["starting_at"][:10])
        offset = int(params.get("page", "0"))
        if offset == 4 and not expired["done"]:
            expired["done"] = True
            return error(410, "cursor expired after a data refresh", "invalid_request_error")
        days = [first + timedelta(days=offset + n) for n in range(2)]
        days = [d for d in days if d < date.fromisoformat(params["ending_at"][:10])]
        more = days and days[-1] + timedelta(days=1) < date.fromisoformat(params["ending_at"][:10])
        return cost_page([day_bucket(d, 2) for d in days], str(offset + 2) if more else None)

    connector = ClaudeEnterpriseConnector(client(handler), today=lambda: TODAY)
    pages = fetch_all(connector, "enterprise_cost", start, TODAY)
    days = [d.day for page in pages for d in page.days]
    assert days == [start + timedelta(days=n) for n in range(6)]  # every day once, in order
    restart = seen[3]
    assert "page" not in restart
    assert (restart["starting_at"], restart["ending_at"]) == (
        f"{start + timedelta(days=4)}T00:00:00Z",
        f"{TODAY}T00:00:00Z",
    )


def test_a_full_daily_bucket_is_read_again_by_the_hour() -> None:
    start = TODAY - timedelta(days=3)
    full = start + timedelta(days=1)
    widths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        widths.append(f"{params['bucket_width']}:{params['starting_at'][:10]}:{params['limit']}")
        first = date.fromisoformat(params["starting_at"][:10])
        if params["bucket_width"] == "1h":
            return cost_page([day_bucket(first, 60, hour) for hour in range(24)])
        last = date.fromisoformat(params["ending_at"][:10])
        days = [first + timedelta(days=n) for n in range((last - first).days)]
        return cost_page([day_bucket(d, buckets.GROUP_CAP if d == full else 5) for d in days])

    connector = ClaudeEnterpriseConnector(client(handler), today=lambda: TODAY)
    pages = fetch_all(connector, "enterprise_cost", start, TODAY)
    assert widths == [f"1d:{start}:3", f"1h:{full}:24", f"1d:{full + timedelta(days=1)}:1"]
    by_day = {d.day: d for page in pages for d in page.days}
    assert sorted(by_day) == [start, full, full + timedelta(days=1)]
    # The hours of the full day are summed into it: 60 groups, each 24 hours of 1 dollar.
    assert len(by_day[full].cost) == 60
    assert {c.amount_usd for c in by_day[full].cost} == {24}


def test_windows_are_clamped_to_what_the_api_serves() -> None:
    assert readable_window(date(2025, 12, 1), date(2026, 1, 10), TODAY, 365) == (
        date(2026, 1, 1),
        date(2026, 1, 10),
    )
    assert readable_window(date(2025, 12, 1), date(2026, 1, 1), TODAY, 365) is None
    assert readable_window(TODAY - timedelta(days=100), TODAY, TODAY, 90) == (
        TODAY - timedelta(days=89),
        TODAY,
    )
    calls: list[httpx.Request] = []
    connector = ClaudeEnterpriseConnector(
        client(lambda r: calls.append(r) or cost_page([])), today=lambda: TODAY
    )
    assert (
        connector.fetch(stream("enterprise_cost"), date(2025, 11, 1), date(2025, 12, 1), None)
        == FetchedPage()
    )
    assert calls == []  # nothing to ask for before 2026-01-01


def test_whole_window_restarts_are_bounded() -> None:
    pager = WholeWindowPager("Test", (CursorExpiredError,))

    def expire(page: str | None) -> WindowPart:
        if page is None:
            return WindowPart(next_page="p2")
        raise CursorExpiredError("expired", status=410)

    def run() -> None:
        cursor = None
        for _ in range(20):
            cursor = pager.fetch("s", TODAY, TODAY + timedelta(days=1), cursor, expire).next_cursor

    with pytest.raises(FatalProviderError, match=f"restarted {MAX_RESTARTS} times"):
        run()
    # A cursor whose earlier pages this process never saw starts the window again.
    fresh = WholeWindowPager("Test", ())
    restarted = fresh.fetch("s", TODAY, TODAY + timedelta(days=1), json.dumps([2, 0, "p3"]), expire)
    assert restarted.days == []
    assert json.loads(restarted.next_cursor or "") == [0, 1, None]


def test_rows_outside_the_window_are_refused() -> None:
    pager = WholeWindowPager("Test", ())

    def stray(page: str | None) -> WindowPart:
        return WindowPart(usage=[UsageRecord(day=TODAY + timedelta(days=5), stream="s")])

    with pytest.raises(FatalProviderError, match="outside the days asked for"):
        pager.fetch("s", TODAY, TODAY + timedelta(days=1), None, stray)


def test_probe_reads_the_scopes_from_403s_and_changes_nothing() -> None:
    requests: list[str] = []

    def only_write(request: httpx.Request) -> httpx.Response:
        requests.append(request.method)
        return error(403, "missing scope read:spend_limits; key scopes: read:analytics, write:spend_limits")

    capabilities = probe_capabilities(client(only_write))
    assert capabilities.names == ("analytics", "spend_limits.write")
    assert requests == ["GET"]

    def read_only(request: httpx.Request) -> httpx.Response:
        requests.append(request.method)
        if request.method == "GET":
            return httpx.Response(200, json={"data": [], "next_page": None})
        return error(403, "missing scope write:spend_limits; key scopes: read:analytics, read:spend_limits")

    assert probe_capabilities(client(read_only)).names == ("analytics", "spend_limits.read")
    credits_off = probe_capabilities(client(lambda r: error(403, "usage credits are off")))
    assert credits_off.names == ("analytics",)
    assert "usage credits" in credits_off.note

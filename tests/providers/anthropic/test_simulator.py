"""The Anthropic Admin API simulator behaves like the reference says and its data adds up."""

from __future__ import annotations

import asyncio
import base64
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx
import pytest

from aispend.providers.anthropic.simdata import SimulatedOrganisation, SimulatorSettings
from aispend.providers.anthropic.simulator import AnthropicSimulator, serve

TODAY = date(2026, 3, 2)  # a Monday
ADMIN = SimulatorSettings().admin_key
MESSAGES = "/v1/organizations/usage_report/messages"
COST = "/v1/organizations/cost_report"
CLAUDE_CODE = "/v1/organizations/usage_report/claude_code"
Params = list[tuple[str, str | int]]

# Written out again from reference §7 rather than imported, so a wrong price in simdata
# cannot make this test agree with it: (input, output) USD per MTok, long-context pair.
PRICES: dict[str, tuple[Decimal, Decimal, tuple[Decimal, Decimal] | None]] = {
    "claude-opus-4-6": (Decimal(5), Decimal(25), None),
    "claude-sonnet-4-6": (Decimal(3), Decimal(15), None),
    "claude-sonnet-4-5-20250929": (Decimal(3), Decimal(15), (Decimal(6), Decimal("22.5"))),
    "claude-haiku-4-5-20251001": (Decimal(1), Decimal(5), None),
    "claude-opus-4-1-20250805": (Decimal(15), Decimal(75), None),
}
USAGE_FIELD = {
    "uncached_input_tokens": ("uncached_input_tokens", Decimal(1)),
    "cache_creation.ephemeral_5m_input_tokens": ("cache_creation_5m", Decimal("1.25")),
    "cache_creation.ephemeral_1h_input_tokens": ("cache_creation_1h", Decimal(2)),
    "cache_read_input_tokens": ("cache_read_input_tokens", Decimal("0.1")),
    "output_tokens": ("output_tokens", None),
}


class Api:
    """Synchronous calls into the ASGI app, in process (ASGITransport is async-only)."""

    def __init__(self, sim: AnthropicSimulator) -> None:
        self.sim = sim

    def get(
        self,
        path: str,
        params: Sequence[tuple[str, str | int]] | None = None,
        key: str | None = ADMIN,
        method: str = "GET",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"anthropic-version": "2023-06-01", **(headers or {})}
        if key is not None:
            sent["x-api-key"] = key

        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.sim.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
                return await client.request(method, path, params=list(params or ()), headers=sent)

        return asyncio.run(call())

    def ok(self, path: str, params: Sequence[tuple[str, str | int]] | None = None) -> dict[str, Any]:
        response = self.get(path, params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def walk(self, path: str, params: Params) -> Iterator[dict[str, Any]]:
        """Every bucket of a report, following next_page to the end."""
        page: str | None = None
        while True:
            body = self.ok(path, params + ([("page", page)] if page else []))
            yield from body["data"]
            if not body["has_more"]:
                assert body["next_page"] is None
                return
            page = body["next_page"]


@pytest.fixture(scope="module")
def sim() -> AnthropicSimulator:
    return AnthropicSimulator(SimulatorSettings(today=TODAY))


@pytest.fixture(scope="module")
def api(sim: AnthropicSimulator) -> Api:
    return Api(sim)


def fresh(**overrides: Any) -> Api:
    return Api(AnthropicSimulator(SimulatorSettings(today=TODAY, **overrides)))


def day_range(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


def expected_cents(model: str, token_type: str, tier: str, ctx: str, geo: str, tokens: int) -> Decimal:
    """Cents for ``tokens`` at list price, rounded once to six places as the bill is."""
    base_in, base_out, long_ctx = PRICES[model]
    if ctx == "200k-1M" and long_ctx is not None:
        base_in, base_out = long_ctx
    _, multiplier = USAGE_FIELD[token_type]
    price = base_out if multiplier is None else base_in * multiplier
    price *= Decimal("0.5") if tier == "batch" else 1
    price *= Decimal("1.1") if geo == "us" else 1
    return (tokens * price / 10_000).quantize(Decimal("0.000001"), ROUND_HALF_EVEN)


def check_cost_matches_usage(api: Api, since: date, until: date) -> None:
    """Every served cost line equals its usage priced independently, and nothing is missing."""
    params: Params = [
        ("starting_at", since.isoformat()),
        ("ending_at", (until + timedelta(days=1)).isoformat()),
        ("limit", 31),
        ("group_by[]", "workspace_id"),
        ("group_by[]", "description"),
    ]
    seen_descriptions: dict[str, tuple[Any, ...]] = {}
    for bucket in api.walk(COST, params):
        day = date.fromisoformat(bucket["starting_at"][:10])
        usage: dict[tuple[Any, ...], int] = defaultdict(int)
        searches: dict[str | None, int] = defaultdict(int)
        for row in api.sim.org.usage_rows(day):
            shape = (
                row["workspace_id"],
                row["model"],
                row["service_tier"],
                row["context_window"],
                row["inference_geo"],
            )
            for token_type, (field, _) in USAGE_FIELD.items():
                if row[field]:
                    usage[(*shape, token_type)] += row[field]
            searches[row["workspace_id"]] += row["web_search_requests"]
        priced = set()
        for line in bucket["results"]:
            assert line["currency"] == "USD"
            amount = Decimal(line["amount"])
            assert line["amount"] == f"{amount:.6f}"
            if line["cost_type"] == "web_search":
                assert line["model"] is None
                assert line["token_type"] is None
                assert amount == searches[line["workspace_id"]]  # one cent per search
                continue
            if line["cost_type"] == "code_execution":
                assert line["description"] == "Code Execution Usage"
                continue
            assert line["cost_type"] == "tokens"
            key = (
                line["workspace_id"],
                line["model"],
                line["service_tier"],
                line["context_window"],
                line["inference_geo"],
                line["token_type"],
            )
            want = expected_cents(
                line["model"],
                line["token_type"],
                line["service_tier"],
                line["context_window"],
                line["inference_geo"],
                usage[key],
            )
            assert abs(amount - want) <= Decimal("0.000001"), (day, line, want)
            priced.add(key)
            assert seen_descriptions.setdefault(line["description"], key[1:]) == key[1:]
        assert priced == set(usage), day


def test_authentication_errors_use_the_error_shape(api: Api) -> None:
    for key, hint in (
        (None, "required"),
        ("sk-ant-admin01-wrong", "invalid"),
        ("sk-ant-api03-abc", "admin key"),
    ):
        response = api.get("/v1/organizations/me", key=key)
        body = response.json()
        assert response.status_code == 401
        assert body["type"] == "error"
        assert body["error"]["type"] == "authentication_error"
        assert hint in body["error"]["message"]
        assert body["request_id"].startswith("req_")
        assert response.headers["request-id"] == body["request_id"]
    me = api.ok("/v1/organizations/me")
    assert me == {
        "id": api.sim.settings.organization_id,
        "type": "organization",
        "name": "Acme Robotics (simulated)",
    }
    missing = api.get("/v1/organizations/nope")
    assert (missing.status_code, missing.json()["error"]["type"]) == (404, "not_found_error")
    posted = api.get(MESSAGES, method="POST")
    assert posted.status_code == 405
    assert posted.json()["type"] == "error"
    assert api.sim.requests[-1].headers["x-api-key"] == "<redacted>"


@pytest.mark.parametrize(("width", "maximum"), [("1d", 31), ("1h", 168), ("1m", 1440)])
def test_limit_maxima_per_bucket_width(api: Api, width: str, maximum: int) -> None:
    base: Params = [("starting_at", "2026-01-01T00:00:00Z"), ("bucket_width", width)]
    assert len(api.ok(MESSAGES, [*base, ("limit", maximum)])["data"]) == maximum
    for bad in (maximum + 1, 0):
        response = api.get(MESSAGES, [*base, ("limit", bad)])
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert str(maximum) in response.json()["error"]["message"]


def test_cost_report_limits_and_bucket_width(api: Api) -> None:
    base: Params = [("starting_at", "2026-01-01")]
    assert len(api.ok(COST, base)["data"]) == 7  # default limit
    assert len(api.ok(COST, [*base, ("limit", 31)])["data"]) == 31
    assert api.get(COST, [*base, ("limit", 32)]).status_code == 400
    assert api.get(COST, [*base, ("bucket_width", "1h")]).status_code == 400
    assert api.get(COST, [("limit", 3)]).status_code == 400  # starting_at is required


def test_unknown_group_by_is_rejected(api: Api) -> None:
    start = ("starting_at", "2026-02-01T00:00:00Z")
    response = api.get(MESSAGES, [start, ("group_by[]", "colour")])
    assert response.status_code == 400
    assert "colour" in response.json()["error"]["message"]
    assert api.get(COST, [start, ("group_by[]", "model")]).status_code == 400
    speed = [start, ("group_by[]", "speed")]
    assert api.get(MESSAGES, speed).status_code == 400  # needs the fast-mode beta header
    beta = api.get(MESSAGES, speed, headers={"anthropic-beta": "fast-mode-2026-02-01"})
    assert {r["speed"] for b in beta.json()["data"] for r in b["results"]} == {"standard"}


def test_pagination_walks_every_day_including_empty_buckets(api: Api) -> None:
    since = TODAY - timedelta(days=410)
    params: Params = [("starting_at", f"{since.isoformat()}T00:00:00Z"), ("limit", 31)]
    starts: list[str] = []
    page: str | None = None
    while True:
        body = api.ok(MESSAGES, params + ([("page", page)] if page else []))
        assert 0 < len(body["data"]) <= 31
        starts += [b["starting_at"] for b in body["data"]]
        if not body["has_more"]:
            assert body["next_page"] is None
            break
        page = body["next_page"]
        assert page.startswith("page_")
        following = datetime.fromisoformat(body["data"][-1]["ending_at"])
        assert base64.b64decode(page[5:]).decode() == following.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert starts == [f"{d.isoformat()}T00:00:00Z" for d in day_range(since, TODAY - timedelta(1))]
    buckets = list(api.walk(MESSAGES, params))
    assert all(b["results"] == [] for b in buckets[:10])  # before the history starts
    assert all(len(b["results"]) == 1 for b in buckets[10:])


def test_group_fields_are_null_unless_grouped(api: Api) -> None:
    start: Params = [("starting_at", "2026-02-20T00:00:00Z"), ("ending_at", "2026-02-21")]
    (bucket,) = api.ok(MESSAGES, start)["data"]
    (row,) = bucket["results"]
    assert row["uncached_input_tokens"] > 0
    assert set(row["cache_creation"]) == {"ephemeral_1h_input_tokens", "ephemeral_5m_input_tokens"}
    assert "speed" not in row
    for dim in (
        "account_id",
        "api_key_id",
        "service_account_id",
        "workspace_id",
        "model",
        "service_tier",
        "context_window",
        "inference_geo",
    ):
        assert row[dim] is None
    grouped = api.ok(
        MESSAGES,
        [
            *start,
            ("group_by[]", "workspace_id"),
            ("group_by[]", "model"),
            ("group_by[]", "api_key_id"),
            ("group_by[]", "inference_geo"),
            ("group_by[]", "account_id"),
        ],
    )
    rows = grouped["data"][0]["results"]
    assert all(r["account_id"] is None and r["service_tier"] is None for r in rows)
    assert any(r["workspace_id"] is None for r in rows)  # the Default workspace
    console = [r for r in rows if r["api_key_id"] is None]
    assert console
    assert all(r["workspace_id"] is None for r in console)
    assert {r["inference_geo"] for r in rows if r["model"] == "claude-opus-4-1-20250805"} == {"not_available"}
    assert {r["inference_geo"] for r in rows if r["model"] == "claude-opus-4-6"} == {"global", "us"}
    day = date(2026, 2, 20)
    assert sum(r["output_tokens"] for r in rows) == sum(
        r["output_tokens"] for r in api.sim.org.usage_rows(day)
    )
    only = api.ok(MESSAGES, [*start, ("models[]", "claude-haiku-4-5-20251001"), ("group_by[]", "model")])[
        "data"
    ][0]["results"]
    assert [r["model"] for r in only] == ["claude-haiku-4-5-20251001"]


def test_cost_report_agrees_with_usage_at_list_prices(api: Api) -> None:
    check_cost_matches_usage(api, TODAY - timedelta(days=30), TODAY - timedelta(days=1))
    # The window with the long-context and archived-workspace traffic too.
    check_cost_matches_usage(api, TODAY - timedelta(days=75), TODAY - timedelta(days=62))


def test_cost_totals_agree_at_every_grouping(api: Api) -> None:
    since, until = TODAY - timedelta(days=40), TODAY - timedelta(days=1)
    base: Params = [("starting_at", since.isoformat()), ("limit", 31)]
    totals = {}
    for groups in ((), ("workspace_id",), ("description",), ("workspace_id", "description")):
        params = base + [("group_by[]", g) for g in groups]
        buckets = list(api.walk(COST, params))
        assert len(buckets) == 40
        totals[groups] = sum(Decimal(r["amount"]) for b in buckets for r in b["results"])
        for row in (r for b in buckets for r in b["results"]):
            assert (row["description"] is None) == ("description" not in groups)
            assert row["cost_type"] is None or "description" in groups
            if "workspace_id" not in groups:
                assert row["workspace_id"] is None
    assert len(set(totals.values())) == 1
    assert next(iter(totals.values())) == api.sim.org.total_cost_usd(since, until) * 100
    by_ws = api.sim.org.cost_usd_by("workspace_id", since, until)
    assert sum(by_ws.values()) == api.sim.org.total_cost_usd(since, until)
    assert None in by_ws


def test_usage_totals_agree_at_every_grouping(api: Api) -> None:
    since, until = TODAY - timedelta(days=14), TODAY - timedelta(days=1)
    truth = api.sim.org.tokens_by("model", since, until)
    for groups in ((), ("model",), ("api_key_id", "service_tier", "context_window")):
        params: Params = [("starting_at", since.isoformat()), ("limit", 31)]
        rows = [
            r for b in api.walk(MESSAGES, params + [("group_by[]", g) for g in groups]) for r in b["results"]
        ]
        assert sum(r["output_tokens"] for r in rows) == sum(t["output_tokens"] for t in truth.values())
        assert sum(
            r["cache_creation"]["ephemeral_5m_input_tokens"]
            + r["cache_creation"]["ephemeral_1h_input_tokens"]
            for r in rows
        ) == sum(t["cache_write_tokens"] for t in truth.values())


def test_hourly_and_minute_buckets_sum_to_the_day(api: Api) -> None:
    day = TODAY - timedelta(days=3)
    start = ("starting_at", f"{day.isoformat()}T00:00:00Z")
    groups: Params = [("group_by[]", "model"), ("group_by[]", "api_key_id")]
    (daily,) = api.ok(MESSAGES, [start, ("ending_at", (day + timedelta(1)).isoformat()), *groups])["data"]

    def totals(buckets: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = defaultdict(int)
        for bucket in buckets:
            for r in bucket["results"]:
                out[(r["model"], r["api_key_id"])] += (
                    r["uncached_input_tokens"]
                    + r["cache_read_input_tokens"]
                    + r["server_tool_use"]["web_search_requests"]
                )
        return dict(out)

    hourly = api.ok(MESSAGES, [start, ("bucket_width", "1h"), ("limit", 24), *groups])["data"]
    assert [b["starting_at"][11:13] for b in hourly] == [f"{h:02d}" for h in range(24)]
    assert totals(hourly) == totals([daily])
    minutes = api.ok(MESSAGES, [start, ("bucket_width", "1m"), ("limit", 1440), *groups])["data"]
    assert totals(minutes) == totals([daily])


def test_claude_code_report_pages_through_one_day(api: Api) -> None:
    day = TODAY - timedelta(days=4)  # a Thursday: weekends see fewer users
    records, page = [], None
    while True:
        params: Params = [("starting_at", day.isoformat()), ("limit", 2)]
        body = api.ok(CLAUDE_CODE, params + ([("page", page)] if page else []))
        assert len(body["data"]) <= 2
        records += body["data"]
        if not body["has_more"]:
            break
        page = body["next_page"]
    assert records == api.sim.org.claude_code_records(day)
    assert len(records) >= 5
    assert {r["actor"]["type"] for r in records} == {"user_actor", "api_actor"}
    first = records[0]
    assert first["date"] == f"{day.isoformat()}T00:00:00Z"
    assert first["organization_id"] == api.sim.settings.organization_id
    assert isinstance(first["model_breakdown"][0]["estimated_cost"]["amount"], int)
    assert api.get(CLAUDE_CODE, [("starting_at", f"{day}T00:00:00Z")]).status_code == 400
    assert api.get(CLAUDE_CODE, [("starting_at", day.isoformat()), ("limit", 1001)]).status_code == 400


def test_list_endpoints_page_with_after_id(api: Api) -> None:
    seen, after = [], None
    while True:
        body = api.ok("/v1/organizations/api_keys", [("limit", 6)] + ([("after_id", after)] if after else []))
        seen += body["data"]
        assert body["first_id"] == body["data"][0]["id"]
        if not body["has_more"]:
            break
        after = body["last_id"]
    assert seen == api.sim.org.api_keys
    assert 18 <= len(seen) <= 24
    assert any(k["workspace_id"] is None for k in seen)
    assert {k["status"] for k in seen} >= {"active", "inactive", "archived"}
    back = api.ok("/v1/organizations/api_keys", [("limit", 2), ("before_id", seen[5]["id"])])
    assert [k["id"] for k in back["data"]] == [seen[3]["id"], seen[4]["id"]]
    assert (
        api.get(
            "/v1/organizations/api_keys", [("after_id", seen[0]["id"]), ("before_id", seen[5]["id"])]
        ).status_code
        == 400
    )
    assert api.get("/v1/organizations/users", [("limit", 1001)]).status_code == 400
    live = api.ok("/v1/organizations/workspaces")["data"]
    every = api.ok("/v1/organizations/workspaces", [("include_archived", "true")])["data"]
    assert len(live) == 3
    assert len(every) == 4
    assert all(w["id"].startswith("wrkspc_01") for w in every)
    users = api.ok("/v1/organizations/users", [("roles[]", "admin")])["data"]
    assert {u["role"] for u in users} == {"admin"}
    assert len(api.ok("/v1/organizations/users")["data"]) == 10


def test_requests_faster_than_the_pace_get_429_with_retry_after() -> None:
    api = fresh(min_request_interval=30.0)
    params: Params = [("starting_at", "2026-02-01")]
    assert api.get(MESSAGES, params).status_code == 200
    limited = api.get(MESSAGES, params)
    assert limited.status_code == 429
    assert limited.json()["error"]["type"] == "rate_limit_error"
    assert 1 <= int(limited.headers["retry-after"]) <= 30
    assert api.get(COST, params).status_code == 200  # another endpoint family has its own pace


@pytest.mark.parametrize(
    ("fault", "status", "kind"),
    [
        ("500", 500, "api_error"),
        ("529", 529, "overloaded_error"),
        ("503", 503, "api_error"),
        ("429", 429, "rate_limit_error"),
        ("401", 401, "authentication_error"),
        ("403", 403, "permission_error"),
    ],
)
def test_error_faults(fault: str, status: int, kind: str) -> None:
    api = fresh()
    api.sim.inject(fault, times=2, path_prefix=COST)
    assert api.get(MESSAGES, [("starting_at", "2026-02-01")]).status_code == 200
    for _ in range(2):
        response = api.get(COST, [("starting_at", "2026-02-01")])
        assert response.status_code == status
        assert response.json()["error"]["type"] == kind
        assert response.headers["request-id"].startswith("req_")
        if fault == "429":
            assert response.headers["retry-after"] == "1"
    assert api.get(COST, [("starting_at", "2026-02-01")]).status_code == 200
    api.sim.inject(fault, times=100, path_prefix=COST)
    api.sim.inject(fault, times=0)  # cancels whatever is still pending
    assert api.get(COST, [("starting_at", "2026-02-01")]).status_code == 200


def test_body_faults_timeout_truncated_garbage() -> None:
    api = fresh(timeout_seconds=0.2)
    params: Params = [("starting_at", "2026-02-01")]
    api.sim.inject("timeout")
    began = time.monotonic()
    assert api.get(COST, params).status_code == 200
    assert time.monotonic() - began >= 0.2
    api.sim.inject("truncated")
    cut = api.get(COST, params)
    assert cut.status_code == 200
    with pytest.raises(ValueError, match=r"\w"):
        cut.json()
    api.sim.inject("garbage")
    html = api.get(COST, params)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert api.get(COST, params).json()["data"]


def test_repeat_cursor_fault_loops_the_cursor() -> None:
    api = fresh()
    params: Params = [("starting_at", "2026-01-01")]
    first = api.ok(MESSAGES, params)
    api.sim.inject("repeat_cursor")
    again = api.ok(MESSAGES, [*params, ("page", first["next_page"])])
    assert again["has_more"] is True
    assert again["next_page"] == first["next_page"]
    api.sim.inject("repeat_cursor")
    opening = api.ok(COST, params)
    assert opening["has_more"] is True
    follow = api.ok(COST, [*params, ("page", opening["next_page"])])
    assert follow["next_page"] == opening["next_page"]
    normal = api.ok(COST, [*params, ("page", opening["next_page"])])
    assert normal["next_page"] != opening["next_page"]
    api.sim.inject("repeat_cursor", times=3)
    looping = api.ok(COST, params)["next_page"]
    api.sim.inject("repeat_cursor", times=0)  # cancels the fault and the cursor it armed
    assert api.ok(COST, [*params, ("page", looping)])["next_page"] != looping


def test_restate_changes_only_the_last_days_and_stays_consistent() -> None:
    api = fresh()
    org = api.sim.org
    days = day_range(TODAY - timedelta(days=6), TODAY - timedelta(days=1))
    before = {d: (org.usage_rows(d), org.cost_rows(d)) for d in days}
    api.sim.restate(3)
    for d in days:
        changed = (org.usage_rows(d), org.cost_rows(d)) != before[d]
        assert changed == (d >= TODAY - timedelta(days=3)), d
    last = TODAY - timedelta(days=1)
    assert len(org.usage_rows(last)) == len(before[last][0]) - 1
    grew = org.tokens_by("day", last, last)[last.isoformat()]["input_tokens"]
    old = sum(r["uncached_input_tokens"] for r in before[last][0])
    assert 0.9 * old < grew < 1.2 * old
    check_cost_matches_usage(api, days[0], days[-1])


def test_same_seed_same_data_and_plausible_shape() -> None:
    one, two = (SimulatedOrganisation(SimulatorSettings(today=TODAY)) for _ in range(2))
    other = SimulatedOrganisation(SimulatorSettings(today=TODAY, seed=8))
    day = TODAY - timedelta(days=9)
    assert one.api_keys == two.api_keys
    assert one.usage_rows(day) == two.usage_rows(day)
    assert one.cost_rows(day) == two.cost_rows(day)
    assert one.claude_code_records(day) == two.claude_code_records(day)
    assert one.usage_rows(day) != other.usage_rows(day)
    since, until = TODAY - timedelta(days=400), TODAY - timedelta(days=1)
    daily = one.cost_usd_by("day", since, until)
    assert len(daily) == 400
    spike = daily.pop((TODAY - timedelta(days=20)).isoformat())
    weekdays = [v for k, v in daily.items() if date.fromisoformat(str(k)).weekday() < 5]
    assert spike > max(daily.values())
    assert 3 * sorted(weekdays)[len(weekdays) // 2] < spike
    assert min(weekdays) > 500
    assert max(weekdays) < 5000
    console = one.tokens_by("api_key_id", since, until)[None]["input_tokens"]
    total = sum(t["input_tokens"] for t in one.tokens_by("api_key_id", since, until).values())
    assert 0.005 < console / total < 0.05
    assert "code_execution" in one.cost_usd_by("cost_type", since, until)


def test_serve_answers_real_http_on_a_free_port() -> None:
    sim = AnthropicSimulator(SimulatorSettings(today=TODAY))
    with serve(sim, port=0) as running, httpx.Client(base_url=running.base_url) as client:
        assert running.base_url == f"http://127.0.0.1:{running.port}"
        response = client.get("/v1/organizations/me", headers={"x-api-key": ADMIN})
        assert response.status_code == 200
        assert response.json()["type"] == "organization"
    assert sim.requests[-1].path == "/v1/organizations/me"

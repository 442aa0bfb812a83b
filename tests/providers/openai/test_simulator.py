"""The OpenAI Admin API simulator behaves like the reference says: paths, limits, paging, faults.

The price arithmetic and the ground truth are checked in ``test_simulator_costs.py``, the
response shapes against the official OpenAPI file in ``test_simulator_schema.py``; both
import the in-process client :class:`Api` from here.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from aispend.providers.openai.simdata import OpenAISimulatorSettings, SimulatedOrganisation
from aispend.providers.openai.simrows import ENDPOINTS
from aispend.providers.openai.simulator import OpenAISimulator, serve

TODAY = date(2026, 3, 2)  # a Monday
ADMIN = OpenAISimulatorSettings().admin_key
USAGE = "/v1/organization/usage"
COSTS = "/v1/organization/costs"
COMPLETIONS = f"{USAGE}/completions"
Params = list[tuple[str, str | int]]
ERROR_KEYS = {"message", "type", "param", "code"}


def ts(day: date) -> int:
    """Unix seconds of the UTC midnight starting ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def day_of(stamp: int) -> date:
    return datetime.fromtimestamp(stamp, UTC).date()


class Api:
    """Synchronous calls into the ASGI app, in process (ASGITransport is async-only)."""

    def __init__(self, sim: OpenAISimulator) -> None:
        self.sim = sim

    def get(
        self,
        path: str,
        params: Sequence[tuple[str, str | int]] | None = None,
        key: str | None = ADMIN,
        method: str = "GET",
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}

        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.sim.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
                return await client.request(method, path, params=list(params or ()), headers=headers)

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

    def walk_list(self, path: str, params: Params | None = None) -> list[dict[str, Any]]:
        """Every item of a directory list, following ``after`` to the end."""
        items: list[dict[str, Any]] = []
        while True:
            after = [("after", items[-1]["id"])] if items else []
            body = self.ok(path, [*(params or []), *after])
            items += body["data"]
            if not body["has_more"]:
                return items


def window(since: date, until: date, limit: int = 31) -> Params:
    """Report parameters covering the inclusive day range."""
    return [("start_time", ts(since)), ("end_time", ts(until + timedelta(days=1))), ("limit", limit)]


def results(api: Api, path: str, params: Params) -> list[dict[str, Any]]:
    return [r for bucket in api.walk(path, params) for r in bucket["results"]]


@pytest.fixture(scope="module")
def sim() -> OpenAISimulator:
    return OpenAISimulator(OpenAISimulatorSettings(today=TODAY))


@pytest.fixture(scope="module")
def api(sim: OpenAISimulator) -> Api:
    return Api(sim)


def fresh(**overrides: Any) -> Api:
    return Api(OpenAISimulator(OpenAISimulatorSettings(today=TODAY, **overrides)))


def test_authentication_errors_use_the_error_shape(api: Api) -> None:
    start = [("start_time", ts(TODAY - timedelta(days=3)))]
    cases = (
        (None, 401, "didn't provide an API key"),
        ("sk-admin-not-the-right-key-at-all", 401, "Incorrect API key"),
        ("sk-proj-abcdefghijklmnopqrstuvwxyz", 403, "admin API key"),
        ("sk-svcacct-abcdefghijklmnopqrstuvwxyz", 403, "admin API key"),
        ("sk-abcdefghijklmnopqrstuvwxyz0123", 403, "admin API key"),
    )
    for key, status, hint in cases:
        response = api.get(COMPLETIONS, start, key=key)
        assert response.status_code == status
        error = response.json()["error"]
        assert set(error) == ERROR_KEYS
        assert error["type"] == "invalid_request_error"
        assert hint in error["message"]
        assert response.headers["x-request-id"].startswith("req_")
    wrong = api.get(COMPLETIONS, start, key="sk-admin-not-the-right-key-at-all")
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert "not-the-right-key" not in wrong.text  # never echo a key back whole
    assert api.get(COMPLETIONS, start).status_code == 200
    assert api.sim.requests[-1].headers["authorization"] == "<redacted>"
    assert ADMIN.startswith("sk-admin-")
    missing = api.get("/v1/organization/nope")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "unknown_url")
    assert api.get(COMPLETIONS, start, method="POST").status_code == 405


@pytest.mark.parametrize(("width", "default", "maximum"), [("1d", 7, 31), ("1h", 24, 168), ("1m", 60, 1440)])
def test_limits_per_bucket_width(api: Api, width: str, default: int, maximum: int) -> None:
    base: Params = [("start_time", ts(date(2026, 1, 1))), ("bucket_width", width)]
    assert len(api.ok(COMPLETIONS, base)["data"]) == default
    assert len(api.ok(COMPLETIONS, [*base, ("limit", maximum)])["data"]) == maximum
    for bad, code in ((maximum + 1, "integer_above_max_value"), (0, "integer_below_min_value")):
        response = api.get(COMPLETIONS, [*base, ("limit", bad)])
        assert response.status_code == 400
        error = response.json()["error"]
        assert (error["param"], error["code"]) == ("limit", code)
        assert set(error) == ERROR_KEYS


def test_costs_limits_and_bucket_width(api: Api) -> None:
    base: Params = [("start_time", ts(date(2025, 6, 1)))]
    assert len(api.ok(COSTS, base)["data"]) == 7
    assert len(api.ok(COSTS, [*base, ("limit", 180)])["data"]) == 180
    assert api.get(COSTS, [*base, ("limit", 181)]).status_code == 400
    assert api.get(COSTS, [*base, ("bucket_width", "1h")]).json()["error"]["param"] == "bucket_width"
    missing = api.get(COSTS, [("limit", 3)])
    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "start_time"
    assert api.get(COSTS, [*base, ("end_time", ts(date(2025, 5, 1)))]).status_code == 400


def test_both_array_encodings_and_every_filter(api: Api) -> None:
    since = TODAY - timedelta(days=5)
    base = window(since, TODAY - timedelta(days=1))
    repeated = api.ok(COMPLETIONS, [*base, ("group_by", "model"), ("group_by", "project_id")])
    bracketed = api.ok(COMPLETIONS, [*base, ("group_by[]", "project_id"), ("group_by[]", "model")])
    mixed = api.ok(COMPLETIONS, [*base, ("group_by[]", "project_id"), ("group_by", "model")])
    assert repeated == bracketed == mixed
    rows = [r for b in repeated["data"] for r in b["results"]]
    projects = sorted({r["project_id"] for r in rows})
    models = sorted({r["model"] for r in rows})
    assert len(projects) >= 3
    assert len(models) >= 5
    for name, dim, values in (("project_ids", "project_id", projects[:2]), ("models", "model", models[:2])):
        plain = api.ok(COMPLETIONS, [*base, ("group_by", dim), *((name, v) for v in values)])
        brackets = api.ok(COMPLETIONS, [*base, ("group_by", dim), *((f"{name}[]", v) for v in values)])
        assert plain == brackets
        assert {r[dim] for b in plain["data"] for r in b["results"]} == set(values)
    total = sum(r["input_tokens"] for r in results(api, COMPLETIONS, base))
    split = {
        flag: results(api, COMPLETIONS, [*base, ("batch", flag), ("group_by", "batch")])
        for flag in ("true", "false")
    }
    assert {r["batch"] for r in split["true"]} == {True}
    assert {r["batch"] for r in split["false"]} == {False}
    assert sum(r["input_tokens"] for rs in split.values() for r in rs) == total
    assert api.get(COMPLETIONS, [*base, ("batch", "maybe")]).status_code == 400
    images = f"{USAGE}/images"
    small = results(
        api, images, [*base, ("sizes[]", "256x256"), ("group_by", "size"), ("group_by", "source")]
    )
    assert {(r["size"], r["source"]) for r in small} == {("256x256", "image.variation")}
    assert api.get(images, [*base, ("sources", "image.painting")]).status_code == 400
    web = f"{USAGE}/web_search_calls"
    high = results(api, web, [*base, ("context_levels", "high"), ("group_by", "context_level")])
    assert {r["context_level"] for r in high} == {"high"}
    assert api.get(web, [*base, ("context_levels[]", "huge")]).status_code == 400
    stores = results(api, f"{USAGE}/file_search_calls", [*base, ("group_by[]", "vector_store_id")])
    one = stores[0]["vector_store_id"]
    only = results(api, f"{USAGE}/file_search_calls", [*base, ("vector_store_ids", one)])
    assert sum(r["num_requests"] for r in only) == sum(
        r["num_requests"] for r in stores if r["vector_store_id"] == one
    )


def test_unknown_group_by_is_rejected(api: Api) -> None:
    base = window(TODAY - timedelta(days=2), TODAY - timedelta(days=1))
    for path, value in (
        (COMPLETIONS, "colour"),
        (f"{USAGE}/vector_stores", "model"),  # valid elsewhere, not here
        (f"{USAGE}/embeddings", "batch"),
        (COSTS, "model"),
    ):
        for name in ("group_by", "group_by[]"):
            response = api.get(path, [*base, (name, value)])
            assert response.status_code == 400, (path, value)
            error = response.json()["error"]
            assert error["param"] == "group_by"
            assert value in error["message"]


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_group_fields_null_unless_grouped_and_ungrouped_is_the_sum(api: Api, name: str) -> None:
    endpoint = ENDPOINTS[name]
    path = f"{USAGE}/{name}"
    base = window(TODAY - timedelta(days=6), TODAY - timedelta(days=1))
    plain = list(api.walk(path, base))
    assert len(plain) == 6
    assert all(len(b["results"]) <= 1 for b in plain)
    assert any(b["results"] for b in plain)
    totals = {
        b["start_time"]: {k: v for k, v in b["results"][0].items() if isinstance(v, int) and k != "object"}
        for b in plain
        if b["results"]
    }
    for row in (r for b in plain for r in b["results"]):
        assert row["object"] == endpoint.result_object
        assert all(row[dim] is None for dim in endpoint.dims)
    for groups in [(dim,) for dim in endpoint.dims] + [endpoint.dims]:
        grouped = list(api.walk(path, base + [("group_by", g) for g in groups]))
        sums: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for bucket in grouped:
            keys = [tuple(r[g] for g in groups) for r in bucket["results"]]
            assert len(keys) == len(set(keys))
            for row in bucket["results"]:
                for dim in endpoint.dims:
                    if dim not in groups:
                        assert row[dim] is None, (groups, dim)
                for field in totals.get(bucket["start_time"], {}):
                    sums[bucket["start_time"]][field] += row[field]
        assert {k: dict(v) for k, v in sums.items()} == totals, groups


def test_completions_carry_every_token_field_and_they_add_up(api: Api) -> None:
    groups = [("group_by", g) for g in ("model", "service_tier", "batch")]
    params = window(TODAY - timedelta(days=8), TODAY - timedelta(days=1)) + groups
    rows = results(api, COMPLETIONS, params)
    for r in rows:
        assert (
            r["input_tokens"]
            == r["input_cached_tokens"] + r["input_cache_write_tokens"] + r["input_uncached_tokens"]
        )
        assert (
            r["input_uncached_tokens"]
            == r["input_text_tokens"] + r["input_audio_tokens"] + r["input_image_tokens"]
        )
        assert r["input_cached_tokens"] == (
            r["input_cached_text_tokens"] + r["input_cached_audio_tokens"] + r["input_cached_image_tokens"]
        )
        assert (
            r["output_tokens"]
            == r["output_text_tokens"] + r["output_audio_tokens"] + r["output_image_tokens"]
        )
        assert isinstance(r["batch"], bool)
    assert {r["service_tier"] for r in rows} == {"default", "flex", "priority"}
    assert {r["batch"] for r in rows} == {True, False}
    assert all(r["service_tier"] == "default" for r in rows if r["batch"])
    assert any(r["output_audio_tokens"] for r in rows)
    assert any(r["output_image_tokens"] for r in rows)
    assert any(r["input_cached_image_tokens"] for r in rows)


def test_pagination_covers_a_window_exactly_once(api: Api) -> None:
    since = TODAY - timedelta(days=410)
    params: Params = [("start_time", ts(since)), ("limit", 31)]
    buckets = list(api.walk(COMPLETIONS, params))
    starts = [b["start_time"] for b in buckets]
    assert starts == [ts(since + timedelta(days=i)) for i in range(410)]
    assert all(b["end_time"] == b["start_time"] + 86400 for b in buckets)
    assert buckets[-1]["end_time"] == ts(TODAY)  # today is not over: never served
    assert all(b["results"] == [] for b in buckets[:10])  # before the history starts
    assert all(len(b["results"]) == 1 for b in buckets[10:])
    first = api.ok(COMPLETIONS, params)
    assert first["has_more"] is True
    assert first["next_page"].startswith("page_")
    hourly = list(
        api.walk(
            COMPLETIONS,
            [*window(TODAY - timedelta(days=9), TODAY - timedelta(1), 100), ("bucket_width", "1h")],
        )
    )
    assert [b["start_time"] for b in hourly] == list(range(ts(TODAY - timedelta(days=9)), ts(TODAY), 3600))
    costs = list(api.walk(COSTS, [("start_time", ts(since)), ("limit", 180)]))
    assert [b["start_time"] for b in costs] == starts


def test_window_edges_and_cursor_checks(api: Api) -> None:
    day = TODAY - timedelta(days=4)
    midday = ts(day) + 12 * 3600
    (bucket,) = api.ok(COMPLETIONS, [("start_time", midday), ("end_time", midday + 60)])["data"]
    assert (bucket["start_time"], bucket["end_time"]) == (ts(day), ts(day + timedelta(days=1)))
    two = api.ok(COMPLETIONS, [("start_time", ts(day)), ("end_time", ts(day + timedelta(days=2)))])
    assert len(two["data"]) == 2  # end_time is exclusive
    future = api.ok(COMPLETIONS, [("start_time", ts(TODAY + timedelta(days=3)))])
    assert (future["data"], future["has_more"], future["next_page"]) == ([], False, None)
    other = api.ok(COMPLETIONS, [("start_time", ts(date(2025, 6, 1)))])["next_page"]
    mismatch = api.get(COMPLETIONS, [("start_time", ts(date(2025, 7, 1))), ("page", other)])
    assert (mismatch.status_code, mismatch.json()["error"]["param"]) == (400, "page")
    assert api.get(COMPLETIONS, [("start_time", ts(day)), ("page", "page_nonsense")]).status_code == 400
    assert api.get(COMPLETIONS, [("start_time", "yesterday")]).status_code == 400


def test_sub_day_buckets_add_up_to_the_day(api: Api) -> None:
    day = TODAY - timedelta(days=3)
    start = ("start_time", ts(day))
    groups: Params = [("group_by", "model"), ("group_by", "api_key_id")]
    (daily,) = api.ok(COMPLETIONS, [start, ("end_time", ts(day + timedelta(days=1))), *groups])["data"]

    def totals(buckets: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, int]]:
        out: dict[tuple[str, str], tuple[int, int]] = defaultdict(lambda: (0, 0))
        for bucket in buckets:
            for r in bucket["results"]:
                tokens, requests = out[(r["model"], r["api_key_id"])]
                out[(r["model"], r["api_key_id"])] = (
                    tokens + r["input_tokens"],
                    requests + r["num_model_requests"],
                )
        return dict(out)

    hourly = api.ok(COMPLETIONS, [start, ("bucket_width", "1h"), ("limit", 24), *groups])["data"]
    assert [b["start_time"] for b in hourly] == [ts(day) + 3600 * h for h in range(24)]
    assert totals(hourly) == totals([daily])
    minutes = api.ok(COMPLETIONS, [start, ("bucket_width", "1m"), ("limit", 1440), *groups])["data"]
    assert totals(minutes) == totals([daily])
    stores = f"{USAGE}/vector_stores"
    (stored,) = api.ok(stores, [start, ("end_time", ts(day + timedelta(days=1)))])["data"][0]["results"]
    for bucket in api.ok(stores, [start, ("bucket_width", "1h")])["data"]:
        assert bucket["results"] == [stored]  # storage is a level: every hour holds the day's bytes


def test_directory_lists_page_with_after(api: Api) -> None:
    org = api.sim.org
    live = api.walk_list("/v1/organization/projects", [("limit", 2)])
    every = api.walk_list("/v1/organization/projects", [("limit", 2), ("include_archived", "true")])
    assert len(live) == 4
    assert len(every) == 5
    (archived,) = [p for p in every if p["archived_at"] is not None]
    assert archived["status"] == "archived"
    assert all(p["id"].startswith("proj_") for p in every)
    users = api.walk_list("/v1/organization/users", [("limit", 3)])
    assert users == org.users
    assert len(users) == 8
    assert all(u["id"].startswith("user-") for u in users)
    wanted = [users[2]["email"], users[5]["email"].upper()]
    for name in ("emails", "emails[]"):
        found = api.ok("/v1/organization/users", [(name, e) for e in wanted])["data"]
        assert [u["id"] for u in found] == [users[2]["id"], users[5]["id"]]
    keys = [
        k
        for p in every
        for k in api.walk_list(f"/v1/organization/projects/{p['id']}/api_keys", [("limit", 1)])
    ]
    assert 10 <= len(keys) <= 12
    assert {k["owner"]["type"] for k in keys} == {"user", "service_account"}
    assert {k["owner_project_access"] for k in keys} == {"active", "inactive"}
    accounts = [
        a for p in every for a in api.ok(f"/v1/organization/projects/{p['id']}/service_accounts")["data"]
    ]
    assert len(accounts) == 2
    svc_keys = [k for k in keys if k["owner"]["type"] == "service_account"]
    assert {k["owner"]["service_account"]["id"] for k in svc_keys} == {a["id"] for a in accounts}
    members = api.ok(f"/v1/organization/projects/{every[0]['id']}/users")["data"]
    assert {m["role"] for m in members} == {"owner", "member"}
    inactive = api.ok(
        f"/v1/organization/projects/{every[0]['id']}/api_keys", [("owner_project_access", "inactive")]
    )["data"]
    assert [k["owner_project_access"] for k in inactive] == ["inactive"]
    admin = api.ok("/v1/organization/admin_api_keys")
    assert [k["id"] for k in api.ok("/v1/organization/admin_api_keys", [("order", "desc")])["data"]] == [
        k["id"] for k in reversed(admin["data"])
    ]
    assert admin["data"][-1]["redacted_value"] == f"sk-admin...{ADMIN[-3:]}"
    missing = api.get("/v1/organization/projects/proj_missing/api_keys")
    assert missing.status_code == 404
    assert set(missing.json()["error"]) == ERROR_KEYS
    assert api.get("/v1/organization/users", [("limit", 101)]).status_code == 400
    assert api.get("/v1/organization/users", [("after", "user-nobody")]).status_code == 400
    first = api.ok("/v1/organization/users", [("limit", 3)])
    assert (first["first_id"], first["last_id"], first["has_more"]) == (users[0]["id"], users[2]["id"], True)


def test_archived_project_has_usage_only_in_the_past(api: Api) -> None:
    org = api.sim.org
    (archived,) = [p for p in org.projects if p["archived_at"] is not None]
    archived_day = day_of(archived["archived_at"])
    spend = org.cost_usd_by("project_id", org.first_day, archived_day - timedelta(days=1))
    assert spend[archived["id"]] > 0
    assert archived["id"] not in org.cost_usd_by("project_id", archived_day, TODAY)


def test_requests_faster_than_the_pace_get_429_with_retry_after() -> None:
    api = fresh(min_request_interval=30.0)
    params: Params = [("start_time", ts(TODAY - timedelta(days=3)))]
    assert api.get(COMPLETIONS, params).status_code == 200
    limited = api.get(COMPLETIONS, params)
    assert limited.status_code == 429
    error = limited.json()["error"]
    assert set(error) == ERROR_KEYS
    assert error["code"] == "rate_limit_exceeded"
    assert 1 <= int(limited.headers["retry-after"]) <= 30
    assert api.get(COSTS, params).status_code == 200  # another endpoint family has its own pace


@pytest.mark.parametrize(
    ("fault", "status", "kind"),
    [
        ("500", 500, "server_error"),
        ("503", 503, "server_error"),
        ("429", 429, "requests"),
        ("401", 401, "invalid_request_error"),
        ("403", 403, "invalid_request_error"),
    ],
)
def test_error_faults(fault: str, status: int, kind: str) -> None:
    api = fresh()
    params: Params = [("start_time", ts(TODAY - timedelta(days=3)))]
    api.sim.inject(fault, times=2, path_prefix=COSTS)
    assert api.get(COMPLETIONS, params).status_code == 200
    for _ in range(2):
        response = api.get(COSTS, params)
        assert response.status_code == status
        error = response.json()["error"]
        assert set(error) == ERROR_KEYS
        assert error["type"] == kind
        assert response.headers["x-request-id"].startswith("req_")
        if fault == "429":
            assert response.headers["retry-after"] == "1"
    assert api.get(COSTS, params).status_code == 200
    api.sim.inject(fault, times=100, path_prefix=COSTS)
    api.sim.inject(fault, times=0)  # cancels whatever is still pending
    assert api.get(COSTS, params).status_code == 200
    with pytest.raises(ValueError, match="unknown fault"):
        api.sim.inject("418")


def test_body_faults_timeout_truncated_garbage() -> None:
    api = fresh(timeout_seconds=0.2)
    params: Params = [("start_time", ts(TODAY - timedelta(days=3)))]
    api.sim.inject("timeout")
    began = time.monotonic()
    assert api.get(COSTS, params).status_code == 200
    assert time.monotonic() - began >= 0.2
    api.sim.inject("truncated")
    cut = api.get(COSTS, params)
    assert cut.status_code == 200
    with pytest.raises(ValueError, match=r"\w"):
        cut.json()
    api.sim.inject("garbage")
    html = api.get(COSTS, params)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert api.get(COSTS, params).json()["data"]
    assert len(api.sim.requests) == 4


def test_repeat_cursor_fault_loops_the_cursor() -> None:
    api = fresh()
    params: Params = [("start_time", ts(date(2026, 1, 1)))]
    first = api.ok(COMPLETIONS, params)
    api.sim.inject("repeat_cursor")
    again = api.ok(COMPLETIONS, [*params, ("page", first["next_page"])])
    assert again["has_more"] is True
    assert again["next_page"] == first["next_page"]
    api.sim.inject("repeat_cursor")
    opening = api.ok(COSTS, params)
    follow = api.ok(COSTS, [*params, ("page", opening["next_page"])])
    assert follow["next_page"] == opening["next_page"]
    normal = api.ok(COSTS, [*params, ("page", opening["next_page"])])
    assert normal["next_page"] != opening["next_page"]
    users = "/v1/organization/users"
    api.sim.inject("repeat_cursor", path_prefix=users)
    head = api.ok(users, [("limit", 8)])
    assert head["has_more"] is True
    looped = api.ok(users, [("limit", 8), ("after", head["last_id"])])
    assert (looped["last_id"], looped["has_more"]) == (head["last_id"], True)
    api.sim.inject("repeat_cursor", times=3)
    looping = api.ok(COSTS, params)["next_page"]
    api.sim.inject("repeat_cursor", times=0)  # cancels the fault and the cursor it armed
    assert api.ok(COSTS, [*params, ("page", looping)])["next_page"] != looping


def test_restate_changes_only_the_last_days() -> None:
    api = fresh()
    org = api.sim.org
    days = [TODAY - timedelta(days=back) for back in range(6, 0, -1)]
    before = {d: ({n: org.usage_rows(n, d) for n in ENDPOINTS}, org.cost_records(d)) for d in days}
    served = api.ok(COSTS, window(days[0], days[-1]))
    api.sim.restate(3)
    for d in days:
        changed = ({n: org.usage_rows(n, d) for n in ENDPOINTS}, org.cost_records(d)) != before[d]
        assert changed == (d >= TODAY - timedelta(days=3)), d
    last = days[-1]
    assert len(org.usage_rows("completions", last)) == len(before[last][0]["completions"]) - 1
    assert org.usage_rows("vector_stores", last) == before[last][0]["vector_stores"]
    now = api.ok(COSTS, window(days[0], days[-1]))
    assert now["data"][:3] == served["data"][:3]
    assert all(a != b for a, b in zip(now["data"][3:], served["data"][3:], strict=True))


def test_same_seed_same_data_and_plausible_shape() -> None:
    one, two = (SimulatedOrganisation(OpenAISimulatorSettings(today=TODAY)) for _ in range(2))
    other = SimulatedOrganisation(OpenAISimulatorSettings(today=TODAY, seed=8))
    day = TODAY - timedelta(days=9)
    assert one.api_keys == two.api_keys
    assert one.cost_records(day) == two.cost_records(day)
    assert all(one.usage_rows(n, day) == two.usage_rows(n, day) for n in ENDPOINTS)
    assert one.usage_rows("completions", day) != other.usage_rows("completions", day)
    assert all(one.usage_rows(n, day) for n in ENDPOINTS)  # a weekday uses every endpoint
    assert not any(one.usage_rows(n, TODAY) for n in ENDPOINTS)
    assert not any(one.usage_rows(n, one.first_day - timedelta(days=1)) for n in ENDPOINTS)
    daily = one.cost_usd_by("day", one.first_day, TODAY)
    assert len(daily) == 400
    spike = daily.pop((TODAY - timedelta(days=20)).isoformat())
    assert spike > max(daily.values())
    weekdays = [v for k, v in daily.items() if date.fromisoformat(str(k)).weekday() < 5]
    assert 200 < min(weekdays) < max(weekdays) < 5000


def test_serve_answers_real_http_on_a_free_port() -> None:
    sim = OpenAISimulator(OpenAISimulatorSettings(today=TODAY))
    with serve(sim, port=0) as running, httpx.Client(base_url=running.base_url) as client:
        response = client.get("/v1/organization/projects", headers={"Authorization": f"Bearer {ADMIN}"})
        assert response.status_code == 200
        assert response.json()["object"] == "list"
    assert sim.requests[-1].path == "/v1/organization/projects"

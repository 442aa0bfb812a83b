"""The OpenAI connector's requests: parameters, per-project paging, and the costs fallback."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest

from aispend.providers.base import FatalProviderError, RetriableProviderError
from aispend.providers.openai.connector import STREAMS, OpenAIConnector

Handler = Callable[[httpx.Request], httpx.Response]
STREAM = {stream.name: stream for stream in STREAMS}
EMPTY_PAGE = {"object": "page", "data": [], "has_more": False, "next_page": None}


def connector_for(handler: Handler, base_url: str = "http://sim.test") -> OpenAIConnector:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return OpenAIConnector.create(http, lambda: "sk-admin-test", base_url, {})


def test_usage_asks_for_day_buckets_of_the_whole_window_grouped_every_way() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=EMPTY_PAGE)

    connector_for(handler, "http://sim.test/v1/").fetch(
        STREAM["completions"], date(2026, 1, 1), date(2026, 2, 1), "c1"
    )
    (request,) = seen
    assert request.url.path == "/v1/organization/usage/completions"
    assert request.headers["authorization"] == "Bearer sk-admin-test"
    params = request.url.params
    assert (params["start_time"], params["end_time"]) == ("1767225600", "1769904000")
    assert (params["bucket_width"], params["limit"], params["page"]) == ("1d", "31", "c1")
    assert params.get_list("group_by") == [
        "project_id",
        "user_id",
        "api_key_id",
        "model",
        "batch",
        "service_tier",
    ]


def test_costs_fall_back_to_project_and_line_item_when_api_key_grouping_is_refused() -> None:
    asked: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        group_by = request.url.params.get_list("group_by")
        asked.append(group_by)
        if "api_key_id" in group_by:
            error = {"message": "Invalid value for group_by: api_key_id", "type": "invalid_request_error"}
            return httpx.Response(400, json={"error": {**error, "param": "group_by", "code": None}})
        return httpx.Response(200, json=EMPTY_PAGE)

    connector = connector_for(handler)
    with pytest.raises(RetriableProviderError, match="without it"):
        connector.fetch(STREAM["costs"], date(2026, 1, 1), date(2026, 7, 1), None)
    connector.fetch(STREAM["costs"], date(2026, 1, 1), date(2026, 7, 1), None)
    assert asked == [["project_id", "line_item", "api_key_id"], ["project_id", "line_item"]]
    assert connector.costs_by_key is False


def test_other_bad_requests_are_not_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        error = {
            "message": "limit must be at most 180",
            "type": "invalid_request_error",
            "param": "limit",
            "code": None,
        }
        return httpx.Response(400, json={"error": error})

    with pytest.raises(FatalProviderError, match="limit must be at most 180"):
        connector_for(handler).fetch(STREAM["costs"], date(2026, 1, 1), date(2026, 7, 1), None)


def _list(items: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": items,
        "has_more": has_more,
        "last_id": items[-1]["id"] if items else None,
    }


def test_per_project_lists_visit_every_project_page_by_page_one_request_per_call() -> None:
    projects = [
        _list([{"id": "proj_1", "name": "one"}], has_more=True),
        _list([{"id": "proj_2", "name": "two", "status": "archived"}], has_more=False),
    ]
    keys = {
        ("proj_1", None): _list([{"id": "key_1", "name": "a"}], has_more=True),
        ("proj_1", "key_1"): _list([{"id": "key_2", "name": "b"}], has_more=False),
        ("proj_2", None): _list([], has_more=False),
    }
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(str(request.url.copy_with(query=None).path))
        after = request.url.params.get("after")
        if request.url.path == "/v1/organization/projects":
            assert request.url.params["include_archived"] == "true"
            return httpx.Response(200, json=projects[0 if after is None else 1])
        project = request.url.path.split("/")[4]
        return httpx.Response(200, json=keys[(project, after)])

    connector = connector_for(handler)
    names: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        page = connector.fetch(STREAM["api_keys"], date.min, date.min, cursor)
        names += [entry.name for entry in page.directory]
        cursor = page.next_cursor
        if cursor is None:
            break
        json.loads(cursor)  # opaque to the engine, but plain data
    assert names == ["a", "b"]
    assert paths == [
        "/v1/organization/projects",
        "/v1/organization/projects/proj_1/api_keys",
        "/v1/organization/projects/proj_1/api_keys",
        "/v1/organization/projects",
        "/v1/organization/projects/proj_2/api_keys",
    ]

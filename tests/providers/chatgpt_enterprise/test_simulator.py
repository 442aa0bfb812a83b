"""The Codex Analytics simulator keeps the reference's rules: keys, scope, workspace, look-back, paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from aispend.providers.chatgpt_enterprise.simdata import SHAPES, CodexSettings
from aispend.providers.chatgpt_enterprise.simulator import ChatGPTEnterpriseSimulator

TODAY = datetime.now(UTC).date()


def unix(days_ago: int) -> str:
    return str(int(datetime.combine(TODAY - timedelta(days=days_ago), datetime.min.time(), UTC).timestamp()))


@pytest.fixture
def sim() -> ChatGPTEnterpriseSimulator:
    return ChatGPTEnterpriseSimulator(CodexSettings(history_days=100, rate_limit=(0, 60.0)))


def api(sim: ChatGPTEnterpriseSimulator, key: str | None = None) -> TestClient:
    return TestClient(sim.app, headers={"authorization": f"Bearer {key or sim.settings.key}"})


def path(sim: ChatGPTEnterpriseSimulator, endpoint: str = "usage", workspace: str | None = None) -> str:
    return f"/v1/analytics/codex/workspaces/{workspace or sim.settings.workspace_id}/{endpoint}"


def test_keys_scope_and_workspace(sim: ChatGPTEnterpriseSimulator) -> None:
    params = {"start_time": unix(2)}
    assert TestClient(sim.app).get(path(sim), params=params).status_code == 401
    assert api(sim, "sk-proj-unknown").get(path(sim), params=params).status_code == 401
    unscoped = api(sim, sim.settings.unscoped_key).get(path(sim), params=params)
    assert unscoped.status_code == 403
    assert "codex.enterprise.analytics.read" in unscoped.json()["error"]["message"]
    assert api(sim, sim.settings.other_org_key).get(path(sim), params=params).status_code == 403
    assert api(sim).get(path(sim, workspace="ws_other"), params=params).status_code == 404
    assert api(sim).get(path(sim), params=params).status_code == 200


def test_look_back_and_parameters(sim: ChatGPTEnterpriseSimulator) -> None:
    client = api(sim)
    assert "90 days" in client.get(path(sim), params={"start_time": unix(91)}).json()["error"]["message"]
    assert client.get(path(sim), params={"start_time": unix(2), "group_by": "month"}).status_code == 400
    assert client.get(path(sim), params={"start_time": unix(2), "limit": "501"}).status_code == 400
    assert client.get(path(sim, "nothing"), params={"start_time": unix(2)}).status_code == 404


def test_rows_page_out_of_day_order_in_every_shape(sim: ChatGPTEnterpriseSimulator) -> None:
    client = api(sim)
    params = {"start_time": unix(8), "end_time": unix(1), "group_by": "day", "limit": "100"}
    first = client.get(path(sim), params=params).json()
    assert first["has_more"]
    changed = client.get(path(sim), params={**params, "limit": "99", "page": first["next_page"]})
    assert changed.status_code == 400
    rows = list(first["data"])
    cursor = first["next_page"]
    while cursor:
        body = client.get(path(sim), params={**params, "page": cursor}).json()
        rows += body["data"]
        cursor = body["next_page"]
    starts = [str(row["start_time"]) for row in rows]
    assert starts != sorted(starts)  # not by day
    shapes = {
        sim.workspace.shape_of(use)
        for d in range(1, 9)
        for use in sim.workspace.days_of(TODAY - timedelta(days=d))
    }
    assert shapes == set(SHAPES)


def test_over_the_budget_is_429_with_retry_after() -> None:
    sim = ChatGPTEnterpriseSimulator(CodexSettings(history_days=10, rate_limit=(1, 60.0)))
    client = api(sim)
    assert client.get(path(sim, "code_reviews"), params={"start_time": unix(2)}).status_code == 200
    refused = client.get(path(sim, "code_reviews"), params={"start_time": unix(2)})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error"]["type"] == "rate_limit_exceeded"
    sim.inject("503")
    assert client.get(path(sim, "code_reviews"), params={"start_time": unix(2)}).status_code == 503

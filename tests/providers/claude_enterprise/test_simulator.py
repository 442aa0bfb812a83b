"""The Claude Enterprise simulator keeps the reference's rules: scopes, limits, cursors, writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from aispend.providers.claude_enterprise.simdata import EnterpriseSettings
from aispend.providers.claude_enterprise.simulator import ClaudeEnterpriseSimulator

TODAY = datetime.now(UTC).date()
ANALYTICS = "/v1/organizations/analytics"
LIMITS = "/v1/organizations/spend_limits"
REQUESTS = "/v1/organizations/spend_limit_increase_requests"


def at(days_ago: int) -> str:
    return f"{TODAY - timedelta(days=days_ago)}T00:00:00Z"


@pytest.fixture
def sim() -> ClaudeEnterpriseSimulator:
    return ClaudeEnterpriseSimulator(EnterpriseSettings(history_days=40, rate_limit=(0, 60.0)))


@pytest.fixture
def api(sim: ClaudeEnterpriseSimulator) -> TestClient:
    return TestClient(sim.app, headers={"x-api-key": sim.settings.full_key})


def message(response: Any) -> str:
    body = response.json()
    assert body["type"] == "error"
    return str(body["error"]["message"])


def test_keys_and_scopes(sim: ClaudeEnterpriseSimulator) -> None:
    anonymous = TestClient(sim.app)
    assert anonymous.get(f"{ANALYTICS}/summaries").status_code == 401
    admin = TestClient(sim.app, headers={"x-api-key": "sk-ant-admin01-abc"})
    assert "Admin API keys" in message(admin.get(f"{ANALYTICS}/summaries"))
    analytics = TestClient(sim.app, headers={"x-api-key": sim.settings.analytics_key})
    refused = analytics.get(f"{LIMITS}/effective")
    assert refused.status_code == 403
    assert "read:spend_limits" in message(refused)  # the scope needed
    assert "read:analytics" in message(refused)  # and the ones the key has
    read_only = TestClient(sim.app, headers={"x-api-key": sim.settings.read_only_key})
    assert "write:spend_limits" in message(read_only.post(LIMITS, json={}))
    off = ClaudeEnterpriseSimulator(EnterpriseSettings(history_days=5, usage_credits=False))
    no_credits = TestClient(off.app, headers={"x-api-key": off.settings.full_key}).get(f"{LIMITS}/effective")
    assert no_credits.status_code == 403
    assert "scope" not in message(no_credits)


def test_report_ranges_follow_the_reference(api: TestClient) -> None:
    usage = f"{ANALYTICS}/usage_report"
    assert api.get(usage, params={"starting_at": at(40), "ending_at": at(5)}).status_code == 400  # > 31 days
    assert "2026-01-01" in message(api.get(usage, params={"starting_at": "2025-12-31T00:00:00Z"}))
    assert (
        api.get(usage, params={"starting_at": at(3), "bucket_width": "1m", "ending_at": at(1)}).status_code
        == 400
    )
    needs_end = api.get(f"{ANALYTICS}/user_cost_report", params={"starting_at": at(3), "bucket_width": "1d"})
    assert "ending_at" in message(needs_end)
    assert api.get(usage, params={"starting_at": at(3), "limit": "32"}).status_code == 400
    assert api.get(usage, params={"starting_at": at(3), "group_by[]": "workspace_id"}).status_code == 400
    body = api.get(
        usage, params={"starting_at": at(3), "ending_at": at(1), "bucket_width": "1h", "limit": "48"}
    ).json()
    assert len(body["data"]) == 48
    assert body["organization_id"]
    assert body["data_refreshed_at"]


def test_cursors_refuse_other_parameters_and_expire_on_refresh(
    sim: ClaudeEnterpriseSimulator, api: TestClient
) -> None:
    params = {"starting_at": at(10), "ending_at": at(1), "bucket_width": "1d", "limit": "3"}
    first = api.get(f"{ANALYTICS}/cost_report", params=params).json()
    assert first["has_more"]
    cursor = first["next_page"]
    changed = api.get(f"{ANALYTICS}/cost_report", params={**params, "limit": "4", "page": cursor})
    assert changed.status_code == 400
    assert "does not match" in message(changed)
    assert api.get(f"{ANALYTICS}/cost_report", params={**params, "page": cursor}).status_code == 200
    sim.refresh()
    assert api.get(f"{ANALYTICS}/cost_report", params={**params, "page": cursor}).status_code == 410


def test_each_bucket_keeps_the_top_groups() -> None:
    sim = ClaudeEnterpriseSimulator(EnterpriseSettings(history_days=10, rate_limit=(0, 60.0), group_cap=5))
    api = TestClient(sim.app, headers={"x-api-key": sim.settings.full_key})
    params = [
        ("starting_at", at(5)),
        ("ending_at", at(1)),
        ("group_by[]", "model"),
        ("group_by[]", "token_type"),
    ]
    body = api.get(f"{ANALYTICS}/cost_report", params=params).json()
    for bucket in body["data"]:
        amounts = [float(row["amount"]) for row in bucket["results"]]
        assert len(amounts) == 5
        assert amounts == sorted(amounts, reverse=True)


def test_over_the_budget_is_429_with_retry_after() -> None:
    sim = ClaudeEnterpriseSimulator(EnterpriseSettings(history_days=5, rate_limit=(2, 60.0)))
    api = TestClient(sim.app, headers={"x-api-key": sim.settings.full_key})
    params = {"starting_date": str(TODAY - timedelta(days=2))}
    assert [api.get(f"{ANALYTICS}/summaries", params=params).status_code for _ in range(2)] == [200, 200]
    refused = api.get(f"{ANALYTICS}/summaries", params=params)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    # Spend limits have a budget of their own.
    assert api.get(f"{LIMITS}/effective").status_code == 200


def test_writes_change_what_later_reads_return(sim: ClaudeEnterpriseSimulator, api: TestClient) -> None:
    person = next(
        p for p in sim.org.people if not sim.org.is_deleted(p) and p.user_id not in sim.limits.overrides
    )

    def effective() -> dict[str, Any]:
        [row] = api.get(f"{LIMITS}/effective", params={"user_ids[]": person.user_id}).json()["data"]
        return dict(row)

    assert effective()["source"]["type"] != "user"
    created = api.post(
        LIMITS, json={"scope": {"type": "user", "user_id": person.user_id}, "amount": "75000"}
    ).json()
    assert created["type"] == "spend_limit"
    assert (effective()["amount"], effective()["source"], effective()["spend_limit_id"]) == (
        "75000",
        {"type": "user"},
        created["id"],
    )
    assert api.get(f"{LIMITS}/{created['id']}").json()["amount"] == "75000"
    assert (
        api.post(
            LIMITS, json={"scope": {"type": "user", "user_id": person.user_id}, "amount": "7.5"}
        ).status_code
        == 400
    )
    assert api.delete(f"{LIMITS}/{created['id']}").status_code == 200
    assert effective()["source"]["type"] != "user"
    assert api.delete(f"{LIMITS}/{created['id']}").status_code == 404


def test_increase_requests_are_approved_or_denied_once(api: TestClient) -> None:
    pending = api.get(REQUESTS, params={"status[]": "pending"}).json()["data"]
    assert len(pending) == 5
    assert all(r["spend_summary"] is not None for r in pending)
    created = [r["created_at"] for r in api.get(REQUESTS).json()["data"]]
    assert created == sorted(created, reverse=True)  # newest first
    one, two = pending[0]["id"], pending[1]["id"]
    assert "amount" in message(api.post(f"{REQUESTS}/{one}/approve", json={}))
    approved = api.post(
        f"{REQUESTS}/{one}/approve", json={"amount": "90000", "suppress_notification": True}
    ).json()
    assert (approved["status"], approved["spend_summary"]) == ("approved", None)
    assert api.post(f"{REQUESTS}/{one}/approve", json={"amount": "1"}).status_code == 409
    assert api.post(f"{REQUESTS}/{one}/deny", json={}).status_code == 409
    assert api.post(f"{REQUESTS}/{two}/deny", json={}).json()["status"] == "denied"
    assert api.post(f"{REQUESTS}/{two}/deny", json={}).status_code == 200  # a repeat deny is fine
    assert api.get(f"{REQUESTS}/slir_missing").status_code == 404
    assert api.get("/v1/organizations/nothing").status_code == 404


def test_per_user_reports_rank_people_and_hide_deleted_ones_on_request(
    sim: ClaudeEnterpriseSimulator, api: TestClient
) -> None:
    params = {"starting_at": at(30), "ending_at": at(1), "limit": "1000"}
    rows = api.get(f"{ANALYTICS}/user_cost_report", params=params).json()["data"]
    amounts = [float(row["amount"]) for row in rows]
    assert amounts == sorted(amounts, reverse=True)
    assert any(row["actor"]["deleted"] for row in rows)
    kept = api.get(f"{ANALYTICS}/user_cost_report", params={**params, "exclude_deleted_users": "true"}).json()
    assert not any(row["actor"]["deleted"] for row in kept["data"])
    assert len({row["actor"]["user_id"] for row in rows}) > 50

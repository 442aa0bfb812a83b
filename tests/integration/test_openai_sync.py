"""OpenAI end to end against its simulator on loopback: ground truth, idempotence, errors."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from aispend.connections import ConnectError, connect_provider, list_connections
from aispend.providers.openai.simulator import OpenAISimulator, OpenAISimulatorSettings
from aispend.providers.simserver import RunningSimulator, serve
from aispend.reports.queries import spend_report
from aispend.runtime import Runtime
from aispend.store.schema import AllocatedCost, CostFact, DirectoryItem, UsageFact
from aispend.sync.runner import SyncFailedError, sync_connection

TODAY = datetime.now(UTC).date()
SINCE = TODAY - timedelta(days=40)
UNTIL = TODAY - timedelta(days=1)
CENT_FRACTION = Decimal("0.000001")  # ten-thousandths of a cent: far inside "to the cent"
TOKENS = ("input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens")


@pytest.fixture
def openai_sim() -> OpenAISimulator:
    return OpenAISimulator(OpenAISimulatorSettings(history_days=45))


@pytest.fixture
def openai_served(openai_sim: OpenAISimulator) -> Iterator[RunningSimulator]:
    server = serve(openai_sim)
    yield server
    server.stop()


def connect(runtime: Runtime, sim: OpenAISimulator, served: RunningSimulator, name: str = "oa") -> str:
    connect_provider(
        runtime,
        provider="openai",
        name=name,
        key=sim.org.settings.admin_key,
        base_url=served.base_url,
        min_request_interval=0,
    )
    return name


@pytest.fixture
def openai_connected(runtime: Runtime, openai_sim: OpenAISimulator, openai_served: RunningSimulator) -> str:
    return connect(runtime, openai_sim, openai_served)


def report(runtime: Runtime, by: str, **kwargs: Any) -> dict[str, Any]:
    with runtime.db.session() as session:
        return spend_report(session, runtime.org_id, by=by, since=SINCE, until=UNTIL, **kwargs).as_json()  # type: ignore[arg-type]


def close(ours: Decimal, truth: Decimal, what: object) -> None:
    assert abs(ours - truth) < CENT_FRACTION, (what, ours, truth)


def assert_total(runtime: Runtime, sim: OpenAISimulator, what: str) -> None:
    close(Decimal(report(runtime, "day")["total"]["cost_usd"]), sim.org.total_cost_usd(SINCE, UNTIL), what)


def costs(body: dict[str, Any]) -> dict[str | None, Decimal]:
    return {row["key"]: Decimal(row["cost_usd"]) for row in body["rows"]}


def test_cost_per_project_key_model_user_and_day_equals_ground_truth(
    runtime: Runtime, openai_sim: OpenAISimulator, openai_connected: str
) -> None:
    sync_connection(runtime, openai_connected, since=SINCE)
    org = openai_sim.org
    total = Decimal(report(runtime, "day")["total"]["cost_usd"])
    close(total, org.total_cost_usd(SINCE, UNTIL), "total")

    for by, dim in (("project", "project_id"), ("api-key", "api_key_id"), ("day", "day")):
        ours = costs(report(runtime, by))
        truth = org.cost_usd_by(dim, SINCE, UNTIL)
        # Cost without an API key (storage, sessions, Playground) is one row without a key.
        assert set(ours) == {key for key in truth if key is not None} | ({None} if None in truth else set())
        for key, amount in truth.items():
            close(ours[key], amount, (by, key))

    by_model = costs(report(runtime, "model"))
    for model, amount in org.cost_usd_by("model", SINCE, UNTIL).items():
        if model:
            close(by_model[model], amount, ("model", model))
    tool_rows = {
        key: value for key, value in by_model.items() if key not in org.cost_usd_by("model", SINCE, UNTIL)
    }
    close(sum(tool_rows.values(), Decimal(0)), org.cost_usd_by("model", SINCE, UNTIL)[""], "tools")

    emails = {user["id"]: user["email"].lower() for user in org.users}
    by_user = costs(report(runtime, "user"))
    for user_id, amount in org.cost_usd_by("user_id", SINCE, UNTIL).items():
        key = emails[user_id] if user_id else "unattributed"
        close(by_user[key], amount, ("user", user_id))


def test_tokens_per_project_model_user_and_day_equal_ground_truth(
    runtime: Runtime, openai_sim: OpenAISimulator, openai_connected: str
) -> None:
    sync_connection(runtime, openai_connected, since=SINCE)
    org = openai_sim.org
    emails = {user["id"]: user["email"].lower() for user in org.users}
    for by, dim in (("project", "project_id"), ("model", "model"), ("day", "day"), ("user", "user_id")):
        rows = {row["key"]: row for row in report(runtime, by)["rows"]}
        for key, counts in org.tokens_by(dim, SINCE, UNTIL).items():
            if by == "user":
                key = emails[str(key)] if key else "unattributed"
            for field in TOKENS:
                assert rows[key][field] == counts[field], (by, key, field)


def test_every_allocated_day_sums_exactly_to_the_reported_costs(
    runtime: Runtime, openai_connected: str
) -> None:
    sync_connection(runtime, openai_connected, since=SINCE)
    with runtime.db.session() as session:
        reported = dict(
            session.execute(select(CostFact.day, func.sum(CostFact.amount_usd)).group_by(CostFact.day)).all()
        )
        allocated = dict(
            session.execute(
                select(AllocatedCost.day, func.sum(AllocatedCost.amount_usd)).group_by(AllocatedCost.day)
            ).all()
        )
        methods = set(session.scalars(select(CostFact.method).distinct()))
        allocated_methods = set(session.scalars(select(AllocatedCost.method).distinct()))
    assert reported == allocated
    assert methods == {"parsed_line_item"}
    assert "allocated" in allocated_methods


def _table_digest(runtime: Runtime) -> str:
    """The facts' contents, without surrogate ids (a rebuilt allocation takes new ones on PostgreSQL)."""
    digest = hashlib.sha256()
    with runtime.db.session() as session:
        for table in (UsageFact, CostFact, AllocatedCost, DirectoryItem):
            columns = [c for c in table.__table__.columns if c.name not in ("id", "updated_at")]
            # Sorted here: PostgreSQL cannot order by a JSON column.
            for row in sorted(repr(tuple(row)) for row in session.execute(select(*columns))):
                digest.update(row.encode())
    return digest.hexdigest()


def test_syncing_again_changes_nothing_and_a_restatement_is_followed(
    runtime: Runtime, openai_sim: OpenAISimulator, openai_connected: str
) -> None:
    sync_connection(runtime, openai_connected, since=SINCE)
    before = _table_digest(runtime)
    sync_connection(runtime, openai_connected, since=SINCE)
    assert _table_digest(runtime) == before

    openai_sim.restate(days=3)
    sync_connection(runtime, openai_connected)
    assert_total(runtime, openai_sim, "total")


def test_names_come_from_projects_users_keys_and_service_accounts(
    runtime: Runtime, openai_sim: OpenAISimulator, openai_connected: str
) -> None:
    sync_connection(runtime, openai_connected, since=SINCE)
    org = openai_sim.org
    projects = {row["key"]: row["label"] for row in report(runtime, "project")["rows"]}
    for project in org.projects:
        if project["id"] in projects:
            assert projects[project["id"]] == project["name"]
    keys = {row["key"]: row["label"] for row in report(runtime, "api-key")["rows"] if row["key"]}
    named = {key["id"]: key["name"] for listed in org.api_keys.values() for key in listed}
    assert keys
    assert all(keys[key] == named[key] for key in keys)


def test_overlapping_projects_are_refused_as_the_same_organisation(
    runtime: Runtime, openai_sim: OpenAISimulator, openai_served: RunningSimulator, openai_connected: str
) -> None:
    with pytest.raises(ConnectError, match="already connected as 'oa'"):
        connect(runtime, openai_sim, openai_served, name="oa-again")


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("sk-proj-abc123", "project API key"),
        ("sk-abc123", "user API key"),
        ("sk-svcacct-abc", "service account key"),
        ("AIzaSy-not-openai", "not an OpenAI key"),
    ],
)
def test_a_key_that_is_not_an_admin_key_is_refused_with_the_steps(
    runtime: Runtime, openai_served: RunningSimulator, key: str, says: str
) -> None:
    with pytest.raises(ConnectError, match=says) as caught:
        connect_provider(runtime, provider="openai", name="x", key=key, base_url=openai_served.base_url)
    assert "Admin keys" in str(caught.value)
    assert key not in str(caught.value)


def test_a_revoked_key_fails_the_sync_clearly_and_keeps_the_data(
    runtime: Runtime, openai_sim: OpenAISimulator, openai_connected: str
) -> None:
    sync_connection(runtime, openai_connected, since=SINCE)
    before = _table_digest(runtime)
    openai_sim.inject("401", times=50)
    with pytest.raises(SyncFailedError, match="is it an Admin key"):
        sync_connection(runtime, openai_connected)
    (view,) = list_connections(runtime)
    assert view.last_error is not None
    assert "sk-admin-" in view.last_error
    assert openai_sim.org.settings.admin_key not in view.last_error
    assert _table_digest(runtime) == before


@pytest.mark.parametrize(
    ("fault", "times"), [("429", 2), ("500", 2), ("503", 2), ("truncated", 2), ("garbage", 1)]
)
def test_transient_faults_are_retried_and_lose_nothing(
    runtime: Runtime, openai_sim: OpenAISimulator, openai_connected: str, fault: str, times: int
) -> None:
    openai_sim.inject(fault, times=times, path_prefix="/v1/organization/costs")
    sync_connection(runtime, openai_connected, since=SINCE)
    assert_total(runtime, openai_sim, fault)


@pytest.mark.parametrize(("fault", "says"), [("429", "asked us to slow down"), ("503", "having trouble")])
def test_a_storm_fails_the_sync_clearly_and_corrupts_nothing(
    runtime: Runtime, openai_sim: OpenAISimulator, openai_connected: str, fault: str, says: str
) -> None:
    sync_connection(runtime, openai_connected, since=SINCE)
    before = _table_digest(runtime)
    openai_sim.inject(fault, times=1000, path_prefix="/v1/organization/usage/completions")
    with pytest.raises(SyncFailedError, match=says):
        sync_connection(runtime, openai_connected)
    assert _table_digest(runtime) == before
    (view,) = list_connections(runtime)
    assert view.status == "error"
    assert view.last_error
    assert says in view.last_error
    openai_sim.inject(fault, times=0)
    sync_connection(runtime, openai_connected)
    assert_total(runtime, openai_sim, "after")


def test_a_repeated_cursor_stops_the_stream_with_a_clear_error(
    runtime: Runtime, openai_sim: OpenAISimulator, openai_connected: str
) -> None:
    openai_sim.inject("repeat_cursor", times=1, path_prefix="/v1/organization/usage/completions")
    with pytest.raises(SyncFailedError, match="same page cursor twice"):
        sync_connection(runtime, openai_connected, since=TODAY - timedelta(days=40))
    (view,) = list_connections(runtime)
    assert view.last_error
    assert "same page cursor twice" in view.last_error


def test_reports_filter_by_provider_and_show_both_providers_side_by_side(
    runtime: Runtime, openai_sim: OpenAISimulator, openai_connected: str, connected: str, simulator: Any
) -> None:
    sync_connection(runtime, openai_connected, since=SINCE)
    sync_connection(runtime, connected, since=SINCE)
    by_provider = costs(report(runtime, "provider"))
    close(by_provider["openai"], openai_sim.org.total_cost_usd(SINCE, UNTIL), "openai")
    close(by_provider["anthropic"], simulator.org.total_cost_usd(SINCE, UNTIL), "anthropic")
    only = report(runtime, "model", provider="openai")
    close(Decimal(only["total"]["cost_usd"]), openai_sim.org.total_cost_usd(SINCE, UNTIL), "filtered")


def test_a_backfill_uses_the_fewest_requests_the_page_limits_allow(
    runtime: Runtime, openai_sim: OpenAISimulator, openai_connected: str
) -> None:
    first = UNTIL - timedelta(days=39)
    openai_sim.requests.clear()
    sync_connection(runtime, openai_connected, since=first)
    paths = [request.path for request in openai_sim.requests]
    assert paths.count("/v1/organization/costs") == 1  # 40 days fit one page of 180
    assert paths.count("/v1/organization/usage/completions") == 2  # 31 + 9 days
    assert all(paths.count(f"/v1/organization/usage/{name}") == 2 for name in ("images", "vector_stores"))

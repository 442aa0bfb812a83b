"""End to end against the simulator on loopback: exact totals, idempotence, restatement, errors."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from aispend.connections import ConnectError, connect_provider, list_connections
from aispend.providers.anthropic.simdata import price_per_mtok
from aispend.providers.anthropic.simulator import AnthropicSimulator, RunningSimulator
from aispend.reports.queries import spend_report
from aispend.runtime import Runtime
from aispend.store.schema import AllocatedCost, Connection, CostFact, SyncRun, UsageFact
from aispend.sync.runner import SyncFailedError, sync_connection

TODAY = datetime.now(UTC).date()
SINCE = TODAY - timedelta(days=35)
UNTIL = TODAY - timedelta(days=1)
TOKEN_FIELDS = ("input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens")


def connect_to(runtime: Runtime, name: str, sim: AnthropicSimulator, base_url: str) -> None:
    """An unpaced connection to a served simulator."""
    connect_provider(
        runtime,
        provider="anthropic",
        name=name,
        key=sim.org.settings.admin_key,
        base_url=base_url,
        min_request_interval=0,
    )


def report(runtime: Runtime, by: str, since: date = SINCE, until: date = UNTIL) -> dict[str, Any]:
    with runtime.db.session() as session:
        return spend_report(session, runtime.org_id, by=by, since=since, until=until).as_json()  # type: ignore[arg-type]


def assert_matches_truth(
    runtime: Runtime, sim: AnthropicSimulator, since: date = SINCE, until: date = UNTIL
) -> None:
    """Every model, workspace and day: cost to the billionth of a dollar and tokens to the token."""
    org = sim.org
    for by, dim in (("model", "model"), ("workspace", "workspace_id"), ("day", "day")):
        body = report(runtime, by, since, until)
        truth_cost = org.cost_usd_by(dim, since, until)
        truth_tokens = org.tokens_by(dim, since, until)
        ours = {row["key"]: row for row in body["rows"]}
        token_rows = {k: v for k, v in ours.items() if k not in ("web_search", "code_execution")}
        if by == "model":
            # Non-token costs have no model; they are their own rows.
            non_token = {
                k: Decimal(v["cost_usd"]) for k, v in ours.items() if k in ("web_search", "code_execution")
            }
            assert sum(non_token.values()) == truth_cost.get(None, Decimal(0))
            truth_cost = {k: v for k, v in truth_cost.items() if k is not None}
        if by == "day":
            truth_cost = {str(k): v for k, v in truth_cost.items()}
            truth_tokens = {str(k): v for k, v in truth_tokens.items()}
        assert {k: Decimal(v["cost_usd"]) for k, v in token_rows.items() if Decimal(v["cost_usd"])} == {
            k: v for k, v in truth_cost.items() if v
        }, by
        for key, counts in truth_tokens.items():
            for name in TOKEN_FIELDS:
                assert token_rows[key][name] == counts[name], (by, key, name)
        assert Decimal(body["total"]["cost_usd"]) == org.total_cost_usd(since, until)


def snapshot(runtime: Runtime) -> list[tuple[Any, ...]]:
    with runtime.db.session() as session:
        rows: list[tuple[Any, ...]] = []
        for table in (UsageFact, CostFact):
            rows += [tuple(r) for r in session.execute(select(table.__table__).order_by(table.id))]
        return rows


def test_backfill_equals_ground_truth(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str
) -> None:
    result = sync_connection(runtime, connected, since=SINCE)
    assert result.requests == 3 + 2 + 2 + 35  # directory lists, 2 usage pages, 2 cost pages, 1 per day
    assert_matches_truth(runtime, simulator)
    by_key = report(runtime, "api-key")
    assert sum(Decimal(row["cost_usd"]) for row in by_key["rows"]) == Decimal(by_key["total"]["cost_usd"])
    labels = {row["key"]: row["label"] for row in report(runtime, "workspace")["rows"]}
    assert labels[None] == "Default"
    assert all(label != key for key, label in labels.items() if key)  # names, not ids
    [view] = list_connections(runtime)
    assert view.data_complete_through == UNTIL
    assert view.status == "active"


def test_api_key_split_follows_each_keys_usage(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str
) -> None:
    sync_connection(runtime, connected, since=SINCE)
    with runtime.db.session() as session:
        per_day_alloc = dict(
            session.execute(
                select(AllocatedCost.day, func.sum(AllocatedCost.amount_usd)).group_by(AllocatedCost.day)
            ).all()
        )
        per_day_cost = dict(
            session.execute(select(CostFact.day, func.sum(CostFact.amount_usd)).group_by(CostFact.day)).all()
        )
    assert per_day_alloc == per_day_cost
    # The simulator bills every key at list price, so each key's share is its true cost
    # up to the rounding of the cost lines (well under a cent).
    fields = {
        "uncached_input_tokens": "uncached_input_tokens",
        "cache_creation_5m": "cache_creation.ephemeral_5m_input_tokens",
        "cache_creation_1h": "cache_creation.ephemeral_1h_input_tokens",
        "cache_read_input_tokens": "cache_read_input_tokens",
        "output_tokens": "output_tokens",
    }
    truth: dict[str | None, Decimal] = defaultdict(Decimal)
    day = SINCE
    while day <= UNTIL:
        for row in simulator.org.usage_rows(day):
            dims = (row["model"], row["service_tier"], row["context_window"], row["inference_geo"])
            for field, token_type in fields.items():
                per_mtok = price_per_mtok(dims[0], token_type, *dims[1:])
                truth[row["api_key_id"]] += per_mtok * row[field] / 1_000_000
            truth[row["api_key_id"]] += Decimal("0.01") * row["web_search_requests"]
        day += timedelta(days=1)
    rows = {row["key"]: Decimal(row["cost_usd"]) for row in report(runtime, "api-key")["rows"]}
    for key, amount in truth.items():
        assert abs(rows[key] - amount) < Decimal("0.01"), key
    assert set(rows) - set(truth) <= {"unallocated"}  # code execution has no key


def test_second_sync_changes_no_row(runtime: Runtime, connected: str) -> None:
    sync_connection(runtime, connected, since=SINCE)
    before = snapshot(runtime)
    sync_connection(runtime, connected, since=SINCE)
    assert snapshot(runtime) == before


def test_restated_days_are_picked_up_by_the_next_daily_run(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str
) -> None:
    sync_connection(runtime, connected, since=SINCE)
    old_total = report(runtime, "day")["total"]["cost_usd"]
    simulator.restate(3)
    result = sync_connection(runtime, connected)  # a daily run: T-1 plus the trailing re-fetch
    assert result.windows["messages"] == (TODAY - timedelta(days=3), TODAY)
    assert report(runtime, "day")["total"]["cost_usd"] != old_total
    assert_matches_truth(runtime, simulator)


def test_regular_key_is_refused_before_any_request(
    runtime: Runtime, simulator: AnthropicSimulator, served: RunningSimulator
) -> None:
    with pytest.raises(ConnectError, match="regular API key") as raised:
        connect_provider(
            runtime, provider="anthropic", name="x", key="sk-ant-api03-" + "a" * 90, base_url=served.base_url
        )
    assert "Admin keys" in str(raised.value)
    assert simulator.requests == []


def test_wrong_key_is_refused_at_connect(runtime: Runtime, served: RunningSimulator) -> None:
    with pytest.raises(ConnectError, match=r"is it an Admin key \(sk-ant-admin…\)\?"):
        connect_provider(
            runtime,
            provider="anthropic",
            name="x",
            key="sk-ant-admin01-" + "b" * 90,
            base_url=served.base_url,
        )


def test_second_connection_to_same_organisation_is_refused(
    runtime: Runtime, simulator: AnthropicSimulator, served: RunningSimulator, connected: str
) -> None:
    with pytest.raises(ConnectError, match="count its spend twice"):
        connect_provider(
            runtime,
            provider="anthropic",
            name="again",
            key=simulator.org.settings.admin_key,
            base_url=served.base_url,
        )


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("401", r"is it an Admin key \(sk-ant-admin…\)\?"),
        ("403", "403 permission_error"),
        ("500", "500 api_error"),
        ("529", "529 overloaded_error"),
        ("truncated", "not valid JSON"),
        ("garbage", "not valid JSON"),
        ("429", "asked us to slow down"),
    ],
)
def test_faults_fail_clearly_and_corrupt_nothing(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str, fault: str, message: str
) -> None:
    sync_connection(runtime, connected, since=SINCE)
    before = snapshot(runtime)
    simulator.inject(fault, times=1000, path_prefix="/v1/organizations/usage_report/messages")
    with pytest.raises(SyncFailedError, match=message):
        sync_connection(runtime, connected)
    assert snapshot(runtime) == before
    with runtime.db.session() as session:
        connection = session.scalars(select(Connection)).one()
        assert connection.status == "error"
        assert connection.last_error is not None
        assert message.replace("\\", "").split("(")[0][:10] in connection.last_error
        run = session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run is not None
        assert run.status == "failed"
        assert run.error
    simulator.inject(fault, times=0)
    sync_connection(runtime, connected)
    assert_matches_truth(runtime, simulator)


@pytest.mark.parametrize("fault", ["500", "truncated", "timeout", "429"])
def test_transient_faults_are_retried(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str, fault: str
) -> None:
    simulator.inject(fault, times=2, path_prefix="/v1/organizations/cost_report")
    sync_connection(runtime, connected, since=SINCE)
    assert_matches_truth(runtime, simulator)


def test_repeated_cursor_stops_the_sync(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str
) -> None:
    simulator.inject("repeat_cursor", times=5, path_prefix="/v1/organizations/usage_report/messages")
    with pytest.raises(SyncFailedError, match="same page cursor twice"):
        sync_connection(runtime, connected, since=SINCE)
    with runtime.db.session() as session:
        connection = session.scalars(select(Connection)).one()
        assert connection.status == "error"
        assert "same page cursor twice" in (connection.last_error or "")
    simulator.inject("repeat_cursor", times=0)
    sync_connection(runtime, connected, since=SINCE)
    assert_matches_truth(runtime, simulator)


ALLOWED_PATHS = {
    "/v1/organizations/me",
    "/v1/organizations/usage_report/messages",
    "/v1/organizations/cost_report",
    "/v1/organizations/usage_report/claude_code",
    "/v1/organizations/workspaces",
    "/v1/organizations/api_keys",
    "/v1/organizations/users",
}


def test_connector_calls_only_usage_cost_and_directory_endpoints(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str
) -> None:
    sync_connection(runtime, connected, since=SINCE)
    sync_connection(runtime, connected)
    assert simulator.requests
    for request in simulator.requests:
        assert request.method == "GET", request
        assert request.path in ALLOWED_PATHS, request


def test_disconnected_connection_keeps_data_and_stops_syncing(runtime: Runtime, connected: str) -> None:
    from aispend.connections import disconnect
    from aispend.store.schema import Credential

    sync_connection(runtime, connected, since=SINCE)
    total = report(runtime, "model")["total"]
    disconnect(runtime, connected)
    with runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Credential)) == 0
    assert report(runtime, "model")["total"] == total
    with pytest.raises(SyncFailedError, match="disconnected"):
        sync_connection(runtime, connected)


def test_missing_claude_code_report_is_skipped_not_fatal(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str
) -> None:
    simulator.inject("404", times=1000, path_prefix="/v1/organizations/usage_report/claude_code")
    result = sync_connection(runtime, connected, since=SINCE)
    assert result.skipped == ["claude_code"]
    assert_matches_truth(runtime, simulator)
    simulator.inject("404", times=1000, path_prefix="/v1/organizations/cost_report")
    with pytest.raises(SyncFailedError, match="404 not_found_error"):
        sync_connection(runtime, connected)


def test_two_organisations_add_up_and_stay_apart(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str
) -> None:
    from aispend.providers.anthropic.simdata import SimulatorSettings
    from aispend.providers.anthropic.simulator import serve

    other = AnthropicSimulator(
        SimulatorSettings(seed=11, history_days=60, organization_id="0b7c0f5e-2f4e-4c1e-9d2a-3e4f5a6b7c8d")
    )
    with serve(other) as server:
        connect_to(runtime, "beta", other, server.base_url)
        sync_connection(runtime, connected, since=SINCE)
        sync_connection(runtime, "beta", since=SINCE)
    expected = simulator.org.total_cost_usd(SINCE, UNTIL) + other.org.total_cost_usd(SINCE, UNTIL)
    by_workspace = report(runtime, "workspace")
    assert Decimal(by_workspace["total"]["cost_usd"]) == expected
    defaults = sorted(row["label"] for row in by_workspace["rows"] if row["key"] is None)
    assert defaults == ["Default (acme)", "Default (beta)"]
    [provider] = report(runtime, "provider")["rows"]
    assert Decimal(provider["cost_usd"]) == expected
    with runtime.db.session() as session:
        acme = session.scalar(select(Connection.id).where(Connection.name == "acme"))
        only_acme = spend_report(
            session, runtime.org_id, by="model", since=SINCE, until=UNTIL, connection_id=acme
        )
    assert only_acme.total.cost_usd == simulator.org.total_cost_usd(SINCE, UNTIL)


def test_reconnecting_after_disconnect_keeps_data_and_resumes(
    runtime: Runtime, simulator: AnthropicSimulator, served: RunningSimulator, connected: str
) -> None:
    from aispend.connections import disconnect

    sync_connection(runtime, connected, since=SINCE)
    disconnect(runtime, connected)
    # The name now belongs to a disconnected connection: only the same organisation may take it back.
    with runtime.db.session() as session:
        session.scalars(select(Connection)).one().provider_account_id = "some-other-org"
    with pytest.raises(ConnectError, match="belongs to a disconnected connection to another"):
        connect_to(runtime, connected, simulator, served.base_url)
    with runtime.db.session() as session:
        session.scalars(select(Connection)).one().provider_account_id = simulator.org.settings.organization_id
    connect_to(runtime, connected, simulator, served.base_url)
    result = sync_connection(runtime, connected)  # a daily run: the checkpoints survived
    assert result.windows["messages"] == (TODAY - timedelta(days=3), TODAY)
    assert_matches_truth(runtime, simulator)


def test_a_provider_that_paces_us_is_obeyed(runtime: Runtime) -> None:
    from aispend.providers.anthropic.simdata import SimulatorSettings
    from aispend.providers.anthropic.simulator import serve

    strict = AnthropicSimulator(SimulatorSettings(history_days=10, min_request_interval=0.5))
    since = UNTIL - timedelta(days=2)
    with serve(strict) as server:
        connect_to(runtime, "strict", strict, server.base_url)
        result = sync_connection(runtime, "strict", since=since)
    received = [r for r in strict.requests if r.path != "/v1/organizations/me"]  # /me was the connect check
    assert len(received) == result.requests
    assert result.requests > 3 + 1 + 1 + 3  # some requests were answered 429 and sent again
    assert_matches_truth(runtime, strict, since, UNTIL)


def test_a_backfill_stopped_before_its_first_page_resumes_from_its_since(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str
) -> None:
    since = TODAY - timedelta(days=10)  # not the default backfill start (40 days)
    simulator.inject("500", times=1000, path_prefix="/v1/organizations/usage_report/messages")
    with pytest.raises(SyncFailedError, match="500 api_error"):
        sync_connection(runtime, connected, since=since)
    simulator.inject("500", times=0)

    result = sync_connection(runtime, connected)  # no --since: the stopped backfill carries on

    assert result.windows["messages"] == (since, TODAY)


@pytest.mark.parametrize("fault", ["401", "403", "404"])
def test_fatal_errors_are_not_retried(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str, fault: str
) -> None:
    # One failure only: a retry would succeed and hide it.
    simulator.inject(fault, times=1, path_prefix="/v1/organizations/cost_report")
    with pytest.raises(SyncFailedError, match=f"{fault} "):
        sync_connection(runtime, connected, since=SINCE)


def test_an_optional_stream_fails_the_sync_on_errors_other_than_404(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str
) -> None:
    simulator.inject("403", times=1000, path_prefix="/v1/organizations/usage_report/claude_code")
    with pytest.raises(SyncFailedError, match="403 permission_error"):
        sync_connection(runtime, connected, since=SINCE)


def test_an_active_name_is_refused_to_another_organisation(runtime: Runtime, connected: str) -> None:
    from aispend.providers.anthropic.simdata import SimulatorSettings
    from aispend.providers.anthropic.simulator import serve

    other = AnthropicSimulator(
        SimulatorSettings(seed=11, history_days=5, organization_id="0b7c0f5e-2f4e-4c1e-9d2a-3e4f5a6b7c8d")
    )
    with serve(other) as server, pytest.raises(ConnectError, match="already exists; choose another --name"):
        connect_provider(
            runtime,
            provider="anthropic",
            name=connected,
            key=other.org.settings.admin_key,
            base_url=server.base_url,
        )
    [view] = list_connections(runtime)
    assert view.status == "active"


def test_re_importing_history_never_moves_the_checkpoint_back(runtime: Runtime, connected: str) -> None:
    from aispend.store.schema import SyncState
    from aispend.sync.runner import SyncProgress

    sync_connection(runtime, connected, since=SINCE)
    with runtime.db.session() as session:
        key = (session.scalars(select(Connection.id)).one(), "messages")
    seen: list[date | None] = []

    class Watch(SyncProgress):
        def request_done(self, stream: str, requests: int, rows: int) -> None:
            if stream == "messages":
                with runtime.db.session() as session:
                    state = session.get(SyncState, key)
                    seen.append(state.complete_through if state else None)

    # Joins the imported period, so it moves the checkpoint; two 31-day chunks.
    sync_connection(runtime, connected, since=TODAY - timedelta(days=50), progress=Watch())

    assert seen == [TODAY, TODAY]

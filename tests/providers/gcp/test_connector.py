"""The connector against the simulator through the real client: connect-time checks, errors, paging."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from google.auth.credentials import AnonymousCredentials

from aispend.providers.base import FatalProviderError, RateLimitedError, RetriableProviderError
from aispend.providers.gcp.client import credentials_for
from aispend.providers.gcp.connector import COST_STREAM, STREAMS, GcpConnector
from aispend.providers.gcp.simdata import SimulatorSettings
from aispend.providers.gcp.simulator import BigQuerySimulator, RunningSimulator, serve


@pytest.fixture(scope="module")
def sim() -> BigQuerySimulator:
    return BigQuerySimulator(SimulatorSettings(history_days=40), max_page_rows=150)


@pytest.fixture(scope="module")
def server(sim: BigQuerySimulator) -> Iterator[RunningSimulator]:
    with serve(sim) as running:
        yield running


@pytest.fixture(autouse=True)
def reset(sim: BigQuerySimulator) -> Iterator[None]:
    yield
    sim.can_read_table = sim.can_run_jobs = True
    sim.max_page_rows = 150
    sim.clear_faults()


def connector(server: RunningSimulator, table: str, **options: object) -> GcpConnector:
    with httpx.Client(timeout=5) as http:
        return GcpConnector.create(http, lambda: "", server.base_url, {"table_id": table, **options})


def test_identify_names_the_billing_account_and_checks_schema_permissions_and_data(
    sim: BigQuerySimulator, server: RunningSimulator
) -> None:
    before = len(sim.requests)
    account = connector(server, sim.detailed_table).identify()

    assert account.id == "01A2B3-C4D5E6-F7A8B9"
    assert account.scope_ids == frozenset({"01A2B3-C4D5E6-F7A8B9"})
    assert sim.detailed_table in account.name
    calls = [(r.method, r.path.rsplit("/", 1)[-1], r.kind) for r in sim.requests[before:]]
    assert calls == [
        ("GET", sim.detailed_table.rsplit(".", 1)[-1], ""),
        ("POST", "jobs", "cost"),  # the dry run
        ("POST", "queries", "accounts"),
    ]


@pytest.mark.parametrize(
    "table",
    [
        "acme-billing-admin.billing_export.t`; DROP TABLE x; --",
        "acme-billing-admin.billing_export.t' OR '1'='1",
        'acme-billing-admin.billing_export."t"',
        "acme-billing-admin.billing_export.t;",
        "acme-billing-admin.billing_export.my table",
        "acme-billing-admin.billing export.t",
    ],
)
def test_a_hostile_table_id_is_refused_before_any_request(
    sim: BigQuerySimulator, server: RunningSimulator, table: str
) -> None:
    before = len(sim.requests)
    with pytest.raises(FatalProviderError, match="contain"):
        connector(server, table)
    assert len(sim.requests) == before


def test_a_missing_table_is_explained(sim: BigQuerySimulator, server: RunningSimulator) -> None:
    with pytest.raises(FatalProviderError) as refused:
        connector(server, "acme-billing-admin.billing_export.gcp_billing_export_resource_v1_NOPE").identify()

    assert refused.value.status == 404
    assert "Not found: Table acme-billing-admin:billing_export.gcp_billing_export_resource_v1_NOPE" in str(
        refused.value
    )
    assert "gcp_billing_export_resource_v1_<BILLING_ACCOUNT_ID>" in refused.value.next_step


def test_a_standard_export_table_is_explained(sim: BigQuerySimulator, server: RunningSimulator) -> None:
    before = len(sim.requests)
    with pytest.raises(FatalProviderError) as refused:
        connector(server, sim.standard_table).identify()

    assert "standard usage cost export" in str(refused.value)
    assert "resource and price" in str(refused.value)
    assert "Detailed usage cost" in refused.value.next_step
    assert len(sim.requests) == before + 1  # the schema check alone: no query ran


def test_a_table_that_is_no_billing_export_is_explained(
    sim: BigQuerySimulator, server: RunningSimulator
) -> None:
    with pytest.raises(FatalProviderError, match="not a Cloud Billing export table: it has no"):
        connector(server, sim.unrelated_table).identify()


def test_no_data_viewer_role_is_explained(sim: BigQuerySimulator, server: RunningSimulator) -> None:
    sim.can_read_table = False
    with pytest.raises(FatalProviderError) as refused:
        connector(server, sim.detailed_table).identify()

    assert refused.value.status == 403
    assert "Access Denied: Table" in str(refused.value)
    assert "BigQuery Data Viewer (roles/bigquery.dataViewer)" in refused.value.next_step
    assert "acme-billing-admin:billing_export" in refused.value.next_step


def test_no_job_user_role_is_explained(sim: BigQuerySimulator, server: RunningSimulator) -> None:
    sim.can_run_jobs = False
    with pytest.raises(FatalProviderError) as refused:
        connector(server, sim.detailed_table, query_project="acme-analytics").identify()

    assert refused.value.status == 403
    assert "bigquery.jobs.create permission in project acme-analytics" in str(refused.value)
    assert "BigQuery Job User (roles/bigquery.jobUser) on project acme-analytics" in refused.value.next_step
    assert "--query-project" in refused.value.next_step


def test_queries_run_in_the_query_project(sim: BigQuerySimulator, server: RunningSimulator) -> None:
    before = len(sim.requests)
    connector(server, sim.detailed_table, query_project="acme-analytics").identify()

    assert all("/projects/acme-analytics/" in r.path for r in sim.requests[before:] if r.kind)


@pytest.mark.parametrize(
    ("fault", "error"),
    [("500", RetriableProviderError), ("503", RetriableProviderError), ("rate_limit", RateLimitedError)],
)
def test_transient_errors_are_retriable(
    sim: BigQuerySimulator, server: RunningSimulator, fault: str, error: type[Exception]
) -> None:
    sim.inject(fault, route="query")
    gcp = connector(server, sim.detailed_table)
    today = sim.export.today
    with pytest.raises(error):
        gcp.fetch(COST_STREAM, today - timedelta(days=3), today, None)
    assert gcp.fetch(COST_STREAM, today - timedelta(days=3), today, None).days


def test_an_unreachable_endpoint_is_retriable() -> None:
    with httpx.Client(timeout=1) as http:
        gcp = GcpConnector.create(http, lambda: "", "http://127.0.0.1:9", {"table_id": "abcdef.d.t"})
    with pytest.raises(RetriableProviderError, match="Could not reach BigQuery"):
        gcp.identify()


@pytest.mark.parametrize("stream", [s for s in STREAMS if s.kind != "directory"], ids=lambda s: s.name)
def test_pages_cut_inside_a_day_reach_the_engine_as_whole_days(
    sim: BigQuerySimulator, server: RunningSimulator, stream: object
) -> None:
    sim.max_page_rows = 60
    gcp = connector(server, sim.detailed_table)
    today = sim.export.today
    start = today - timedelta(days=10)
    whole = BigQuerySimulator(replace(sim.settings, now=sim.export.now))  # the same data, one page
    with serve(whole) as single:
        expected = connector(single, whole.detailed_table).fetch(stream, start, today, None)  # type: ignore[arg-type]
    assert expected.next_cursor is None
    pages, cursor, seen_days = 0, None, []
    while True:
        page = gcp.fetch(stream, start, today, cursor)  # type: ignore[arg-type]
        pages += 1
        seen_days += [d.day for d in page.days]
        for day in page.days:
            [same] = [d for d in expected.days if d.day == day.day]
            assert sorted(map(repr, day.cost + day.usage)) == sorted(map(repr, same.cost + same.usage))  # type: ignore[operator]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages >= 3
    assert seen_days == sorted(set(seen_days)) == [d.day for d in expected.days]


def test_an_emulator_endpoint_gets_no_credentials_and_google_gets_adc() -> None:
    assert isinstance(credentials_for("http://127.0.0.1:9050"), AnonymousCredentials)
    # Google's own endpoint: the client finds Application Default Credentials itself.
    assert credentials_for(None) is None


def test_an_https_endpoint_without_adc_is_anonymous(monkeypatch: pytest.MonkeyPatch) -> None:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    def no_adc() -> None:
        raise DefaultCredentialsError("none")

    monkeypatch.setattr(google.auth, "default", no_adc)
    assert isinstance(credentials_for("https://bigquery.example.internal"), AnonymousCredentials)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"table_id": "abcdef.d.t", "query_project": "Bad Project"}, "query project"),
        ({"table_id": "abcdef.d.t", "service_ids": ["C7E2-9256-1C43", "x' OR 1=1"]}, "Service IDs"),
        ({}, "PROJECT.DATASET.TABLE"),
    ],
)
def test_bad_options_are_refused_before_any_request(options: dict[str, object], message: str) -> None:
    with httpx.Client() as http, pytest.raises(FatalProviderError, match=message):
        GcpConnector.create(http, lambda: "", "http://127.0.0.1:9", options)

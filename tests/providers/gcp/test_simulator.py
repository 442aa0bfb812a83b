"""The BigQuery simulator: its dataset, and the REST API as the real client sees it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from aispend.providers.gcp.simcatalog import GEMINI_API, VERTEX_AI
from aispend.providers.gcp.simdata import SimulatedExport, SimulatorSettings
from aispend.providers.gcp.simtruth import money_by, tokens_by
from aispend.providers.gcp.simulator import BigQuerySimulator, RunningSimulator, serve


@pytest.fixture(scope="module")
def sim() -> BigQuerySimulator:
    return BigQuerySimulator(SimulatorSettings(history_days=45, currency="EUR"), max_page_rows=4)


@pytest.fixture(scope="module")
def server(sim: BigQuerySimulator) -> Iterator[RunningSimulator]:
    with serve(sim) as running:
        yield running


@pytest.fixture
def client(server: RunningSimulator) -> bigquery.Client:
    return bigquery.Client(
        project="acme-billing-admin",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": server.base_url},
    )


def test_the_dataset_has_what_the_connector_must_handle(sim: BigQuerySimulator) -> None:
    export = sim.export
    rows = export.rows
    assert {row.sku.service for row in rows} >= {VERTEX_AI, GEMINI_API}
    assert len({row.project.id for row in rows}) == 4
    assert all(row.project_labels for row in rows)
    assert {credit.type for row in rows for credit in row.credits} == {
        "FREE_TIER",
        "PROMOTION",
        "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE",
        "DISCOUNT",
    }
    assert all(credit.amount < 0 for row in rows for credit in row.credits)
    assert {row.sku.mode for row in rows} >= {"standard", "batch", "priority"}
    assert {row.sku.tier for row in rows} >= {"long", "short"}
    assert {row.sku.truth_kind for row in rows} >= {
        "input", "output", "cached_input", "cache_storage", "thinking_output", "grounding", "other",
    }  # fmt: skip
    assert {row.cost_type for row in rows} == {"regular", "adjustment"}
    # Late rows at a month's end belong to the next invoice month, and were exported in it.
    late = [row for row in rows if row.invoice_month != row.day.strftime("%Y%m")]
    assert late
    assert all(row.export_time.strftime("%Y%m") == row.invoice_month for row in late)
    # Nothing from the future; today's usage only partly exported.
    assert max(row.export_time for row in rows) <= export.now
    assert all(row.partition_time.date() == row.export_time.date() for row in rows)
    # A non-USD account: rates move daily, and on the 10th twice in a day.
    assert {row.currency for row in rows} == {"EUR"}
    tenth = [row for row in rows if row.day.day == 10]
    assert len({row.rate for row in tenth}) == 2


def test_the_dataset_is_deterministic() -> None:
    first, second = SimulatedExport(), SimulatedExport()

    assert first.rows == second.rows
    assert first.rows != SimulatedExport(SimulatorSettings(seed=1)).rows


def test_ground_truth_nets_credits_and_converts_each_row_at_its_own_rate(sim: BigQuerySimulator) -> None:
    export = sim.export
    since, until = export.today - timedelta(days=30), export.today - timedelta(days=1)
    gross = money_by(export, "gross", (), since, until)[()]
    credits = money_by(export, "credits", ("credit_type",), since, until)
    net = money_by(export, "net", (), since, until)[()]
    assert net == gross + sum(credits.values())
    assert gross > 0 > sum(credits.values())
    usd = money_by(export, "gross", (), since, until, usd=True)[()]
    rows = [r for r in export.rows if since <= r.day <= until and r.sku.service in (VERTEX_AI, GEMINI_API)]
    assert abs(usd - sum(r.cost / r.rate for r in rows)) < Decimal("1e-20")
    tokens = tokens_by(export, ("kind",), since, until)
    assert set(tokens) == {("input",), ("output",), ("cached_input",), ("thinking_output",)}


def test_pages_follow_page_tokens_and_start_indexes(client: bigquery.Client, sim: BigQuerySimulator) -> None:
    sql = "-- aispend:accounts\nSELECT DISTINCT t.billing_account_id AS billing_account_id FROM `{}` AS t\n"
    job = client.query(
        sql.format(sim.detailed_table) + "WHERE _PARTITIONTIME >= @scan_from",
        job_config=bigquery.QueryJobConfig(
            query_parameters=[bigquery.ScalarQueryParameter("scan_from", "TIMESTAMP", sim.export.now)]
        ),
    )
    assert [dict(row) for row in job.result()] == []  # nothing loaded in the current hour's partition
    projects = (
        "-- aispend:projects\nSELECT t.project.id AS project_id\n"
        f"FROM `{sim.detailed_table}` AS t LEFT JOIN UNNEST(t.project.labels) AS l\n"
        "WHERE _PARTITIONTIME >= @scan_from AND t.service.id IN UNNEST(@service_ids)"
    )
    config = bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.ScalarQueryParameter("scan_from", "TIMESTAMP", sim.export.now - timedelta(days=400)),
            bigquery.ArrayQueryParameter("service_ids", "STRING", [VERTEX_AI, GEMINI_API]),
        ]
    )
    rows = client.query_and_wait(projects, job_config=config, page_size=3)
    everything = [row["project_id"] for row in rows]
    assert len(everything) > 4  # one row per (project, name, label): several pages of at most 4
    assert Counter(everything).keys() == {
        "acme-chatbot-prod",
        "acme-search-prod",
        "acme-research",
        "acme-batch-jobs",
    }
    job = client.get_job(rows.job_id, location=rows.location)
    assert isinstance(job, bigquery.QueryJob)
    assert [row["project_id"] for row in job.result(start_index=3)] == everything[3:]


def test_a_detailed_column_on_the_standard_export_is_an_invalid_query(
    client: bigquery.Client, sim: BigQuerySimulator
) -> None:
    sql = f"-- aispend:accounts\nSELECT t.resource.global_name AS x\nFROM `{sim.standard_table}` AS t"
    with pytest.raises(exceptions.BadRequest) as refused:
        client.query_and_wait(sql)

    assert refused.value.errors[0]["reason"] == "invalidQuery"
    assert "Unrecognized name: resource at [2:8]" in refused.value.message


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1", "only aispend's own queries"),
        (
            "-- aispend:accounts\nSELECT t.billing_account_id FROM `{table}` AS t WHERE _PARTITIONTIME >= @x",
            "'x'",
        ),
        ("-- aispend:accounts\nSELECT c.nope FROM `{table}` AS t, UNNEST(t.credits) AS c", "nope"),
    ],
)
def test_what_bigquery_would_refuse_is_refused(
    client: bigquery.Client, sim: BigQuerySimulator, sql: str, message: str
) -> None:
    with pytest.raises(exceptions.BadRequest, match=message):
        client.query_and_wait(sql.format(table=sim.detailed_table))


def test_errors_have_bigquerys_json_shape(server: RunningSimulator, sim: BigQuerySimulator) -> None:
    response = httpx.get(
        f"{server.base_url}/bigquery/v2/projects/acme-billing-admin/datasets/billing_export/tables/nope"
    )

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": 404,
            "message": "Not found: Table acme-billing-admin:billing_export.nope",
            "errors": [
                {
                    "message": "Not found: Table acme-billing-admin:billing_export.nope",
                    "domain": "global",
                    "reason": "notFound",
                }
            ],
            "status": "NOT_FOUND",
        }
    }
    sim.can_run_jobs = False
    try:
        denied = httpx.post(
            f"{server.base_url}/bigquery/v2/projects/other-project/queries", json={"query": "SELECT 1"}
        ).json()["error"]
    finally:
        sim.can_run_jobs = True
    assert (denied["code"], denied["status"], denied["errors"][0]["reason"]) == (
        403,
        "PERMISSION_DENIED",
        "accessDenied",
    )
    assert "bigquery.jobs.create permission in project other-project" in denied["message"]


def test_faults_are_injected_after_and_for_as_many_requests_as_asked(
    client: bigquery.Client, sim: BigQuerySimulator
) -> None:
    sim.inject("503", times=1, route="table", after=1)
    try:
        client.get_table(sim.detailed_table)
        with pytest.raises(exceptions.ServiceUnavailable):
            client.get_table(sim.detailed_table, retry=None)
        assert client.get_table(sim.detailed_table).num_rows == len(sim.export.rows)
    finally:
        sim.clear_faults()
    with pytest.raises(ValueError, match="unknown fault"):
        sim.inject("teapot")

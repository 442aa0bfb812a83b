"""`aispend connect gcp`: the command's contract, its refusals, and a sync through it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from aispend.cli import app
from aispend.providers.gcp.simulator import BigQuerySimulator, RunningSimulator


@pytest.fixture
def cli(env_for: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name, value in env_for.items():
        if name.startswith("AISPEND_"):
            monkeypatch.setenv(name, value)
    return CliRunner()


def connect(cli: CliRunner, served: RunningSimulator, table: str, *extra: str) -> tuple[int, str]:
    args = ["connect", "gcp", "--name", "gcp", "--table-id", table, "--bigquery-endpoint", served.base_url]
    result = cli.invoke(app, [*args, *extra])
    return result.exit_code, result.output


def test_connect_sync_and_list(
    cli: CliRunner, gcp_simulator: BigQuerySimulator, gcp_served: RunningSimulator
) -> None:
    code, output = connect(cli, gcp_served, gcp_simulator.detailed_table, "--query-project", "acme-analytics")
    assert code == 0, output
    assert "Connected gcp: Google Cloud billing account 01A2B3-C4D5E6-F7A8B9" in output
    assert "aispend sync --connection gcp" in output

    result = cli.invoke(
        app, ["sync", "--connection", "gcp", "--since", str(gcp_simulator.export.today.replace(day=1))]
    )
    assert result.exit_code == 0, result.output
    [view] = json.loads(cli.invoke(app, ["connections", "--format", "json"]).output)
    assert (view["provider"], view["status"], view["key_fingerprint"]) == ("gcp", "active", "")
    assert all("/projects/acme-analytics/" in r.path for r in gcp_simulator.queries())


@pytest.mark.parametrize(
    "table",
    [
        "acme-billing-admin.billing_export.x`; DELETE FROM t WHERE true; --",
        "acme-billing-admin.billing_export.x' OR ''='",
        'acme-billing-admin.billing_export."x"',
        "acme-billing-admin.billing_export.x; SELECT 1",
        "acme-billing-admin.billing_export.x y",
        "billing_export.x",
    ],
)
def test_a_hostile_table_id_is_refused_before_any_query(
    cli: CliRunner, gcp_simulator: BigQuerySimulator, gcp_served: RunningSimulator, table: str
) -> None:
    code, output = connect(cli, gcp_served, table)

    assert code == 1
    assert "error:" in output
    assert gcp_simulator.requests == []


def test_missing_permissions_are_explained(
    cli: CliRunner, gcp_simulator: BigQuerySimulator, gcp_served: RunningSimulator
) -> None:
    gcp_simulator.can_run_jobs = False
    code, output = connect(cli, gcp_served, gcp_simulator.detailed_table)
    assert code == 1
    assert "roles/bigquery.jobUser" in output

    gcp_simulator.can_run_jobs, gcp_simulator.can_read_table = True, False
    code, output = connect(cli, gcp_served, gcp_simulator.detailed_table)
    assert code == 1
    assert "roles/bigquery.dataViewer" in output


def test_a_standard_export_is_explained(
    cli: CliRunner, gcp_simulator: BigQuerySimulator, gcp_served: RunningSimulator
) -> None:
    code, output = connect(cli, gcp_served, gcp_simulator.standard_table)

    assert code == 1
    assert "standard usage cost export" in output
    assert "Detailed usage cost" in output


def test_services_may_be_repeated_or_comma_separated(
    cli: CliRunner, gcp_simulator: BigQuerySimulator, gcp_served: RunningSimulator
) -> None:
    code, output = connect(
        cli,
        gcp_served,
        gcp_simulator.detailed_table,
        "--services",
        "C7E2-9256-1C43,AEFD-7695-64FA",
        "--services",
        "6F81-5844-456A",
    )
    assert code == 0, output

    code, output = connect(cli, gcp_served, gcp_simulator.detailed_table, "--services", "vertex")
    assert code == 1
    assert "Service IDs look like C7E2-9256-1C43" in output


def test_no_key_is_taken(cli: CliRunner) -> None:
    result = cli.invoke(app, ["connect", "gcp", "--help"])

    assert result.exit_code == 0
    assert "--key" not in result.output
    assert "--table-id" in result.output

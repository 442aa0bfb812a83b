"""The connector's real SQL on a real BigQuery engine: ``bqemulator`` on loopback.

The simulator answers aispend's queries by evaluating them in Python; this test runs the
same SQL, through the same client, on an emulator that executes it (SQLGlot to DuckDB), over
the simulator's rows, and checks the import against the same ground truth: so the SQL is
valid, and means what the simulator says it means.

The emulator is heavy and must not share the project's environment (it pins DuckDB and brings
its own pytest plugin), so it lives in its own virtual environment, named by
``AISPEND_BQEMULATOR`` (the path of its ``bqemulator`` executable); the test is skipped
without it. To set it up offline (the pins the reference found to work):

    python3 -m venv .bqemu
    .bqemu/bin/pip install bqemulator==1.4.0 duckdb==1.5.5 duckdb-extension-spatial==1.5.5 numpy
    AISPEND_BQEMULATOR=.bqemu/bin/bqemulator pytest tests/integration/test_gcp_emulator.py

The test installs the bundled DuckDB spatial extension into a private home (the emulator
would otherwise download it) before it starts the emulator.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from aispend.connections import connect_provider
from aispend.providers.gcp.connector import COST_STREAM
from aispend.providers.gcp.simdata import ExportRow, SimulatedExport, SimulatorSettings
from aispend.providers.gcp.simschema import DETAILED_SCHEMA, row_json
from aispend.runtime import Runtime
from aispend.sync.planner import restated_from
from aispend.sync.runner import sync_connection
from tests.integration.test_gcp_sync import assert_matches_truth

EMULATOR = os.environ.get("AISPEND_BQEMULATOR", "")
pytestmark = pytest.mark.skipif(
    not EMULATOR, reason="AISPEND_BQEMULATOR (the bqemulator executable) is not set; see the module docstring"
)
INSTALL_SPATIAL = """
import glob, os, duckdb, duckdb_extension_spatial
root = os.path.dirname(duckdb_extension_spatial.__file__)
[path] = glob.glob(os.path.join(root, "extensions", "*", "*.duckdb_extension"))
duckdb.sql(f"INSTALL '{path}'")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("bqemulator-home")
    env = {**os.environ, "HOME": str(home)}
    python = Path(EMULATOR).with_name("python")
    subprocess.run([str(python), "-c", INSTALL_SPATIAL], env=env, check=True, timeout=120)
    port = _free_port()
    process = subprocess.Popen(
        [
            EMULATOR,
            "start",
            "--rest-port",
            str(port),
            "--grpc-port",
            "0",
            "--ephemeral",
            "--log-level",
            "error",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/bigquery/v2/projects/p/datasets", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("bqemulator did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _load(client: bigquery.Client, table_id: str, rows: list[ExportRow]) -> None:
    for start in range(0, len(rows), 500):
        errors = client.insert_rows_json(table_id, [row_json(row) for row in rows[start : start + 500]])
        assert not errors, errors[:3]


def test_the_real_sql_imports_the_ground_truth_and_a_restatement(runtime: Runtime, emulator: str) -> None:
    export = SimulatedExport(SimulatorSettings(history_days=40, currency="EUR"))
    project, dataset = export.settings.table_project, export.settings.dataset
    table_id = f"{project}.{dataset}.gcp_billing_export_resource_v1_{export.settings.table_suffix}"
    client = bigquery.Client(
        project=project, credentials=AnonymousCredentials(), client_options={"api_endpoint": emulator}
    )
    client.create_dataset(f"{project}.{dataset}", exists_ok=True)
    table = bigquery.Table(table_id, schema=[bigquery.SchemaField.from_api_repr(f) for f in DETAILED_SCHEMA])
    table.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY)
    client.create_table(table)
    _load(client, table_id, export.rows)

    connect_provider(
        runtime, provider="gcp", name="gcp", key=None, base_url=emulator, extra_options={"table_id": table_id}
    )
    since, until = export.today - timedelta(days=35), export.today - timedelta(days=1)
    sync_connection(runtime, "gcp", since=since, today=export.today)
    assert_matches_truth(runtime, export, since, until)

    _load(client, table_id, export.restate(until - timedelta(days=2)))
    sync_connection(runtime, "gcp", today=export.today)
    # A daily run re-reads the restated months, which may start before the backfill did.
    assert_matches_truth(runtime, export, min(since, restated_from(COST_STREAM, export.today)), until)

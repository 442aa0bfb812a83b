"""The CLI contract: command names, flags, output shapes and exit codes."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from aispend.cli import app
from aispend.providers.anthropic.simulator import AnthropicSimulator, RunningSimulator
from aispend.runtime import Runtime
from aispend.store.schema import Credential

YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)
ROW_FIELDS = [
    "key",
    "label",
    "cost_usd",
    "input_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "output_tokens",
]


@pytest.fixture
def cli(env_for: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name, value in env_for.items():
        if name.startswith("AISPEND_"):
            monkeypatch.setenv(name, value)
    return CliRunner()


@pytest.fixture
def admin_key(simulator: AnthropicSimulator, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", simulator.org.settings.admin_key)
    return simulator.org.settings.admin_key


def connect(cli: CliRunner, served: RunningSimulator, *extra: str) -> None:
    result = cli.invoke(
        app,
        [
            "connect",
            "anthropic",
            "--name",
            "acme",
            "--key-env",
            "ANTHROPIC_ADMIN_KEY",
            "--base-url",
            served.base_url,
            "--min-request-interval",
            "0",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output


def test_connect_sync_report_disconnect(
    cli: CliRunner, served: RunningSimulator, admin_key: str, runtime: Runtime, simulator: AnthropicSimulator
) -> None:
    connect(cli, served)
    since = (YESTERDAY - timedelta(days=9)).isoformat()
    result = cli.invoke(app, ["sync", "--connection", "acme", "--since", since])
    assert result.exit_code == 0, result.output

    listed = json.loads(cli.invoke(app, ["connections", "--format", "json"]).stdout)
    assert listed == [
        {
            "name": "acme",
            "provider": "anthropic",
            "provider_organization": f"{simulator.org.settings.organization_name} "
            f"({simulator.org.settings.organization_id})",
            "status": "active",
            "last_sync_at": listed[0]["last_sync_at"],
            "data_complete_through": YESTERDAY.isoformat(),
            "key_fingerprint": f"sk-ant-admin01-…{admin_key[-4:]}",
            "last_error": None,
        }
    ]

    for by in ("provider", "model", "workspace", "api-key", "user", "day", "month"):
        out = cli.invoke(app, ["report", "spend", "--by", by, "--since", since, "--format", "json"])
        assert out.exit_code == 0, out.output
        body = json.loads(out.stdout)
        assert list(body) == ["currency", "since", "until", "by", "rows", "total"]
        assert body["currency"] == "USD"
        assert (body["since"], body["until"], body["by"]) == (since, YESTERDAY.isoformat(), by)
        assert all(list(row) == ROW_FIELDS for row in body["rows"])
        assert sum(Decimal(row["cost_usd"]) for row in body["rows"]) == Decimal(body["total"]["cost_usd"])
        assert Decimal(body["total"]["cost_usd"]) == simulator.org.total_cost_usd(
            YESTERDAY - timedelta(days=9), YESTERDAY
        )

    table = cli.invoke(app, ["report", "spend", "--by", "workspace", "--since", since])
    assert "Default" in table.stdout
    assert "$" in table.stdout

    csv_out = cli.invoke(app, ["report", "spend", "--by", "day", "--since", since, "--format", "csv"]).stdout
    rows = list(csv.DictReader(io.StringIO(csv_out)))
    assert list(rows[0]) == ROW_FIELDS
    assert len(rows) == 10 + 1  # ten days and the total

    result = cli.invoke(app, ["disconnect", "acme"])
    assert result.exit_code == 0, result.output
    with runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Credential)) == 0
    again = cli.invoke(app, ["sync", "--connection", "acme"])
    assert again.exit_code == 1
    assert "disconnected" in again.output


def test_key_must_come_from_env_or_stdin(cli: CliRunner, served: RunningSimulator, admin_key: str) -> None:
    neither = cli.invoke(app, ["connect", "anthropic", "--name", "x", "--base-url", served.base_url])
    assert neither.exit_code == 1
    assert "--key-env" in neither.output
    piped = cli.invoke(
        app,
        ["connect", "anthropic", "--name", "x", "--key-stdin", "--base-url", served.base_url],
        input=admin_key + "\n",
    )
    assert piped.exit_code == 0, piped.output
    assert admin_key not in piped.output
    # There is no flag that takes the key itself.
    assert cli.invoke(app, ["connect", "anthropic", "--name", "y", "--key", admin_key]).exit_code == 2


def test_regular_key_is_refused_with_steps(
    cli: CliRunner, served: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", "sk-ant-api03-" + "z" * 90)
    result = cli.invoke(
        app,
        [
            "connect",
            "anthropic",
            "--name",
            "x",
            "--key-env",
            "ANTHROPIC_ADMIN_KEY",
            "--base-url",
            served.base_url,
        ],
    )
    assert result.exit_code == 1
    assert "regular API key" in result.output
    assert "Settings > Admin keys" in result.output
    assert "z" * 20 not in result.output


def test_failed_sync_exits_nonzero_with_the_reason(
    cli: CliRunner, served: RunningSimulator, admin_key: str, simulator: AnthropicSimulator
) -> None:
    connect(cli, served)
    simulator.inject("401", times=100)
    result = cli.invoke(app, ["sync"])
    assert result.exit_code == 1
    assert "is it an Admin key" in result.output
    listed = json.loads(cli.invoke(app, ["connections", "--format", "json"]).stdout)
    assert listed[0]["status"] == "error"
    assert "is it an Admin key" in listed[0]["last_error"]


def test_report_rejects_reversed_dates(cli: CliRunner) -> None:
    result = cli.invoke(app, ["report", "spend", "--since", "2026-05-02", "--until", "2026-05-01"])
    assert result.exit_code == 1
    assert "before" in result.output


def test_unreachable_database_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AISPEND_HOME", str(tmp_path))
    monkeypatch.setenv("AISPEND_DATABASE_URL", "postgresql+psycopg://aispend:hunter2pass@127.0.0.1:1/none")
    result = CliRunner().invoke(app, ["connections"])
    assert result.exit_code == 1
    assert "cannot open the database postgresql+psycopg://aispend:***@127.0.0.1:1/none" in result.output
    assert "hunter2pass" not in result.output


def test_sync_rejects_reversed_dates(cli: CliRunner) -> None:
    result = cli.invoke(app, ["sync", "--since", "2026-05-02", "--until", "2026-05-01"])
    assert result.exit_code == 1
    assert "--until 2026-05-01 is before --since 2026-05-02" in result.output

"""The admin key's bytes appear nowhere: database files, logs, CLI output, API responses."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, select
from typer.testing import CliRunner

from aispend.cli import app
from aispend.providers.anthropic.simulator import AnthropicSimulator, RunningSimulator
from aispend.runtime import Runtime
from aispend.web.app import create_app

SINCE = (datetime.now(UTC).date() - timedelta(days=5)).isoformat()


def stored_bytes(runtime: Runtime) -> bytes:
    """Everything the database holds: the raw files on SQLite, every row of every table otherwise."""
    if runtime.db.engine.dialect.name == "sqlite":
        database = Path(runtime.db.url.removeprefix("sqlite:///"))
        files = [*Path(runtime.settings.home).rglob("*"), *database.parent.glob(database.name + "*")]
        assert database in files
        return b"".join(path.read_bytes() for path in files if path.is_file())
    metadata = MetaData()
    metadata.reflect(runtime.db.engine)
    chunks: list[bytes] = []
    with runtime.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                chunks += [v if isinstance(v, bytes) else str(v).encode() for v in row]
    return b"\n".join(chunks)


def test_key_never_leaks(
    runtime: Runtime,
    simulator: AnthropicSimulator,
    served: RunningSimulator,
    env_for: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = simulator.org.settings.admin_key
    secret = key.removeprefix("sk-ant-admin01-")[:-4].encode()  # all but what the fingerprint shows
    for name, value in env_for.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AISPEND_LOG_LEVEL", "DEBUG")
    caplog.set_level(logging.DEBUG)
    cli = CliRunner()
    outputs = [
        cli.invoke(
            app,
            [
                "connect",
                "anthropic",
                "--name",
                "acme",
                "--key-stdin",
                "--base-url",
                served.base_url,
                "--min-request-interval",
                "0",
            ],
            input=key + "\n",
        ).output
    ]
    # A faulty run as well: error paths are where keys usually slip out.
    simulator.inject("500", times=1)
    simulator.inject("401", times=100, path_prefix="/v1/organizations/usage_report/claude_code")
    outputs.append(cli.invoke(app, ["sync", "--since", SINCE]).output)
    simulator.inject("401", times=0)
    outputs.append(cli.invoke(app, ["sync", "--since", SINCE]).output)
    for command in (
        ["connections"],
        ["connections", "--format", "json"],
        ["report", "spend", "--by", "api-key", "--since", SINCE, "--format", "json"],
        ["report", "spend", "--by", "workspace", "--since", SINCE, "--format", "csv"],
    ):
        outputs.append(cli.invoke(app, command).output)
    client = TestClient(create_app(runtime))
    for path in ("/healthz", "/api/v1/spend?by=api-key", "/api/openapi.json"):
        outputs.append(client.get(path).text)
    assert "…" + key[-4:] in outputs[0]  # the fingerprint is shown, so the search below is meaningful
    for text in outputs:
        assert secret.decode() not in text
    assert secret.decode() not in caplog.text
    assert secret not in stored_bytes(runtime)


def test_disconnect_leaves_no_sealed_key_behind(runtime: Runtime, connected: str) -> None:
    from aispend.connections import disconnect
    from aispend.store.schema import Credential

    with runtime.db.session() as session:
        credential = session.scalars(select(Credential)).one()
        sealed = [credential.ciphertext, credential.wrapped_data_key]
    assert all(blob in stored_bytes(runtime) for blob in sealed)
    disconnect(runtime, connected)
    remaining = stored_bytes(runtime)
    assert not any(blob in remaining for blob in sealed)

"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when
``AISPEND_TEST_DATABASE_URL`` points at one (CI runs both)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from aispend.connections import connect_provider
from aispend.providers.anthropic.simdata import SimulatorSettings
from aispend.providers.anthropic.simulator import AnthropicSimulator, RunningSimulator, serve
from aispend.runtime import Runtime
from aispend.settings import Settings
from aispend.store.schema import Connection

POSTGRES_URL = os.environ.get("AISPEND_TEST_DATABASE_URL")


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    if POSTGRES_URL:
        reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return f"sqlite:///{tmp_path / 'aispend.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Fast-failing settings in a private data directory, with the key file created on first use."""
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        http_timeout_seconds=2.0,
        retry_attempts=3,
        retry_backoff_seconds=0.01,
        backfill_days=40,
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def env_for(settings: Settings) -> dict[str, str]:
    """Environment that points a CLI subprocess at the same data as ``runtime``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISPEND_")}
    env.update(
        AISPEND_HOME=str(settings.home),
        AISPEND_DATABASE_URL=settings.resolved_database_url,
        AISPEND_HTTP_TIMEOUT_SECONDS=str(settings.http_timeout_seconds),
        AISPEND_RETRY_ATTEMPTS=str(settings.retry_attempts),
        AISPEND_RETRY_BACKOFF_SECONDS=str(settings.retry_backoff_seconds),
        AISPEND_BACKFILL_DAYS=str(settings.backfill_days),
        COLUMNS="200",
    )
    return env


def add_connection(runtime: Runtime, name: str) -> int:
    """A bare connection row, for tests that write facts without a provider."""
    with runtime.db.session() as session:
        connection = Connection(
            org_id=runtime.org_id, name=name, provider="anthropic", provider_account_id="x"
        )
        session.add(connection)
        session.flush()
        return connection.id


@pytest.fixture
def connection_id(runtime: Runtime) -> int:
    return add_connection(runtime, "t")


@pytest.fixture
def simulator() -> AnthropicSimulator:
    return AnthropicSimulator(SimulatorSettings(history_days=60))


@pytest.fixture
def served(simulator: AnthropicSimulator) -> Iterator[RunningSimulator]:
    server = serve(simulator)
    yield server
    server.stop()


@pytest.fixture
def connected(runtime: Runtime, simulator: AnthropicSimulator, served: RunningSimulator) -> str:
    """An unpaced connection named 'acme' to the served simulator."""
    connect_provider(
        runtime,
        provider="anthropic",
        name="acme",
        key=simulator.org.settings.admin_key,
        base_url=served.base_url,
        min_request_interval=0,
    )
    return "acme"

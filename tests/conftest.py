"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when
``AISPEND_TEST_DATABASE_URL`` points at one (CI runs both)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from aispend.auth.apitokens import issue_token
from aispend.auth.permissions import Role, TokenScope
from aispend.auth.sessions import SESSION_COOKIE, start_session
from aispend.auth.users import add_member, find_user
from aispend.connections import connect_provider
from aispend.limits import connect_claude_enterprise
from aispend.providers.anthropic.simdata import SimulatorSettings
from aispend.providers.anthropic.simulator import AnthropicSimulator, RunningSimulator, serve
from aispend.providers.chatgpt_enterprise.simdata import CodexSettings
from aispend.providers.chatgpt_enterprise.simulator import ChatGPTEnterpriseSimulator
from aispend.providers.claude_enterprise.simdata import EnterpriseSettings
from aispend.providers.claude_enterprise.simulator import ClaudeEnterpriseSimulator
from aispend.providers.gcp.simdata import SimulatorSettings as GcpSettings
from aispend.providers.gcp.simulator import BigQuerySimulator as GcpSimulator
from aispend.runtime import Runtime
from aispend.settings import Settings
from aispend.store.schema import Connection, Membership, User
from aispend.web.app import create_app

POSTGRES_URL = os.environ.get("AISPEND_TEST_DATABASE_URL")

# CI draws the same examples for every property on every run (derandomize), so whether a
# change lands never depends on the draw; a local run explores new examples each time and
# keeps any failure it finds in .hypothesis/ to replay first.
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        # A backfill a web test started in a thread may still be reading this worker's
        # database; dropping the schema under it would deadlock, so end its sessions first.
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> str | None:
    """The PostgreSQL database of this test process: one per xdist worker, so workers never collide."""
    worker_id = os.environ.get("PYTEST_XDIST_WORKER", "master")
    if not POSTGRES_URL or worker_id == "master":
        return POSTGRES_URL
    base = make_url(POSTGRES_URL)
    name = f"{base.database}_{worker_id}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def database_url(tmp_path: Path, postgres_url: str | None) -> str:
    if postgres_url:
        reset_postgres(postgres_url)
        return postgres_url
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


def make_user(
    runtime: Runtime, role: str = "admin", *, email: str | None = None, org_id: int | None = None
) -> int:
    """A user (no password: tests sign them in directly) with ``role`` in ``org_id`` (default org)."""
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    with runtime.db.session() as session:
        user = find_user(session, email)
        org = org_id or runtime.org_id
        if user is None or session.get(Membership, (user.id, org)) is None:
            user = add_member(session, org_id=org, email=email, role=Role(role))
        return user.id


def sign_in(
    client: TestClient,
    runtime: Runtime,
    role: str = "admin",
    *,
    email: str | None = None,
    org_id: int | None = None,
) -> int:
    """Give ``client`` the session cookie of a new user with ``role``; returns the user's id."""
    user_id = make_user(runtime, role, email=email, org_id=org_id)
    with runtime.db.session() as session:
        user = session.get_one(User, user_id)
        token = start_session(
            session, runtime.settings, user, address="testclient", user_agent="pytest", org_id=org_id
        )
    # The domain the cookie jar gives the server's own cookies, so a Set-Cookie can replace it.
    host = client.base_url.host
    client.cookies.set(SESSION_COOKIE, token, domain=host if "." in host else f"{host}.local")
    return user_id


def api_token(
    runtime: Runtime, role: str = "admin", *, scope: str = "read", org_id: int | None = None, days: int = 30
) -> str:
    """A personal API token of a new user with ``role``; send it as ``Authorization: Bearer``."""
    user_id = make_user(runtime, role, org_id=org_id)
    with runtime.db.session() as session:
        _view, secret = issue_token(
            session,
            user_id=user_id,
            org_id=org_id or runtime.org_id,
            name="test",
            scope=TokenScope(scope),
            days=days,
        )
    return secret


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    """An anonymous browser on the web app; redirects are returned, not followed."""
    return TestClient(create_app(runtime), follow_redirects=False)


@pytest.fixture
def admin_client(client: TestClient, runtime: Runtime) -> TestClient:
    """``client`` signed in as an Admin of the default organisation."""
    sign_in(client, runtime, "admin")
    return client


@pytest.fixture
def gcp_simulator() -> GcpSimulator:
    """A simulated Cloud Billing detailed export (50 days) behind a BigQuery API stand-in."""
    return GcpSimulator(GcpSettings(history_days=50))


@pytest.fixture
def gcp_served(gcp_simulator: GcpSimulator) -> Iterator[RunningSimulator]:
    server = serve(gcp_simulator)
    yield server
    server.stop()


@pytest.fixture
def gcp_connected(runtime: Runtime, gcp_simulator: GcpSimulator, gcp_served: RunningSimulator) -> str:
    """A connection named 'gcp' to the served simulator's detailed export table."""
    connect_provider(
        runtime,
        provider="gcp",
        name="gcp",
        key=None,
        base_url=gcp_served.base_url,
        extra_options={"table_id": gcp_simulator.detailed_table},
    )
    return "gcp"


@pytest.fixture
def claude_enterprise() -> ClaudeEnterpriseSimulator:
    """A simulated Claude Enterprise organisation (60 days of history), its rate limit off."""
    return ClaudeEnterpriseSimulator(EnterpriseSettings(history_days=60, rate_limit=(0, 60.0)))


@pytest.fixture
def claude_enterprise_served(claude_enterprise: ClaudeEnterpriseSimulator) -> Iterator[RunningSimulator]:
    server = serve(claude_enterprise)
    yield server
    server.stop()


@pytest.fixture
def claude_enterprise_connected(
    runtime: Runtime, claude_enterprise: ClaudeEnterpriseSimulator, claude_enterprise_served: RunningSimulator
) -> str:
    """An unpaced connection named 'claude-ent' with a key holding every scope."""
    connect_claude_enterprise(
        runtime,
        name="claude-ent",
        key=claude_enterprise.settings.full_key,
        base_url=claude_enterprise_served.base_url,
        min_request_interval=0,
    )
    return "claude-ent"


@pytest.fixture
def chatgpt_enterprise() -> ChatGPTEnterpriseSimulator:
    """A simulated ChatGPT Enterprise workspace (rows in every shape), its rate limit off."""
    return ChatGPTEnterpriseSimulator(CodexSettings(history_days=60, rate_limit=(0, 60.0)))


@pytest.fixture
def chatgpt_enterprise_served(chatgpt_enterprise: ChatGPTEnterpriseSimulator) -> Iterator[RunningSimulator]:
    server = serve(chatgpt_enterprise)
    yield server
    server.stop()


@pytest.fixture
def chatgpt_enterprise_connected(
    runtime: Runtime,
    chatgpt_enterprise: ChatGPTEnterpriseSimulator,
    chatgpt_enterprise_served: RunningSimulator,
) -> str:
    """An unpaced connection named 'codex' to the served workspace."""
    connect_provider(
        runtime,
        provider="chatgpt_enterprise",
        name="codex",
        key=chatgpt_enterprise.settings.key,
        base_url=chatgpt_enterprise_served.base_url,
        min_request_interval=0,
        extra_options={"workspace_id": chatgpt_enterprise.settings.workspace_id},
    )
    return "codex"

"""One aispend server for the browser tests, seeded once from the simulators, and Chromium.

Playwright drives the OS package's Chromium (``apt-get install -y chromium``); it never
downloads a browser. Without ``/usr/bin/chromium`` every browser test is skipped, saying why.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aispend.auth.permissions import Role
from aispend.auth.users import add_member
from aispend.connections import connect_provider
from aispend.providers.anthropic.simdata import SimulatorSettings, _derived_admin_key
from aispend.providers.anthropic.simulator import AnthropicSimulator, RunningSimulator, serve
from aispend.providers.openai.simdata import OpenAISimulatorSettings
from aispend.providers.openai.simulator import OpenAISimulator
from aispend.runtime import Runtime
from aispend.settings import Settings
from aispend.sync.runner import sync_connection

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PASSWORD = "correct horse battery staple"
HISTORY_DAYS = 45


@dataclass
class Site:
    url: str
    runtime: Runtime
    anthropic: tuple[AnthropicSimulator, RunningSimulator]
    users: dict[str, str]  # role -> email


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A running server with two simulated providers imported, and one user per role."""
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: run `apt-get install -y chromium` (as .ci/run does)")
    import uvicorn

    from aispend.web.app import create_app

    home = tmp_path_factory.mktemp("browser")
    runtime = Runtime(
        Settings(
            home=home,
            database_url=f"sqlite:///{home / 'aispend.db'}",
            master_key_file=home / "master.key",
            backfill_days=HISTORY_DAYS,
            http_timeout_seconds=5,
        )
    )
    anthropic = AnthropicSimulator(SimulatorSettings(history_days=HISTORY_DAYS + 5))
    openai = OpenAISimulator(OpenAISimulatorSettings(history_days=HISTORY_DAYS + 5))
    servers = [serve(anthropic), serve(openai)]
    since = datetime.now(UTC).date() - timedelta(days=HISTORY_DAYS)
    for provider, name, key, server in (
        ("anthropic", "anthropic-sim", anthropic.org.settings.admin_key, servers[0]),
        ("openai", "openai-sim", openai.org.settings.admin_key, servers[1]),
    ):
        connect_provider(
            runtime, provider=provider, name=name, key=key, base_url=server.base_url, min_request_interval=0
        )
        sync_connection(runtime, name, since=since)
    users = {}
    with runtime.db.session() as session:
        for role in Role:
            email = f"{role.value}@example.com"
            add_member(session, org_id=runtime.org_id, email=email, role=role, password=PASSWORD)
            users[role.value] = email
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    # A second Anthropic organisation for the connect-form test (the first is already connected).
    spare = AnthropicSimulator(
        SimulatorSettings(
            history_days=10,
            seed=7,
            admin_key=_derived_admin_key(7),
            organization_id="org-spare-browser-test",
            organization_name="Spare Labs (simulated)",
        )
    )
    spare_server = serve(spare)
    try:
        yield Site(f"http://127.0.0.1:{port}", runtime, (spare, spare_server), users)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        for running in (*servers, spare_server):
            running.stop()
        runtime.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


def screenshot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]

"""`aispend demo` on a fresh data directory serves a populated report on localhost."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_demo_serves_simulated_spend(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISPEND_")}
    env["AISPEND_HOME"] = str(tmp_path / "home")
    # A configured database must be left alone: the demo keeps its own.
    env["AISPEND_DATABASE_URL"] = f"sqlite:///{tmp_path / 'real.db'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "aispend", "demo", "--port", str(port), "--days", "30"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        body = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.3)
                continue
            body = _signed_in_spend(port, _demo_credentials(process))
            break
        assert body is not None, process.stderr.read().decode() if process.poll() is not None else "no answer"
        assert Decimal(body["total"]["cost_usd"]) > 0
        assert len(body["rows"]) >= 5
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    assert b"Total" in stdout
    assert process.returncode in (0, 130, -signal.SIGINT), stderr.decode()
    assert (tmp_path / "home" / "demo" / "aispend.db").exists()
    assert not (tmp_path / "real.db").exists()


def _demo_credentials(process: subprocess.Popen[bytes]) -> tuple[str, str]:
    """The demo Admin's email and password, from the line the demo printed before serving."""
    assert process.stderr is not None
    for line in iter(process.stderr.readline, b""):
        found = re.search(r"/login as (\S+) with password (\S+)", line.decode())
        if found:
            return found.group(1), found.group(2)
    raise AssertionError("the demo printed no sign-in credentials")


def _signed_in_spend(port: int, credentials: tuple[str, str]) -> dict[str, object]:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as browser:
        page = browser.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf is not None
        email, password = credentials
        signed_in = browser.post(
            "/login", data={"email": email, "password": password, "csrf_token": csrf.group(1)}
        )
        assert signed_in.status_code == 303, signed_in.text
        body: dict[str, object] = browser.get("/api/v1/spend?by=model").json()
        return body

"""SIGKILL `aispend sync` at random moments of a backfill, rerun it, and lose or duplicate nothing."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from aispend.providers.anthropic.simulator import AnthropicSimulator
from aispend.runtime import Runtime
from aispend.store.schema import CostFact, SyncRun, SyncState, UsageFact
from tests.integration.test_anthropic_sync import assert_matches_truth

DAYS = 50


def _facts(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(UsageFact)) or 0


def _sync(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "aispend", "sync", "--connection", "acme"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_killed_backfill_resumes_without_gap_or_duplicate(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str, env_for: dict[str, str]
) -> None:
    # Slow the requests a little so a kill lands mid-backfill rather than after it.
    with runtime.db.session() as session:
        from aispend.store.schema import Connection

        connection = session.scalars(select(Connection)).one()
        connection.options = {**connection.options, "min_request_interval": 0.05}
    env = {**env_for, "AISPEND_BACKFILL_DAYS": str(DAYS)}
    rng = random.Random(20261126)
    kills = 0
    while kills < 5:
        before = _facts(runtime)
        process = _sync(env)
        # Kill only once this run has committed something, so every kill lands mid-backfill
        # however slowly the machine starts Python; then at a random moment after that.
        deadline = time.monotonic() + 120
        while process.poll() is None and _facts(runtime) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.25))
        if process.poll() is not None:
            assert process.returncode == 0, process.stderr.read().decode() if process.stderr else ""
            break  # finished before the kill: the remaining runs have nothing left to do
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
    assert kills >= 5, f"the backfill finished after only {kills} kills; slow it down"
    final = _sync(env)
    _, stderr = final.communicate(timeout=300)
    assert final.returncode == 0, stderr.decode()

    today = datetime.now(UTC).date()
    since, until = today - timedelta(days=DAYS), today - timedelta(days=1)
    assert_matches_truth(runtime, simulator, since, until)
    with runtime.db.session() as session:
        states = session.scalars(select(SyncState)).all()
        assert {s.stream: s.complete_through for s in states} == dict.fromkeys(
            ("messages", "cost", "claude_code"), today
        )
        assert all(s.pending_until is None for s in states)
        # Every day of the window is present once per stream: no gap, no duplicate.
        for stream in ("messages", "claude_code"):
            days = session.scalars(select(UsageFact.day).where(UsageFact.stream == stream).distinct()).all()
            assert len(days) == DAYS
        assert len(session.scalars(select(CostFact.day).distinct()).all()) == DAYS
        statuses = session.scalars(select(SyncRun.status).order_by(SyncRun.id)).all()
        assert statuses == ["interrupted"] * kills + ["succeeded"]

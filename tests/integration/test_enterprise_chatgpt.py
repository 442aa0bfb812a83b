"""ChatGPT Enterprise (Codex Analytics) end to end against its simulator: credits to the credit
per person, client and model; the 90-day look-back; connect-time checks; credits priced by an
effective-dated contract rate, and unpriced (never $0) without one."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from aispend import audit
from aispend.cli import app
from aispend.connections import ConnectError, connect_provider, get_connection
from aispend.credit_rates import priced_credits, set_credit_rate
from aispend.providers.chatgpt_enterprise import parse as codex_parse
from aispend.providers.chatgpt_enterprise.simdata import CodexSettings
from aispend.providers.chatgpt_enterprise.simulator import ChatGPTEnterpriseSimulator, RunningSimulator, serve
from aispend.runtime import Runtime
from aispend.store.schema import UsageFact
from aispend.sync.runner import sync_connection

TODAY = datetime.now(UTC).date()
SINCE = TODAY - timedelta(days=30)
UNTIL = TODAY - timedelta(days=1)


def usage_by(runtime: Runtime, stream: str, column: Any, measure: Any = UsageFact.credits) -> dict[str, Any]:
    with runtime.db.session() as session:
        rows = session.execute(
            select(column, func.sum(measure)).where(UsageFact.stream == stream).group_by(column)
        )
        return {key: total for key, total in rows if total}


def test_backfill_equals_ground_truth(
    runtime: Runtime, chatgpt_enterprise: ChatGPTEnterpriseSimulator, chatgpt_enterprise_connected: str
) -> None:
    sync_connection(runtime, chatgpt_enterprise_connected, since=SINCE)
    ws = chatgpt_enterprise.workspace
    assert len(ws.people) > 50
    assert usage_by(runtime, "codex_usage", UsageFact.user_id) == ws.credits_by(
        lambda u: u.email.lower(), SINCE, UNTIL
    )
    assert usage_by(runtime, "codex_usage", UsageFact.variant) == {
        k: v for k, v in ws.credits_by_client(SINCE, UNTIL).items() if v
    }
    assert usage_by(runtime, "codex_model_usage", UsageFact.model) == ws.credits_by_model(SINCE, UNTIL)
    turns: dict[str, int] = defaultdict(int)
    for day in (SINCE + timedelta(days=n) for n in range((UNTIL - SINCE).days + 1)):
        for use in ws.days_of(day):
            turns[use.email.lower()] += sum(c.turns for c in use.clients)
    # Turns of rows that show only totals are counted there too.
    assert usage_by(runtime, "codex_usage", UsageFact.user_id, UsageFact.requests) == dict(turns)
    reviews = usage_by(runtime, "codex_code_reviews", UsageFact.variant, UsageFact.quantity)
    assert {k: int(v) for k, v in reviews.items() if k in ("pull_request_reviews", "comments_p0")} == {
        k: v
        for k, v in ws.review_totals(SINCE, UNTIL).items()
        if k in ("pull_request_reviews", "comments_p0") and v
    }
    assert (
        usage_by(runtime, "codex_code_review_responses", UsageFact.variant, UsageFact.quantity)["replies"] > 0
    )
    with runtime.db.session() as session:
        assert set(session.scalars(select(UsageFact.product).distinct())) == {"codex"}


def test_only_the_last_90_days_are_asked_for(runtime: Runtime) -> None:
    sim = ChatGPTEnterpriseSimulator(CodexSettings(history_days=120, rate_limit=(0, 60.0)))
    with serve(sim) as server:
        _connect(runtime, sim, server)
        sync_connection(runtime, "codex", since=TODAY - timedelta(days=120))
    first = TODAY - timedelta(days=89)
    assert usage_by(runtime, "codex_usage", UsageFact.user_id) == sim.workspace.credits_by(
        lambda u: u.email.lower(), first, UNTIL
    )


def _connect(
    runtime: Runtime, sim: ChatGPTEnterpriseSimulator, server: RunningSimulator, **changes: Any
) -> str:
    options = {"key": sim.settings.key, "workspace_id": sim.settings.workspace_id, **changes}
    connect_provider(
        runtime,
        provider="chatgpt_enterprise",
        name="codex",
        key=options["key"],
        base_url=server.base_url,
        min_request_interval=0,
        extra_options={"workspace_id": options["workspace_id"]},
    )
    return "codex"


def test_connect_names_the_scope_and_the_workspace(
    runtime: Runtime,
    chatgpt_enterprise: ChatGPTEnterpriseSimulator,
    chatgpt_enterprise_served: RunningSimulator,
) -> None:
    sim, server = chatgpt_enterprise, chatgpt_enterprise_served
    with pytest.raises(ConnectError, match=r"codex\.enterprise\.analytics\.read"):
        _connect(runtime, sim, server, key=sim.settings.unscoped_key)
    with pytest.raises(ConnectError, match="does not own this workspace"):
        _connect(runtime, sim, server, key=sim.settings.other_org_key)
    with pytest.raises(ConnectError, match="not found"):
        _connect(runtime, sim, server, workspace_id="ws_someone_else")
    with pytest.raises(ConnectError, match="not a ChatGPT Workspace ID"):
        _connect(runtime, sim, server, workspace_id="../admin")
    with pytest.raises(ConnectError, match="Anthropic key"):
        _connect(runtime, sim, server, key="sk-ant-api01-xyz")
    assert _connect(runtime, sim, server) == "codex"


def test_429s_are_waited_out(runtime: Runtime) -> None:
    sim = ChatGPTEnterpriseSimulator(CodexSettings(history_days=10, rate_limit=(3, 1.0)))
    with serve(sim) as server:
        _connect(runtime, sim, server)
        sync_connection(runtime, "codex", since=TODAY - timedelta(days=5))
    assert sim.rejected >= 1
    since = TODAY - timedelta(days=5)
    assert usage_by(runtime, "codex_usage", UsageFact.user_id) == sim.workspace.credits_by(
        lambda u: u.email.lower(), since, UNTIL
    )


def test_unknown_fields_are_logged_once_and_kept_out(
    runtime: Runtime,
    chatgpt_enterprise_connected: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(codex_parse, "_logged", set())
    with caplog.at_level(logging.WARNING, logger="aispend.providers.chatgpt_enterprise.parse"):
        sync_connection(runtime, chatgpt_enterprise_connected, since=SINCE)
    unknown = [r.getMessage() for r in caplog.records if "unknown field" in r.getMessage()]
    assert sorted(unknown) == [
        "ChatGPT Enterprise: unknown field 'cohort' in a usage object is not imported",
        "ChatGPT Enterprise: unknown field 'surface' in a client object is not imported",
    ]


def _priced(runtime: Runtime, by: tuple[str, ...] = ("user_id",)) -> dict[tuple[str, ...], Any]:
    with runtime.db.session() as session:
        return {p.key: p for p in priced_credits(session, runtime.org_id, since=SINCE, until=UNTIL, by=by)}


def test_credits_are_unpriced_until_a_rate_then_priced_day_by_day(
    runtime: Runtime, chatgpt_enterprise: ChatGPTEnterpriseSimulator, chatgpt_enterprise_connected: str
) -> None:
    sync_connection(runtime, chatgpt_enterprise_connected, since=SINCE)
    ws = chatgpt_enterprise.workspace
    unpriced = _priced(runtime)
    assert all(p.usd is None for p in unpriced.values())  # never $0
    assert {k[0]: p.unpriced_credits for k, p in unpriced.items()} == ws.credits_by(
        lambda u: u.email.lower(), SINCE, UNTIL
    )
    middle = SINCE + timedelta(days=10)
    with runtime.db.session() as session:
        connection = get_connection(session, runtime.org_id, chatgpt_enterprise_connected)
        set_credit_rate(session, connection, middle, Decimal("0.04"))
        set_credit_rate(session, connection, middle + timedelta(days=7), Decimal("0.035"))
    priced = _priced(runtime)
    for (email,), row in priced.items():
        early = ws.credits_by(lambda u: u.email.lower(), SINCE, middle - timedelta(days=1)).get(
            email, Decimal(0)
        )
        week = ws.credits_by(lambda u: u.email.lower(), middle, middle + timedelta(days=6)).get(
            email, Decimal(0)
        )
        late = ws.credits_by(lambda u: u.email.lower(), middle + timedelta(days=7), UNTIL).get(
            email, Decimal(0)
        )
        assert row.credits == early + week + late
        assert row.unpriced_credits == early
        assert row.usd == week * Decimal("0.04") + late * Decimal("0.035")
    by_client = _priced(runtime, by=("variant",))
    assert sum(p.credits for p in by_client.values()) == sum(p.credits for p in priced.values())
    with runtime.db.session() as session:
        changes = audit.entries(session, org_id=runtime.org_id, action="credit_rate.set")
    assert [entry.after for entry in reversed(changes)] == [
        {"usd_per_credit": "0.04", "effective_from": middle.isoformat()},
        {"usd_per_credit": "0.035", "effective_from": (middle + timedelta(days=7)).isoformat()},
    ]


def test_credit_rate_commands(
    runtime: Runtime,
    chatgpt_enterprise_connected: str,
    env_for: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in env_for.items():
        monkeypatch.setenv(name, value)
    cli = CliRunner()
    empty = cli.invoke(app, ["credit-rate", "list", "--connection", "codex"])
    assert "no credit rate" in empty.output
    day = date(2026, 6, 1)
    done = cli.invoke(
        app,
        [
            "credit-rate",
            "set",
            "--connection",
            "codex",
            "--usd-per-credit",
            "0.04",
            "--from",
            day.isoformat(),
        ],
    )
    assert done.exit_code == 0, done.output
    listed = cli.invoke(app, ["credit-rate", "list", "--connection", "codex", "--format", "json"])
    assert '"usd_per_credit": "0.040000000"' in listed.output or '"usd_per_credit": "0.04"' in listed.output
    negative = cli.invoke(
        app, ["credit-rate", "set", "--connection", "codex", "--usd-per-credit", "-1", "--from", "2026-06-02"]
    )
    assert negative.exit_code == 1
    cleared = cli.invoke(app, ["credit-rate", "clear", "--connection", "codex", "--from", day.isoformat()])
    assert cleared.exit_code == 0, cleared.output
    again = cli.invoke(app, ["credit-rate", "clear", "--connection", "codex", "--from", day.isoformat()])
    assert again.exit_code == 1
    assert "no rate starting" in again.output
    with runtime.db.session() as session:
        assert [e.action for e in audit.entries(session, org_id=runtime.org_id, action="credit_rate.")] == [
            "credit_rate.cleared",
            "credit_rate.set",
        ]

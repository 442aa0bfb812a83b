"""Claude Enterprise spend limits through the simulator: reads, audited writes, refusals, CLI."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from aispend import audit
from aispend.cli import app
from aispend.connections import list_connections
from aispend.limits import (
    LimitsError,
    approve_request,
    clear_limit,
    connect_claude_enterprise,
    deny_request,
    list_limits,
    list_requests,
    set_limit,
)
from aispend.providers.claude_enterprise.simdata import (
    READ_ANALYTICS,
    READ_LIMITS,
    WRITE_LIMITS,
    EnterpriseSettings,
)
from aispend.providers.claude_enterprise.simulator import ClaudeEnterpriseSimulator, RunningSimulator, serve
from aispend.runtime import Runtime
from aispend.store.schema import AuditEntry


def entries(runtime: Runtime, action: str) -> list[AuditEntry]:
    with runtime.db.session() as session:
        return audit.entries(session, org_id=runtime.org_id, action=action)


def live_people(sim: ClaudeEnterpriseSimulator) -> list[str]:
    return [p.email for p in sim.org.people if not sim.org.is_deleted(p)]


def test_list_shows_every_member_with_source_and_spend(
    runtime: Runtime, claude_enterprise: ClaudeEnterpriseSimulator, claude_enterprise_connected: str
) -> None:
    rows = list_limits(runtime, claude_enterprise_connected)
    people = [p for p in claude_enterprise.org.people if not claude_enterprise.org.is_deleted(p)]
    assert len(rows) == len(people) > 50
    for row, person in zip(rows, people, strict=True):
        truth = claude_enterprise.limits.effective(person)
        assert row.email == person.email
        assert row.source == truth["source"]["type"]
        expected = None if truth["amount"] is None else Decimal(truth["amount"]) / 100
        assert row.amount_usd == expected
        assert row.period_to_date_usd == Decimal(truth["period_to_date_spend"]) / 100
    assert {row.source for row in rows} == {"user", "rbac_group", "seat_tier", "organization"}
    assert any(row.amount_usd is None for row in rows)
    assert any(row.amount_usd == 0 for row in rows)


def test_set_limit_round_trips_and_is_audited(
    runtime: Runtime, claude_enterprise: ClaudeEnterpriseSimulator, claude_enterprise_connected: str
) -> None:
    person = next(p for p in claude_enterprise.org.people if p.email != p.email.lower())
    before = claude_enterprise.limits.effective(person)
    result = set_limit(runtime, claude_enterprise_connected, person.email.lower(), Decimal("750"))
    assert result.amount_usd == Decimal("750")
    assert claude_enterprise.limits.overrides[person.user_id].amount == "75000"
    [row] = [r for r in list_limits(runtime, claude_enterprise_connected) if r.user_id == person.user_id]
    assert (row.source, row.amount_usd) == ("user", Decimal("750"))
    [entry] = entries(runtime, "spend_limit.set")
    assert entry.target == f"connection:{claude_enterprise_connected} user:{person.email.lower()}"
    assert entry.before is not None
    assert entry.after is not None
    assert entry.before["source"] == before["source"]["type"]
    assert entry.after == {
        "amount_usd": "750.00",
        "source": "user",
        "spend_limit_id": result.id,
        "period": "monthly",
    }
    assert entry.actor_email  # whoever acted is kept


def test_unlimited_then_clear_falls_back_to_the_inherited_limit(
    runtime: Runtime, claude_enterprise: ClaudeEnterpriseSimulator, claude_enterprise_connected: str
) -> None:
    person = next(p for p in claude_enterprise.org.people if "grp_research" in p.groups and not p.deleted_on)
    set_limit(runtime, claude_enterprise_connected, person.email, None)
    assert claude_enterprise.limits.overrides[person.user_id].amount is None
    now = clear_limit(runtime, claude_enterprise_connected, person.email)
    assert person.user_id not in claude_enterprise.limits.overrides
    assert (now.source, now.amount_usd) == ("rbac_group", Decimal("3000"))
    [entry] = entries(runtime, "spend_limit.cleared")
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["source"], entry.before["amount_usd"]) == ("user", None)
    assert (entry.after["source"], entry.after["amount_usd"]) == ("rbac_group", "3000.00")
    with pytest.raises(LimitsError, match="no limit of their own"):
        clear_limit(runtime, claude_enterprise_connected, person.email)
    with pytest.raises(LimitsError, match="No member"):
        set_limit(runtime, claude_enterprise_connected, "nobody@acme.example", Decimal(1))


def test_approve_and_deny_round_trip_and_are_audited(
    runtime: Runtime, claude_enterprise: ClaudeEnterpriseSimulator, claude_enterprise_connected: str
) -> None:
    pending = list_requests(runtime, claude_enterprise_connected, ("pending",))
    assert len(pending) == 5
    assert all(r.current is not None for r in pending)
    first, second = pending[0], pending[1]
    approved = approve_request(runtime, claude_enterprise_connected, first.id, Decimal("1200"), notify=False)
    assert approved.status == "approved"
    assert approved.current is None
    simulated = claude_enterprise.limits.requests[first.id]
    assert simulated.status == "approved"
    assert simulated.notified == []
    assert claude_enterprise.limits.overrides[first.user_id].amount == "120000"
    denied = deny_request(runtime, claude_enterprise_connected, second.id)
    assert denied.status == "denied"
    assert claude_enterprise.limits.requests[second.id].notified == ["denied"]
    # Denying again changes nothing; denying an approved request is refused.
    assert deny_request(runtime, claude_enterprise_connected, second.id).status == "denied"
    with pytest.raises(LimitsError, match="already approved"):
        deny_request(runtime, claude_enterprise_connected, first.id)
    assert {r.id for r in list_requests(runtime, claude_enterprise_connected, ("pending",))} == {
        r.id for r in pending[2:]
    }
    [approval] = entries(runtime, "spend_limit_request.approved")
    assert approval.before is not None
    assert approval.after is not None
    assert approval.before["status"] == "pending"
    assert approval.after == {
        "status": "approved",
        "user": first.email.lower(),
        "limit_usd": "1200.00",
        "notified": False,
    }
    assert len(entries(runtime, "spend_limit_request.denied")) == 2


def test_writes_are_refused_without_the_write_scope(
    runtime: Runtime, claude_enterprise: ClaudeEnterpriseSimulator, claude_enterprise_served: RunningSimulator
) -> None:
    connect_claude_enterprise(
        runtime,
        name="read-only",
        key=claude_enterprise.settings.read_only_key,
        base_url=claude_enterprise_served.base_url,
        min_request_interval=0,
    )
    assert len(list_limits(runtime, "read-only")) > 50
    email = live_people(claude_enterprise)[0]
    request_id = next(iter(claude_enterprise.limits.requests))
    before = len(claude_enterprise.requests)
    for write in (
        lambda: set_limit(runtime, "read-only", email, Decimal(10)),
        lambda: clear_limit(runtime, "read-only", email),
        lambda: approve_request(runtime, "read-only", request_id, Decimal(10)),
        lambda: deny_request(runtime, "read-only", request_id),
    ):
        with pytest.raises(LimitsError, match="lacks write:spend_limits"):
            write()
    assert len(claude_enterprise.requests) == before  # refused before any request
    assert entries(runtime, "spend_limit.") == []
    assert entries(runtime, "spend_limit_request.") == []


def test_a_key_that_lost_the_write_scope_is_refused_by_the_api(runtime: Runtime) -> None:
    key = "sk-ant-api01-changing-scopes-key-for-tests-0123456789"
    scopes = {key: (READ_ANALYTICS, READ_LIMITS, WRITE_LIMITS)}
    sim = ClaudeEnterpriseSimulator(EnterpriseSettings(history_days=5, rate_limit=(0, 60.0), keys=scopes))
    with serve(sim) as server:
        connect_claude_enterprise(
            runtime, name="ent", key=key, base_url=server.base_url, min_request_interval=0
        )
        scopes[key] = (READ_ANALYTICS, READ_LIMITS)  # the primary owner narrowed the key
        with pytest.raises(LimitsError, match="write:spend_limits"):
            set_limit(runtime, "ent", live_people(sim)[0], Decimal(10))
    [view] = list_connections(runtime)
    assert view.capabilities == ("analytics", "spend_limits.read")
    assert entries(runtime, "spend_limit.set") == []


def test_limits_need_a_claude_enterprise_connection_that_reads_them(
    runtime: Runtime, claude_enterprise: ClaudeEnterpriseSimulator, claude_enterprise_served: RunningSimulator
) -> None:
    connect_claude_enterprise(
        runtime,
        name="analytics",
        key=claude_enterprise.settings.analytics_key,
        base_url=claude_enterprise_served.base_url,
    )
    with pytest.raises(LimitsError, match="lacks read:spend_limits"):
        list_limits(runtime, "analytics")
    with pytest.raises(LimitsError, match="No connection named"):
        list_limits(runtime, "missing")


@pytest.fixture
def cli(env_for: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name, value in env_for.items():
        monkeypatch.setenv(name, value)
    return CliRunner()


def test_cli_lists_sets_and_answers_requests(
    cli: CliRunner, claude_enterprise: ClaudeEnterpriseSimulator, claude_enterprise_connected: str
) -> None:
    listed = cli.invoke(
        app, ["limits", "list", "--connection", claude_enterprise_connected, "--format", "json"]
    )
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert len(rows) > 50
    assert set(rows[0]) == {"email", "name", "limit", "source", "period", "spent"}
    email = rows[5]["email"]
    shown = cli.invoke(
        app,
        [
            "limits",
            "set",
            "--connection",
            claude_enterprise_connected,
            "--user",
            email,
            "--amount",
            "1,250.50",
        ],
    )
    assert shown.exit_code == 0, shown.output
    assert "$1,250.50" in shown.output
    both = cli.invoke(app, ["limits", "set", "--connection", claude_enterprise_connected, "--user", email])
    assert both.exit_code == 1
    assert "exactly one of --amount USD or --unlimited" in both.output
    cents = cli.invoke(
        app,
        ["limits", "set", "--connection", claude_enterprise_connected, "--user", email, "--amount", "1.005"],
    )
    assert cents.exit_code == 1
    assert "whole number of cents" in cents.output
    table = cli.invoke(
        app, ["limits", "requests", "--connection", claude_enterprise_connected, "--status", "pending"]
    )
    assert table.exit_code == 0
    assert table.output.count("pending") >= 5
    request_id = next(r.id for r in claude_enterprise.limits.requests.values() if r.status == "pending")
    approved = cli.invoke(
        app,
        [
            "limits",
            "approve",
            request_id,
            "--connection",
            claude_enterprise_connected,
            "--amount",
            "900",
            "--no-notify",
        ],
    )
    assert approved.exit_code == 0, approved.output
    denied = cli.invoke(app, ["limits", "deny", request_id, "--connection", claude_enterprise_connected])
    assert denied.exit_code == 1
    assert "already approved" in denied.output
    cleared = cli.invoke(
        app, ["limits", "clear", "--connection", claude_enterprise_connected, "--user", email]
    )
    assert cleared.exit_code == 0
    assert "own limit removed" in cleared.output

"""List cost from imported usage against every simulator's bill, unpriced usage, reconciliation.

The simulators bill at list price, so the list cost aispend computes from the usage it
imports must equal what they bill, to the cent (here: to a ten-thousandth of a cent), for
every provider; any drift on real data is then the provider's, not ours.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from aispend.cli import app
from aispend.connections import connect_provider
from aispend.pricing.reconcile import reconcile
from aispend.providers.anthropic.simrows import CostRow, UsageRow
from aispend.providers.anthropic.simulator import AnthropicSimulator
from aispend.providers.claude_enterprise.simulator import ClaudeEnterpriseSimulator
from aispend.providers.gcp.simcatalog import CATALOG
from aispend.providers.gcp.simtruth import AI_SERVICES, ai_rows, money_by
from aispend.providers.gcp.simulator import BigQuerySimulator
from aispend.providers.openai.simcosts import MODEL_LESS
from aispend.providers.openai.simulator import OpenAISimulator, OpenAISimulatorSettings
from aispend.providers.simserver import RunningSimulator, serve
from aispend.reports.queries import spend_report
from aispend.runtime import Runtime
from aispend.store.schema import FactPrice
from aispend.sync.runner import sync_connection

TODAY = datetime.now(UTC).date()
SINCE = TODAY - timedelta(days=30)
UNTIL = TODAY - timedelta(days=1)
TO_THE_CENT = Decimal("0.000001")
UNKNOWN = "claude-nova-9"


def close(ours: Decimal, truth: Decimal, what: object) -> None:
    assert abs(ours - truth) < TO_THE_CENT, (what, ours, truth)


def list_total(runtime: Runtime) -> Decimal:
    with runtime.db.session() as session:
        return session.scalar(select(func.sum(FactPrice.list_usd))) or Decimal(0)


def unpriced_rows(runtime: Runtime) -> list[Any]:
    with runtime.db.session() as session:
        return list(
            session.execute(select(FactPrice.model, FactPrice.unpriced_kinds).where(FactPrice.unpriced))
        )


def reconciled(runtime: Runtime, **kwargs: Any) -> dict[str, Any]:
    with runtime.db.session() as session:
        return reconcile(session, runtime.org_id, since=SINCE, until=UNTIL, today=TODAY, **kwargs).as_json()


def test_anthropic_list_cost_equals_the_simulated_bill(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str
) -> None:
    sync_connection(runtime, connected, since=SINCE)
    truth = simulator.org.cost_usd_by("cost_type", SINCE, UNTIL)
    # Code execution is billed in the cost report only: no usage explains it.
    close(list_total(runtime), truth["tokens"] + truth["web_search"], "anthropic")
    assert unpriced_rows(runtime) == []
    body = reconciled(runtime, levels=("month",))
    drift = sum((Decimal(row["drift_usd"]) for row in body["rows"]), Decimal(0))
    close(drift, -truth.get("code_execution", Decimal(0)), "drift is the code execution")
    causes = {cause["code"] for row in body["rows"] for cause in row["causes"]}
    assert ("code_execution" in causes) == bool(truth.get("code_execution"))
    assert body["warnings"] == []


@pytest.fixture
def openai_served() -> Iterator[tuple[OpenAISimulator, RunningSimulator]]:
    sim = OpenAISimulator(OpenAISimulatorSettings(history_days=45))
    server = serve(sim)
    yield sim, server
    server.stop()


def test_openai_list_cost_equals_the_simulated_bill(
    runtime: Runtime, openai_served: tuple[OpenAISimulator, RunningSimulator]
) -> None:
    sim, server = openai_served
    connect_provider(
        runtime,
        provider="openai",
        name="oa",
        key=sim.org.settings.admin_key,
        base_url=server.base_url,
        min_request_interval=0,
    )
    sync_connection(runtime, "oa", since=SINCE)
    # Tokens of every modality and tier, images, speech, transcription, tool calls, storage.
    close(list_total(runtime), sim.org.total_cost_usd(SINCE, UNTIL), "openai")
    assert unpriced_rows(runtime) == []
    rows = reconciled(runtime, levels=("day",))["rows"]
    assert rows
    assert not any(row["flagged"] for row in rows)
    no_model = {
        row["period"] for row in rows if any(c["code"] == "no_model_line_items" for c in row["causes"])
    }
    days = [SINCE + timedelta(days=n) for n in range((UNTIL - SINCE).days + 1)]
    # On some days the simulator bills one project's tokens in line items without a model.
    billed = {
        day.isoformat()
        for day in days
        if any(cost.line_item in MODEL_LESS.values() for cost in sim.org.cost_records(day))
    }
    assert no_model == billed


def test_gcp_list_cost_equals_the_export_at_list(
    runtime: Runtime, gcp_simulator: BigQuerySimulator, gcp_connected: str
) -> None:
    sync_connection(runtime, gcp_connected, since=SINCE)
    export = gcp_simulator.export
    unreadable = {sku.id for sku in CATALOG.values() if not sku.readable and sku.service in AI_SERVICES}
    list_usd = money_by(export, "list", (), SINCE, UNTIL, usd=True)[()]
    unreadable_usd = sum(
        (row.cost_at_list / row.rate for row in ai_rows(export, SINCE, UNTIL) if row.sku.id in unreadable),
        Decimal(0),
    )
    assert unreadable_usd > 0
    close(list_total(runtime), list_usd - unreadable_usd, "gcp")
    # The SKU no rule can read is unpriced: counted and warned about, not priced at $0.
    assert {kinds for _, kinds in unpriced_rows(runtime)} == {f"unparsed_sku:{sku}" for sku in unreadable}
    body = reconciled(runtime, levels=("month",))
    assert body["warnings"]
    assert body["warnings"][0]["kinds"] == [f"unparsed_sku:{sku}" for sku in unreadable]
    causes = {cause["code"] for row in body["rows"] for cause in row["causes"]}
    assert {"provider_credits", "below_list", "unpriced_usage"} <= causes
    for row in body["rows"]:
        assert row["flagged"], "credits and discounts put the export far below list"


def test_claude_enterprise_list_cost_equals_its_list_amount(
    runtime: Runtime, claude_enterprise: ClaudeEnterpriseSimulator, claude_enterprise_connected: str
) -> None:
    sync_connection(runtime, claude_enterprise_connected, since=SINCE)
    org = claude_enterprise.org
    cents = sum(
        (
            line.list_amount
            for day in org.days(SINCE, UNTIL)
            for line in org.cost_lines(day)
            if line.cost_type != "code_execution"
        ),
        Decimal(0),
    )
    close(list_total(runtime), cents / 100, "claude enterprise")
    body = reconciled(runtime, levels=("month",))
    # Reported is after the contract's 10% discount, and the breakdown streams count once.
    reported = sum((Decimal(row["reported_usd"]) for row in body["rows"]), Decimal(0))
    close(reported, sum(org.cost_usd_by(lambda line: "all", SINCE, UNTIL).values(), Decimal(0)), "reported")
    causes = {cause["code"] for row in body["rows"] for cause in row["causes"]}
    assert {"below_list", "enterprise_revisions"} <= causes


def with_unknown_model(simulator: AnthropicSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulated organisation also uses a model no price list knows, billed $7 a day."""
    usage, cost = simulator.org.usage_records, simulator.org.cost_records

    def usage_records(day: date) -> list[UsageRow]:
        rows = usage(day)
        extra = UsageRow(
            day, None, None, UNKNOWN, "standard", "0-200k", "global", 1_000_000, 0, 0, 0, 200_000, 0
        )
        return [*rows, extra] if rows else rows

    def cost_records(day: date) -> list[CostRow]:
        rows = cost(day)
        shape = (UNKNOWN, "uncached_input_tokens", "standard", "0-200k", "global")
        extra = CostRow(day, None, "Claude Nova 9 Usage - Input Tokens", "tokens", *shape, Decimal(700))
        return [*rows, extra] if rows else rows

    monkeypatch.setattr(simulator.org, "usage_records", usage_records)
    monkeypatch.setattr(simulator.org, "cost_records", cost_records)


@pytest.fixture
def cli(env_for: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name, value in env_for.items():
        if name.startswith("AISPEND_"):
            monkeypatch.setenv(name, value)
    return CliRunner()


def test_a_simulated_unknown_model_is_unpriced_in_every_report(
    runtime: Runtime,
    simulator: AnthropicSimulator,
    connected: str,
    monkeypatch: pytest.MonkeyPatch,
    cli: CliRunner,
) -> None:
    with_unknown_model(simulator, monkeypatch)
    sync_connection(runtime, connected, since=SINCE)
    truth = simulator.org.cost_usd_by("cost_type", SINCE, UNTIL)
    nova = simulator.org.cost_usd_by("model", SINCE, UNTIL)[UNKNOWN]
    close(
        list_total(runtime),
        truth["tokens"] + truth["web_search"] - nova,
        "the unknown model is not $0-priced",
    )
    assert {model for model, _ in unpriced_rows(runtime)} == {UNKNOWN}

    with runtime.db.session() as session:
        spend = spend_report(session, runtime.org_id, by="model", since=SINCE, until=UNTIL).as_json()
    [warning] = spend["warnings"]
    assert (warning["code"], warning["model"], warning["kinds"]) == (
        "unpriced_usage",
        UNKNOWN,
        ["input", "output"],
    )
    assert UNKNOWN in warning["message"]
    assert "not counted as $0" in warning["message"]

    body = reconciled(runtime)
    assert [w["model"] for w in body["warnings"]] == [UNKNOWN]
    months = [row for row in body["rows"] if row["level"] == "month"]
    assert all(row["unpriced_models"] == [UNKNOWN] for row in months)
    assert all("unpriced_usage" in {c["code"] for c in row["causes"]} for row in months)

    result = cli.invoke(
        app, ["report", "spend", "--since", str(SINCE), "--until", str(UNTIL), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["warnings"][0]["model"] == UNKNOWN
    table = cli.invoke(
        app, ["report", "reconcile", "--since", str(SINCE), "--until", str(UNTIL), "--by", "month"]
    )
    assert table.exit_code == 0, table.output
    assert "warning:" in table.stderr
    assert UNKNOWN in table.stderr


def test_reconcile_command_formats(runtime: Runtime, connected: str, cli: CliRunner) -> None:
    sync_connection(runtime, connected, since=SINCE)
    args = ["report", "reconcile", "--since", str(SINCE), "--until", str(UNTIL)]
    body = json.loads(cli.invoke(app, [*args, "--format", "json"]).stdout)
    assert body == reconciled(runtime)
    assert {row["level"] for row in body["rows"]} == {"day", "month"}
    assert body["threshold_pct"] == "2"
    csv_out = cli.invoke(app, [*args, "--format", "csv", "--by", "day"]).stdout.splitlines()
    assert csv_out[0].startswith("level,period,connection,provider,reported_usd")
    assert len(csv_out) == 1 + sum(1 for row in body["rows"] if row["level"] == "day")
    table = cli.invoke(app, [*args, "--by", "month", "--threshold", "0"])
    assert table.exit_code == 0
    assert "Reconciliation" in table.stdout
    bad = cli.invoke(app, [*args, "--threshold", "lots"])
    assert bad.exit_code == 1
    assert "--threshold must be a number" in bad.stderr

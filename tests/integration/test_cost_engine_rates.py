"""Rate cards, re-rating and credits on a simulated organisation, with the calendar pinned.

The simulator and every pricing call share one "today" (2026-11-20), so October is a closed
period and November the open one whatever day the tests run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from aispend import audit
from aispend.cli import app
from aispend.connections import connect_provider
from aispend.pricing.credits import add_credit, burn_down
from aispend.pricing.figures import day_figures
from aispend.pricing.priced import add_rates
from aispend.pricing.rerate import apply_rerate, rerate_diff
from aispend.providers.anthropic.simdata import SimulatorSettings
from aispend.providers.anthropic.simulator import AnthropicSimulator
from aispend.providers.simserver import serve
from aispend.reports.queries import spend_report
from aispend.runtime import Runtime
from aispend.store.schema import AuditEntry, CostFact, FactPrice
from aispend.sync.runner import sync_connection

TODAY = date(2026, 11, 20)
SINCE = date(2026, 10, 24)
UNTIL = TODAY - timedelta(days=1)
DISCOUNT_FROM = date(2026, 10, 27)  # inside the closed month
OPEN = date(2026, 11, 1)


@pytest.fixture
def synced(runtime: Runtime) -> Iterator[str]:
    simulator = AnthropicSimulator(SimulatorSettings(today=TODAY, history_days=35))
    server = serve(simulator)
    connect_provider(
        runtime,
        provider="anthropic",
        name="acme",
        key=simulator.org.settings.admin_key,
        base_url=server.base_url,
        min_request_interval=0,
    )
    try:
        sync_connection(runtime, "acme", since=SINCE, today=TODAY)
        yield "acme"
    finally:
        server.stop()


def discounted(listed: Decimal, effective: Decimal | None) -> bool:
    """20% off list, each stored to a billionth of a dollar."""
    return effective is not None and abs(effective - listed * Decimal("0.8")) <= Decimal("0.000000001")


def prices(runtime: Runtime) -> dict[int, tuple[date, Decimal, Decimal | None, int | None]]:
    with runtime.db.session() as session:
        rows = session.execute(
            select(
                FactPrice.usage_fact_id,
                FactPrice.day,
                FactPrice.list_usd,
                FactPrice.effective_usd,
                FactPrice.rate_card_version_id,
            )
        )
        return {fact: (day, listed, effective, version) for fact, day, listed, effective, version in rows}


def test_a_20_percent_card_reprices_only_from_its_date_after_a_dry_run(runtime: Runtime, synced: str) -> None:
    before = prices(runtime)
    assert all(effective is None for _, _, effective, _ in before.values())
    with runtime.db.session() as session:
        version, repriced = add_rates(
            session,
            runtime.org_id,
            today=TODAY,
            name="anthropic-2026",
            provider="anthropic",
            effective_from=DISCOUNT_FROM,
            discount_pct=Decimal(20),
        )
    assert (version.version, version.auto_from) == (1, OPEN)
    added = prices(runtime)
    # Open days take the card at once; the closed month keeps its prices.
    for day, listed, effective, version_id in added.values():
        if day >= OPEN:
            assert version_id == version.id
            assert discounted(listed, effective)
        else:
            assert (effective, version_id) == (None, None), day
    assert repriced == sum(1 for day, *_ in added.values() if day >= OPEN)

    with runtime.db.session() as session:
        diff = rerate_diff(session, runtime.org_id, since=SINCE, until=UNTIL)
    assert prices(runtime) == added, "the dry run writes nothing"
    assert {(c.old_version, c.new_version) for c in diff.changes} == {("no card", "anthropic-2026 v1")}
    assert all(c.old_effective_usd is None for c in diff.changes)
    closed = {f: p for f, p in added.items() if DISCOUNT_FROM <= p[0] < OPEN}
    assert diff.facts_changed == len(closed)
    assert {c.first_day for c in diff.changes} == {DISCOUNT_FROM}
    assert {c.last_day for c in diff.changes} == {OPEN - timedelta(days=1)}
    # Each fact's price is stored to a billionth of a dollar: the sum agrees far inside a cent.
    taken = sum((p[1] for p in closed.values()), Decimal(0)) * Decimal("0.2")
    assert abs(diff.delta_usd + taken) < Decimal("0.000001")

    with runtime.db.session() as session:
        applied = apply_rerate(session, runtime.org_id, since=SINCE, until=UNTIL)
    assert applied.as_json() == {**diff.as_json(), "applied": True}
    after = prices(runtime)
    for day, listed, effective, version_id in after.values():
        if day >= DISCOUNT_FROM:
            assert version_id == version.id
            assert discounted(listed, effective)
        else:
            assert (effective, version_id) == (None, None), day
    with runtime.db.session() as session:
        again = apply_rerate(session, runtime.org_id, since=SINCE, until=UNTIL)
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert again.facts_changed == 0
    assert again.delta_usd == 0
    assert actions.count("rates.changed") == 1
    assert actions.count("rerate.applied") == 2


def test_effective_cost_is_reported_before_the_card_and_discounted_list_after(
    runtime: Runtime, synced: str
) -> None:
    with runtime.db.session() as session:
        add_rates(
            session,
            runtime.org_id,
            today=TODAY,
            name="all",
            effective_from=DISCOUNT_FROM,
            discount_pct=Decimal(20),
        )
        apply_rerate(session, runtime.org_id, since=SINCE, until=UNTIL)
        figures = day_figures(session, runtime.org_id, SINCE, UNTIL)
        code_execution = dict(
            session.execute(
                select(CostFact.day, func.sum(CostFact.amount_usd))
                .where(CostFact.cost_type == "code_execution")
                .group_by(CostFact.day)
            ).all()
        )
    for (_, day), figure in figures.items():
        if day < DISCOUNT_FROM:
            assert figure.effective_usd == figure.reported_usd
        else:
            # Cost no usage explains (code execution) stays at its reported amount.
            expected = figure.list_usd * Decimal("0.8") + code_execution.get(day, Decimal(0))
            assert abs(figure.effective_usd - expected) < Decimal("0.00001"), day


def test_credits_burn_down_in_order_and_report_what_remains(runtime: Runtime, synced: str) -> None:
    with runtime.db.session() as session:
        figures = day_figures(session, runtime.org_id, SINCE, UNTIL)
        daily = {day: figure.effective_usd for (_, day), figure in figures.items()}
        first_week = sum((daily[SINCE + timedelta(days=n)] for n in range(7)), Decimal(0))
        add_credit(
            session,
            runtime.org_id,
            name="prepay",
            amount_usd=Decimal(50_000),
            valid_from=SINCE,
            valid_until=UNTIL,
            provider="anthropic",
        )
        add_credit(
            session,
            runtime.org_id,
            name="launch-promo",
            amount_usd=Decimal(1000),
            valid_from=SINCE,
            valid_until=SINCE + timedelta(days=6),
            kind="promotional",
        )
        add_credit(
            session,
            runtime.org_id,
            name="openai-only",
            amount_usd=Decimal(300),
            valid_from=SINCE,
            valid_until=UNTIL,
            provider="openai",
        )
        burn = burn_down(session, runtime.org_id, UNTIL)
    promo, prepay, openai = (
        next(b for b in burn.balances if b.name == n) for n in ("launch-promo", "prepay", "openai-only")
    )
    # The promotion expires first, so it is spent first; the prepayment covers the rest.
    assert promo.burned_usd == Decimal(1000)
    assert promo.remaining_usd(UNTIL) == 0
    assert prepay.burned_usd == min(
        Decimal(50_000),
        first_week - 1000 + sum((v for d, v in daily.items() if d >= SINCE + timedelta(days=7)), Decimal(0)),
    )
    assert prepay.remaining_usd(UNTIL) == Decimal(50_000) - prepay.burned_usd
    assert openai.burned_usd == 0
    assert openai.status(UNTIL) == "active"
    assert sum(burn.applied.values(), Decimal(0)) == promo.burned_usd + prepay.burned_usd
    assert (
        sum((Decimal(v) for v in prepay.as_json(UNTIL)["burn_by_month"].values()), Decimal(0))
        == prepay.burned_usd
    )
    assert promo.status(UNTIL) == "used up"
    assert promo.expired_usd(UNTIL) == 0


def test_refused_terms(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        for terms, message in (
            ({"discount_pct": Decimal(120)}, "percentage"),
            ({"rates": {"tokens": Decimal(1)}}, "unknown token kind"),
            ({}, "needs a discount"),
        ):
            with pytest.raises(ValueError, match=message):
                add_rates(session, runtime.org_id, today=TODAY, name="x", effective_from=TODAY, **terms)
        add_rates(
            session,
            runtime.org_id,
            today=TODAY,
            name="x",
            provider="openai",
            effective_from=TODAY,
            discount_pct=Decimal(5),
        )
        with pytest.raises(ValueError, match="scope never changes"):
            add_rates(
                session,
                runtime.org_id,
                today=TODAY,
                name="x",
                provider="anthropic",
                effective_from=TODAY,
                discount_pct=Decimal(5),
            )
        with pytest.raises(ValueError, match="before it starts"):
            add_credit(
                session, runtime.org_id, name="c", amount_usd=Decimal(1), valid_from=TODAY, valid_until=SINCE
            )


@pytest.fixture
def cli(env_for: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name, value in env_for.items():
        if name.startswith("AISPEND_"):
            monkeypatch.setenv(name, value)
    return CliRunner()


def test_rates_credits_and_rerate_commands(runtime: Runtime, synced: str, cli: CliRunner) -> None:
    add = cli.invoke(
        app,
        ["rates", "add", "--name", "opus", "--provider", "anthropic", "--model", "claude-opus-*",
         "--from", str(SINCE), "--rate", "input=4", "--rate", "output=20", "--commitment", "10000",
         "--note", "MSA"],
    )  # fmt: skip
    assert add.exit_code == 0, add.output
    assert "Rate card opus v1" in add.stdout
    second = cli.invoke(app, ["rates", "add", "--name", "opus", "--from", str(SINCE), "--discount", "12.5"])
    assert second.exit_code == 0, second.output
    listed = json.loads(cli.invoke(app, ["rates", "list", "--format", "json"]).stdout)
    assert [(r["name"], r["provider"], r["models"], r["versions"], r["discount_pct"]) for r in listed] == [
        ("opus", "anthropic", "claude-opus-*", 2, "12.5")
    ]
    shown = json.loads(cli.invoke(app, ["rates", "show", "opus", "--format", "json"]).stdout)
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    assert shown["versions"][0]["rates"] == {"input": "4", "output": "20"}
    assert shown["versions"][0]["commitment_usd"] == "10000.00"
    assert cli.invoke(app, ["rates", "show", "nope"]).exit_code == 1

    dry = json.loads(
        cli.invoke(app, ["rerate", "--since", str(SINCE), "--until", str(UNTIL), "--format", "json"]).stdout
    )
    assert dry["applied"] is False
    table = cli.invoke(app, ["rerate", "--since", str(SINCE), "--until", str(UNTIL)])
    assert "Nothing was changed" in table.stderr or dry["facts_changed"] == 0
    applied = json.loads(
        cli.invoke(
            app, ["rerate", "--since", str(SINCE), "--until", str(UNTIL), "--apply", "--format", "json"]
        ).stdout
    )
    assert applied["facts_changed"] == dry["facts_changed"]
    assert cli.invoke(app, ["rerate", "--since", str(UNTIL), "--until", str(SINCE)]).exit_code == 1

    credit = cli.invoke(
        app, ["credits", "add", "--name", "promo", "--amount", "250", "--from", str(SINCE),
              "--until", str(UNTIL), "--kind", "promotional"],
    )  # fmt: skip
    assert credit.exit_code == 0, credit.output
    balances = json.loads(
        cli.invoke(app, ["credits", "list", "--as-of", str(UNTIL), "--format", "json"]).stdout
    )
    assert [(b["name"], b["burned_usd"], b["remaining_usd"]) for b in balances] == [
        ("promo", "250.00", "0.00")
    ]
    assert cli.invoke(app, ["credits", "add", "--name", "promo", "--amount", "1", "--from", str(SINCE),
                            "--until", str(UNTIL)]).exit_code == 1  # fmt: skip
    with runtime.db.session() as session:
        entries = audit.entries(session, org_id=runtime.org_id, action="credits.added")
    assert entries[0].actor_email.startswith("cli:")


def test_report_spend_shows_reported_list_or_effective_cost_and_every_grouping_adds_up(
    runtime: Runtime, synced: str
) -> None:
    def total(cost: str, by: str = "day") -> Decimal:
        with runtime.db.session() as session:
            body = spend_report(session, runtime.org_id, by=by, since=SINCE, until=UNTIL, cost=cost).as_json()  # type: ignore[arg-type]
        rows = sum((Decimal(row["cost_usd"]) for row in body["rows"]), Decimal(0))
        assert rows == Decimal(body["total"]["cost_usd"]), (cost, by)
        assert ("cost" in body) == (cost != "effective")
        return rows

    # Without a rate card, effective cost is the reported cost.
    assert total("effective") == total("reported")
    with runtime.db.session() as session:
        listed = session.scalar(
            select(func.sum(FactPrice.list_usd)).where(FactPrice.day.between(SINCE, UNTIL))
        )
        add_rates(
            session,
            runtime.org_id,
            today=TODAY,
            name="all",
            effective_from=DISCOUNT_FROM,
            discount_pct=Decimal(20),
        )
        apply_rerate(session, runtime.org_id, since=SINCE, until=UNTIL)
        figures = day_figures(session, runtime.org_id, SINCE, UNTIL)
    assert total("list") == listed
    effective = sum((figure.effective_usd for figure in figures.values()), Decimal(0))
    for by in ("day", "model", "workspace", "api-key", "provider", "user", "product"):
        assert abs(total("effective", by) - effective) < Decimal("0.000001"), by
    assert total("effective") < total("reported")

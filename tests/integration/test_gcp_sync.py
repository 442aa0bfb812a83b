"""Google Cloud end to end: the real BigQuery client against the simulator on loopback.

Gross, credits and net per project, model, token kind and day equal the simulated export's
ground truth (billing currency exactly, US dollars to the cent); tokens match; a restated month
changes the totals exactly as the export does; a re-run changes nothing; a failed run leaves
the previous data in place; reports show Google beside Anthropic.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from aispend.connections import connect_provider, list_connections
from aispend.providers.anthropic.simulator import AnthropicSimulator
from aispend.providers.gcp.connector import COST_STREAM
from aispend.providers.gcp.simcatalog import CATALOG
from aispend.providers.gcp.simdata import SimulatedExport, SimulatorSettings
from aispend.providers.gcp.simtruth import money_by, tokens_by
from aispend.providers.gcp.simulator import BigQuerySimulator, RecordedRequest, serve
from aispend.reports.queries import spend_report
from aispend.runtime import Runtime
from aispend.store.schema import CostFact, SyncRun, SyncState, UsageFact
from aispend.sync.planner import Window, restated_from, window_chunks
from aispend.sync.runner import SyncFailedError, SyncResult, sync_connection

DAYS = 45
HALF_BILLIONTH = Decimal("0.0000000005")
Key = tuple[Any, ...]
BY = ("project", "model", "kind", "day")


def stored_money(runtime: Runtime, *, usd: bool, count: bool = False) -> dict[str, dict[Key, Decimal]]:
    """Gross, credits and net per (project, model, kind, day) as stored (or their numbers of lines)."""
    out: dict[str, dict[Key, Decimal]] = {name: defaultdict(Decimal) for name in ("gross", "credits", "net")}
    with runtime.db.session() as session:
        facts = session.scalars(select(CostFact).where(CostFact.stream == "billing_export")).all()
        for fact in facts:
            amount = Decimal(1) if count else fact.amount_usd if usd else fact.amount
            if fact.cost_type == "credit":
                # A credit line keeps its SKU; the SKU's kind is what the credit reduced.
                kind, part = CATALOG[fact.sku_id].truth_kind, "credits"
            else:
                kind, part = ("other" if fact.cost_type == "unparsed_sku" else fact.cost_type), "gross"
            key = (fact.workspace_id, fact.model, kind, fact.day)
            out[part][key] += amount
            out["net"][key] += amount
    return out


def stored_tokens(runtime: Runtime) -> dict[Key, int]:
    out: dict[Key, int] = defaultdict(int)
    with runtime.db.session() as session:
        for fact in session.scalars(
            select(UsageFact).where(UsageFact.stream == "billing_usage", UsageFact.unit == "")
        ):
            project, model, day = fact.workspace_id, fact.model, fact.day
            out[(project, model, "input", day)] += fact.input_tokens
            out[(project, model, "cached_input", day)] += fact.cache_read_tokens
            out[(project, model, "output", day)] += fact.output_tokens - fact.reasoning_tokens
            out[(project, model, "thinking_output", day)] += fact.reasoning_tokens
    return {key: value for key, value in out.items() if value}


def assert_matches_truth(runtime: Runtime, export: SimulatedExport, since: date, until: date) -> None:
    """Billing currency: exactly. US dollars: within the one rounding of each stored line.

    A stored line's dollars are its amount divided by the export's rate, rounded once to a
    billionth; a group of ``n`` lines is within ``n`` half-billionths of the exact sum, far
    inside a cent (a plain round-to-cents comparison would flip on exact half cents).
    """
    lines = line_counts(runtime)
    for usd in (False, True):
        ours = stored_money(runtime, usd=usd)
        for measure in ("gross", "credits", "net"):
            truth = money_by(export, measure, BY, since, until, usd=usd)  # type: ignore[arg-type]
            assert {k for k, v in ours[measure].items() if v} == {k for k, v in truth.items() if v}, measure
            for key, value in truth.items():
                error = abs(ours[measure].get(key, Decimal(0)) - value)
                if usd:
                    assert error <= HALF_BILLIONTH * lines[key], (measure, key, error)
                else:
                    assert error == 0, (measure, key)
    truth_tokens = tokens_by(export, BY, since, until)
    assert stored_tokens(runtime) == {k: v for k, v in truth_tokens.items() if v}


def line_counts(runtime: Runtime) -> dict[Key, int]:
    counts: dict[Key, int] = defaultdict(int)
    stored = stored_money(runtime, usd=False, count=True)
    for part in ("gross", "credits"):
        for key, value in stored[part].items():
            counts[key] += int(value)
    return counts


def snapshot(runtime: Runtime) -> list[tuple[Any, ...]]:
    with runtime.db.session() as session:
        rows: list[tuple[Any, ...]] = []
        for table in (UsageFact, CostFact):
            rows += [tuple(r) for r in session.execute(select(table.__table__).order_by(table.id))]
        return rows


def runs(sim: BigQuerySimulator, name: str) -> list[RecordedRequest]:
    """The query jobs run (not dry runs) of ``name``."""
    return [r for r in sim.queries(name) if r.path.endswith("/queries")]


def yesterday(sim: BigQuerySimulator) -> date:
    return sim.export.today - timedelta(days=1)


def first_day(sim: BigQuerySimulator, since: date) -> date:
    """The first day imported once a daily run (which re-reads the restated months) has run."""
    return min(since, restated_from(COST_STREAM, sim.export.today))


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_backfill_equals_ground_truth(runtime: Runtime, currency: str) -> None:
    today = SimulatedExport().today
    # From some days before the restated months: a month chunk, then the restated months.
    since = restated_from(COST_STREAM, today) - timedelta(days=12)
    # Small pages: every query spans several pages, cut inside days.
    settings = SimulatorSettings(history_days=(today - since).days + 5, currency=currency)
    sim = BigQuerySimulator(settings, max_page_rows=700)
    with serve(sim) as server:
        connect_provider(
            runtime,
            provider="gcp",
            name="gcp",
            key=None,
            base_url=server.base_url,
            extra_options={"table_id": sim.detailed_table},
        )
        result = sync_connection(runtime, "gcp", since=since, today=sim.export.today)
    assert_matches_truth(runtime, sim.export, since, yesterday(sim))
    # Each month before the restated months is its own query; the restated months are one.
    window = Window(since, sim.export.today, moves_checkpoint=True)
    assert len(runs(sim, "cost")) == len(window_chunks(COST_STREAM, window, sim.export.today))
    assert len(runs(sim, "cost")) == 2
    assert result.rows > 0
    [view] = list_connections(runtime)
    assert view.data_complete_through == yesterday(sim)
    assert view.provider_account.startswith("billing account 01A2B3-C4D5E6-F7A8B9")


def sync(runtime: Runtime, sim: BigQuerySimulator, **kwargs: Any) -> SyncResult:
    return sync_connection(runtime, "gcp", today=sim.export.today, **kwargs)


def test_restated_month_changes_totals_as_the_export_does_and_a_rerun_changes_nothing(
    runtime: Runtime, gcp_simulator: BigQuerySimulator, gcp_connected: str
) -> None:
    sim = gcp_simulator
    today = sim.export.today
    since = first_day(sim, today - timedelta(days=DAYS))
    sync(runtime, sim, since=since)
    assert_matches_truth(runtime, sim.export, since, yesterday(sim))
    before = money_by(sim.export, "net", ("day",), since, yesterday(sim))

    # Late usage of a day of the previous month arrives with a later export_time.
    day = restated_from(COST_STREAM, today) + timedelta(days=3)
    added = sim.export.restate(day)
    assert {row.invoice_month for row in added} == {today.strftime("%Y%m")}
    result = sync(runtime, sim)
    assert result.windows["billing_export"] == (restated_from(COST_STREAM, today), today)
    assert_matches_truth(runtime, sim.export, since, yesterday(sim))
    after = money_by(sim.export, "net", ("day",), since, yesterday(sim))
    changed = {key for key in after.keys() | before.keys() if after.get(key) != before.get(key)}
    assert changed == {(day,)}
    assert after[(day,)] - before.get((day,), Decimal(0)) == sum(row.cost + row.credit_total for row in added)

    settled = snapshot(runtime)
    sync(runtime, sim)
    assert snapshot(runtime) == settled


def test_a_failed_run_leaves_the_previous_data_in_place(runtime: Runtime) -> None:
    sim = BigQuerySimulator(SimulatorSettings(history_days=DAYS + 5), max_page_rows=500)
    today = sim.export.today
    since = first_day(sim, today - timedelta(days=DAYS))
    with serve(sim) as server:
        connect_provider(
            runtime,
            provider="gcp",
            name="gcp",
            key=None,
            base_url=server.base_url,
            extra_options={"table_id": sim.detailed_table},
        )
        sync(runtime, sim, since=since)
        previous = snapshot(runtime)
        sim.export.restate(today - timedelta(days=2))
        # Every later page of a result fails: a run gets its first page of the window, never the rest.
        sim.inject("503", times=1000, route="results")
        with pytest.raises(SyncFailedError, match="Backend error"):
            sync(runtime, sim)
        assert snapshot(runtime) == previous
        with runtime.db.session() as session:
            assert session.scalars(select(SyncRun.status).order_by(SyncRun.id)).all() == [
                "succeeded",
                "failed",
            ]
        sim.clear_faults()
        sync(runtime, sim)
    assert_matches_truth(runtime, sim.export, since, yesterday(sim))


def test_a_stopped_backfill_resumes_at_the_month_it_stopped_in(runtime: Runtime) -> None:
    today = SimulatedExport().today
    # Two months before the restated ones: three chunks.
    since = restated_from(COST_STREAM, today) - timedelta(days=40)
    sim = BigQuerySimulator(SimulatorSettings(history_days=(today - since).days + 5))
    with serve(sim) as server:
        connect_provider(
            runtime,
            provider="gcp",
            name="gcp",
            key=None,
            base_url=server.base_url,
            extra_options={"table_id": sim.detailed_table},
        )
        chunks = window_chunks(COST_STREAM, Window(since, today, moves_checkpoint=True), today)
        assert len(chunks) == 3
        # The projects list, every cost query and two months of usage go through; the third fails.
        sim.inject("500", times=1000, route="query", after=1 + len(chunks) + 2)
        with pytest.raises(SyncFailedError):
            sync(runtime, sim, since=since)
        with runtime.db.session() as session:
            through = session.scalar(
                select(SyncState.complete_through).where(SyncState.stream == "billing_usage")
            )
            assert through == chunks[1][1]
        sim.clear_faults()
        result = sync(runtime, sim)
        # It resumes where it stopped: no month is read twice, none is skipped.
        assert result.windows["billing_usage"] == (chunks[1][1], today)
    assert_matches_truth(runtime, sim.export, since, yesterday(sim))


def test_reports_show_google_beside_anthropic_and_gemini_models_by_name(
    runtime: Runtime,
    gcp_simulator: BigQuerySimulator,
    gcp_connected: str,
    simulator: AnthropicSimulator,
    connected: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    today = gcp_simulator.export.today
    since, until = today - timedelta(days=30), today - timedelta(days=1)
    sync(runtime, gcp_simulator, since=since)
    sync_connection(runtime, connected, since=since)
    with runtime.db.session() as session:
        by_provider = spend_report(session, runtime.org_id, by="provider", since=since, until=until).as_json()
        by_model = spend_report(session, runtime.org_id, by="model", since=since, until=until).as_json()
    labels = {row["key"]: row for row in by_provider["rows"]}
    assert labels["gcp"]["label"] == "Google Cloud (Gemini, Vertex AI)"
    assert labels["anthropic"]["label"] == "Anthropic Platform"
    net_usd = sum(money_by(gcp_simulator.export, "net", (), since, until, usd=True).values(), Decimal(0))
    assert abs(Decimal(labels["gcp"]["cost_usd"]) - net_usd) < Decimal("0.000001")
    models = {row["key"]: row for row in by_model["rows"]}
    for model in (
        "gemini-2.5-flash",
        "gemini-2.5-pro",
        "gemini-3-flash",
        "gemini-2.0-flash",
        "gemini-embedding-001",
    ):
        assert models[model]["label"] == model
        assert Decimal(models[model]["cost_usd"]) > 0
        assert models[model]["input_tokens"] > 0
    # The SKU no rule reads is kept, with no model, under its own key; the sync says which it is.
    unparsed = money_by(gcp_simulator.export, "gross", ("kind",), since, until, usd=True)[("other",)]
    assert abs(Decimal(models["unparsed_sku"]["cost_usd"]) - unparsed) < Decimal("0.000001")
    warnings = [r.getMessage() for r in caplog.records if "is not understood" in r.getMessage()]
    assert len(warnings) == 1
    assert "6C7D-8E9F-0A13 ('Imagen 4 Fast image generation')" in warnings[0]

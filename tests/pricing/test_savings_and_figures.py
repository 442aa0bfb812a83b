"""Savings, effective cost and reconciliation on a small hand-made day of facts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from aispend.model import CostRecord, UsageRecord
from aispend.pricing.figures import day_figures
from aispend.pricing.priced import add_rates, price_usage_days
from aispend.pricing.reconcile import reconcile
from aispend.pricing.savings import savings
from aispend.runtime import Runtime
from aispend.store.facts import replace_cost_day, replace_usage_day

DAY = date(2026, 11, 2)
NEXT = date(2026, 11, 3)
TODAY = date(2026, 11, 20)
M = 1_000_000


def write(runtime: Runtime, connection_id: int) -> None:
    usage = [
        UsageRecord(
            DAY,
            "messages",
            "claude-opus-4-6",
            service_tier="standard",
            input_tokens=M,
            cache_read_tokens=4 * M,
            cache_write_5m_tokens=M,
        ),
        UsageRecord(
            DAY, "messages", "claude-opus-4-6", service_tier="batch", input_tokens=2 * M, output_tokens=M
        ),
        UsageRecord(DAY, "messages", "claude-nova-9", service_tier="standard", input_tokens=M),
    ]
    # Opus list: 5 + 4*0.5 + 6.25 = 13.25 standard, (10 + 25)/2 = 17.5 batch; the provider also
    # bills $4 of code execution and $3 for the unknown model.
    costs = [
        CostRecord(DAY, Decimal("30.75"), description="opus", cost_type="tokens", model="claude-opus-4-6"),
        CostRecord(DAY, Decimal(4), description="Code Execution Usage", cost_type="code_execution"),
        CostRecord(DAY, Decimal(3), description="nova", cost_type="tokens", model="claude-nova-9"),
    ]
    with runtime.db.session() as session:
        common = {"org_id": runtime.org_id, "connection_id": connection_id}
        replace_usage_day(session, **common, stream="messages", day=DAY, records=usage)
        replace_usage_day(
            session,
            **common,
            stream="messages",
            day=NEXT,
            records=[UsageRecord(NEXT, "messages", "claude-haiku-4-5", input_tokens=M)],
        )
        replace_cost_day(session, **common, stream="cost", day=DAY, records=costs)
        price_usage_days(session, **common, provider="anthropic", days=[DAY, NEXT])


def test_savings_of_caching_and_batch(runtime: Runtime, connection_id: int) -> None:
    write(runtime, connection_id)
    with runtime.db.session() as session:
        body = savings(session, runtime.org_id, since=DAY, until=DAY)
    [opus] = [row for row in body["rows"] if row["model"] == "claude-opus-4-6"]
    assert opus == {
        "provider": "anthropic",
        "model": "claude-opus-4-6",
        "input_tokens": 3 * M,
        "cache_read_tokens": 4 * M,
        "cache_write_tokens": M,
        "cache_hit_ratio": "0.5000",
        # 4M reads at 5 - 0.5; 1M writes at 6.25 - 5
        "cache_savings_usd": "18.00",
        "cache_write_premium_usd": "1.25",
        "cache_net_savings_usd": "16.75",
        "batch_tokens": 3 * M,
        "batch_savings_usd": "17.50",
        "batch_eligible_usd": "13.25",
        "batch_potential_savings_usd": "6.625",
    }
    assert body["total"]["input_tokens"] == 4 * M


def test_effective_cost_and_reconciliation(runtime: Runtime, connection_id: int) -> None:
    write(runtime, connection_id)
    with runtime.db.session() as session:
        before = day_figures(session, runtime.org_id, DAY, NEXT)
        add_rates(session, runtime.org_id, today=TODAY, name="anthropic", provider="anthropic",
                  effective_from=DAY, discount_pct=Decimal(10))  # fmt: skip
        after = day_figures(session, runtime.org_id, DAY, NEXT)
        body = reconcile(session, runtime.org_id, since=DAY, until=NEXT, today=TODAY).as_json()
    day, next_day = before[(connection_id, DAY)], before[(connection_id, NEXT)]
    assert (day.reported_usd, day.list_usd, day.effective_usd) == (
        Decimal("37.75"),
        Decimal("30.75"),
        Decimal("37.75"),
    )
    assert (day.unpriced_rows, day.unpriced_models) == (1, {"claude-nova-9"})
    # No cost reported yet on the next day: list stands in for it.
    assert (next_day.reported_usd, next_day.effective_usd) == (0, Decimal(1))
    # 10% off the priced opus usage; code execution and the unpriced model stay as reported.
    assert after[(connection_id, DAY)].effective_usd == Decimal("37.75") - Decimal("3.075")
    assert after[(connection_id, NEXT)].effective_usd == Decimal("0.9")

    rows = {(row["level"], row["period"]): row for row in body["rows"]}
    first = rows[("day", DAY.isoformat())]
    assert (first["drift_usd"], first["drift_pct"], first["flagged"]) == ("-7.00", "-18.54", True)
    assert {cause["code"] for cause in first["causes"]} == {"code_execution", "unpriced_usage"}
    second = rows[("day", NEXT.isoformat())]
    assert (second["drift_pct"], second["flagged"]) == (None, True)
    assert [cause["code"] for cause in second["causes"]] == ["cost_not_reported"]
    month = rows[("month", "2026-11")]
    assert (month["reported_usd"], month["list_usd"], month["effective_usd"]) == ("37.75", "31.75", "35.575")
    assert [w["model"] for w in body["warnings"]] == ["claude-nova-9"]


def test_committed_spend_and_its_shortfall(runtime: Runtime, connection_id: int) -> None:
    write(runtime, connection_id)
    with runtime.db.session() as session:
        add_rates(session, runtime.org_id, today=TODAY, name="opus", model_pattern="claude-opus-*",
                  effective_from=DAY, commitment_usd=Decimal(100))  # fmt: skip
        body = reconcile(session, runtime.org_id, since=DAY, until=NEXT, today=TODAY).as_json()
        later = reconcile(session, runtime.org_id, since=NEXT, until=NEXT, today=TODAY).as_json()
    # A commitment-only card prices at list: 30.75 of opus usage against $100 committed.
    assert body["commitments"] == [
        {
            "card": "opus",
            "version": 1,
            "month": "2026-11",
            "complete": False,
            "committed_usd": "100.00",
            "spend_usd": "30.75",
            "shortfall_usd": "69.25",
        }
    ]
    assert later["commitments"][0]["spend_usd"] == "0.00"

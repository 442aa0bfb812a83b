"""The stored split of reported cost: whatever the usage, it sums exactly to the cost lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from aispend.model import CostRecord, UsageRecord
from aispend.runtime import Runtime
from aispend.store.allocations import UNALLOCATED, reallocate_days
from aispend.store.facts import replace_cost_day, replace_usage_day
from aispend.store.schema import AllocatedCost, CostFact, UsageFact

DAY = date(2026, 3, 1)
MODELS = ("gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "unpriced-model-x")
KEYS = ("", "key_a", "key_b")
USERS = ("", "user-1", "user-2")
TIERS = ("default", "flex", "priority")
KINDS = ("input", "output", "cache_read")

usage_rows = st.lists(
    st.builds(
        UsageRecord,
        day=st.just(DAY),
        stream=st.just("completions"),
        workspace_id=st.sampled_from(("proj_1", "proj_2")),
        model=st.sampled_from(MODELS),
        api_key_id=st.sampled_from(KEYS),
        user_id=st.sampled_from(USERS),
        service_tier=st.sampled_from(TIERS),
        batch=st.sampled_from(("true", "false")),
        input_tokens=st.integers(0, 10**9),
        output_tokens=st.integers(0, 10**7),
        cache_read_tokens=st.integers(0, 10**8),
    ),
    max_size=12,
    unique_by=lambda r: (r.workspace_id, r.model, r.api_key_id, r.user_id, r.service_tier, r.batch),
)
cost_rows = st.lists(
    st.builds(
        CostRecord,
        day=st.just(DAY),
        stream=st.just("costs"),
        amount_usd=st.decimals(Decimal("-50"), Decimal("5000"), places=9),
        workspace_id=st.sampled_from(("proj_1", "proj_2", "proj_3")),
        api_key_id=st.sampled_from(KEYS),
        model=st.sampled_from(("", *MODELS)),
        cost_type=st.just("tokens"),
        token_type=st.sampled_from(KINDS),
        service_tier=st.sampled_from(("", "batch", "flex", "priority")),
        description=st.sampled_from(("a", "b")),
    ),
    max_size=10,
    unique_by=lambda r: (r.workspace_id, r.api_key_id, r.model, r.token_type, r.service_tier, r.description),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(usage=usage_rows, costs=cost_rows, keys_reported=st.booleans())
def test_allocated_rows_always_sum_exactly_to_the_reported_cost(
    runtime: Runtime,
    connection_id: int,
    usage: list[UsageRecord],
    costs: list[CostRecord],
    keys_reported: bool,
) -> None:
    org_id = runtime.org_id
    with runtime.db.session() as session:
        for table in (AllocatedCost, CostFact, UsageFact):
            session.execute(delete(table))
        replace_usage_day(
            session, org_id=org_id, connection_id=connection_id, stream="completions", day=DAY, records=usage
        )
        replace_cost_day(
            session, org_id=org_id, connection_id=connection_id, stream="costs", day=DAY, records=costs
        )
        reallocate_days(
            session,
            org_id=org_id,
            connection_id=connection_id,
            days=[DAY],
            provider="openai",
            billed_tiers=frozenset({"flex", "priority"}),
            keys_reported=keys_reported,
        )
        reported = session.scalar(select(func.sum(CostFact.amount_usd))) or Decimal(0)
        allocated = session.scalar(select(func.sum(AllocatedCost.amount_usd))) or Decimal(0)
        rows = session.execute(
            select(AllocatedCost.api_key_id, AllocatedCost.user_id, AllocatedCost.method)
        ).all()
        per_line = session.execute(
            select(
                AllocatedCost.workspace_id, AllocatedCost.token_type, func.sum(AllocatedCost.amount_usd)
            ).group_by(AllocatedCost.workspace_id, AllocatedCost.token_type)
        ).all()
        expected_per_line = session.execute(
            select(CostFact.workspace_id, CostFact.token_type, func.sum(CostFact.amount_usd)).group_by(
                CostFact.workspace_id, CostFact.token_type
            )
        ).all()
    assert allocated == reported
    assert sorted(per_line) == sorted(expected_per_line)
    assert {method for _, _, method in rows} <= {"reported", "allocated"}
    if keys_reported:
        # A key the cost report named, or named as none, is never moved to another key.
        assert all(key in KEYS for key, _, _ in rows)
    for key, user, method in rows:
        if key == UNALLOCATED:
            assert (user, method) == ("", "reported")

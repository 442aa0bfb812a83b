"""Streams that restate whole months: their windows, their month chunks, and atomic replacement.

The planner rules for :class:`RestatedMonthsStream` (see ``aispend.sync.planner``) and the
runner's promise for it: a chunk's pages are all fetched before anything is written, and the
chunk is then written, with the days no longer reported cleared, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from aispend.connections import connect_provider
from aispend.model import CostRecord
from aispend.providers.base import DayRecords, FatalProviderError, FetchedPage, ProviderAccount, StreamSpec
from aispend.providers.registry import PROVIDERS, ProviderInfo
from aispend.runtime import Runtime
from aispend.store.schema import CostFact, SyncState
from aispend.sync.planner import (
    Checkpoint,
    RestatedMonthsStream,
    Window,
    plan_window,
    restated_from,
    window_chunks,
)
from aispend.sync.runner import SyncFailedError, sync_connection

STREAM = RestatedMonthsStream("billing", "cost", "query", 31)
PLAIN = StreamSpec("messages", "usage", "usage", 31)


def plan(checkpoint: Checkpoint, today: date, **kwargs: date) -> Window | None:
    return plan_window(STREAM, checkpoint, today, backfill_days=100, **kwargs)


@pytest.mark.parametrize(
    ("today", "first"),
    [
        (date(2026, 3, 6), date(2026, 2, 1)),  # current and previous month
        (date(2026, 3, 31), date(2026, 2, 1)),
        (date(2026, 3, 5), date(2026, 1, 1)),  # the first five days: one month more
        (date(2026, 3, 1), date(2026, 1, 1)),
        (date(2026, 1, 3), date(2025, 11, 1)),  # across a year
        (date(2026, 1, 20), date(2025, 12, 1)),
    ],
)
def test_every_run_rereads_the_restated_months(today: date, first: date) -> None:
    assert restated_from(STREAM, today) == first
    # However recent the checkpoint, the restated months are read again, up to yesterday.
    assert plan(Checkpoint(first - timedelta(days=40), today, None), today) == Window(first, today, True)


def test_an_interrupted_backfill_resumes_at_its_checkpoint() -> None:
    today = date(2026, 3, 10)
    checkpoint = Checkpoint(date(2025, 11, 20), date(2025, 12, 1), today)

    assert plan(checkpoint, today) == Window(date(2025, 12, 1), today, True)


def test_first_backfill_since_and_until_follow_the_general_rules() -> None:
    today = date(2026, 3, 10)
    assert plan(Checkpoint(), today) == Window(today - timedelta(days=100), today, True)
    assert plan(Checkpoint(), today, since=date(2026, 1, 15)) == Window(date(2026, 1, 15), today, True)
    bounded = plan(Checkpoint(), today, since=date(2025, 12, 5), until=date(2026, 1, 9))
    assert bounded == Window(date(2025, 12, 5), date(2026, 1, 10), False)


def test_a_backfill_goes_a_calendar_month_at_a_time_then_the_restated_months_at_once() -> None:
    today = date(2026, 3, 10)
    window = Window(date(2025, 11, 15), today, True)

    assert window_chunks(STREAM, window, today) == [
        (date(2025, 11, 15), date(2025, 12, 1)),
        (date(2025, 12, 1), date(2026, 1, 1)),
        (date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 2, 1), today),
    ]
    # A daily run is one chunk; a window inside the restated months too.
    assert window_chunks(STREAM, Window(date(2026, 2, 1), today, True), today) == [(date(2026, 2, 1), today)]
    assert window_chunks(STREAM, Window(date(2026, 2, 20), today, True), today) == [
        (date(2026, 2, 20), today)
    ]
    # A bounded window that ends before the restated months: months only.
    old = Window(date(2025, 10, 30), date(2025, 12, 3), False)
    assert window_chunks(STREAM, old, today) == [
        (date(2025, 10, 30), date(2025, 11, 1)),
        (date(2025, 11, 1), date(2025, 12, 1)),
        (date(2025, 12, 1), date(2025, 12, 3)),
    ]


def test_other_streams_keep_request_sized_chunks() -> None:
    window = Window(date(2026, 1, 1), date(2026, 3, 10), True)

    assert window_chunks(PLAIN, window, date(2026, 3, 10)) == [
        (date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 2, 1), date(2026, 3, 4)),
        (date(2026, 3, 4), date(2026, 3, 10)),
    ]


# --- The runner --------------------------------------------------------------------------------


@dataclass
class Restating:
    """A provider whose report restates whole months: two pages per chunk, one line per day."""

    amount: Decimal = Decimal(1)
    empty_days: set[date] = field(default_factory=set)
    fail_second_page_from: date | None = None
    fetched: list[tuple[date, date, str | None]] = field(default_factory=list)
    provider: str = "restating"
    billed_tiers: frozenset[str] = frozenset()
    costs_by_key: bool = False

    def identify(self) -> ProviderAccount:
        return ProviderAccount("acct", "Restating")

    def streams(self) -> Sequence[StreamSpec]:
        return (STREAM,)

    def fetch(self, stream: StreamSpec, start: date, end: date, cursor: str | None) -> FetchedPage:
        self.fetched.append((start, end, cursor))
        days = [start + timedelta(days=n) for n in range((end - start).days)]
        half = len(days) // 2
        if (
            cursor is not None
            and self.fail_second_page_from is not None
            and start >= self.fail_second_page_from
        ):
            raise FatalProviderError("the second page failed")
        part = days[:half] if cursor is None else days[half:]
        records = [
            DayRecords(day, cost=[CostRecord(day, self.amount, stream="billing")])
            for day in part
            if day not in self.empty_days
        ]
        return FetchedPage(days=records, next_cursor="2" if cursor is None else None)


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, runtime: Runtime) -> Restating:
    fake = Restating()
    info = ProviderInfo(
        "restating", "Restating", "http://unused", lambda key: None, lambda *args: fake, False
    )
    monkeypatch.setitem(PROVIDERS, "restating", info)
    connect_provider(runtime, provider="restating", name="r", key=None)
    return fake


def stored(runtime: Runtime) -> dict[date, Decimal]:
    with runtime.db.session() as session:
        return dict(session.execute(select(CostFact.day, CostFact.amount_usd)).all())  # type: ignore[arg-type]


TODAY = date(2026, 3, 10)
SINCE = date(2025, 12, 20)


def test_a_backfill_writes_month_by_month_and_moves_the_checkpoint_with_each(
    runtime: Runtime, provider: Restating
) -> None:
    provider.fail_second_page_from = date(2026, 2, 1)  # the restated months' chunk fails
    with pytest.raises(SyncFailedError, match="second page failed"):
        sync_connection(runtime, "r", since=SINCE, today=TODAY)

    # Whole months before it are in; nothing of the failed chunk is.
    assert sorted(stored(runtime)) == [
        SINCE + timedelta(days=n) for n in range((date(2026, 2, 1) - SINCE).days)
    ]
    with runtime.db.session() as session:
        assert session.scalar(select(SyncState.complete_through)) == date(2026, 2, 1)
    provider.fail_second_page_from = None
    sync_connection(runtime, "r", today=TODAY)
    assert sorted(stored(runtime)) == [SINCE + timedelta(days=n) for n in range((TODAY - SINCE).days)]
    # The resumed run started at the checkpoint: every page of the last chunk, once.
    assert provider.fetched[-2:] == [(date(2026, 2, 1), TODAY, None), (date(2026, 2, 1), TODAY, "2")]


def test_a_failed_run_leaves_the_previous_data_of_the_whole_window(
    runtime: Runtime, provider: Restating
) -> None:
    sync_connection(runtime, "r", since=SINCE, today=TODAY)
    before = stored(runtime)
    provider.amount = Decimal(2)
    provider.fail_second_page_from = date(2026, 1, 1)
    with pytest.raises(SyncFailedError):
        sync_connection(runtime, "r", today=TODAY + timedelta(days=1))

    # Its first page was fetched, but not one of its days was written.
    assert provider.fetched[-1] == (date(2026, 2, 1), TODAY + timedelta(days=1), "2")
    assert stored(runtime) == before


def test_every_run_replaces_the_restated_months_and_clears_what_they_no_longer_hold(
    runtime: Runtime, provider: Restating
) -> None:
    sync_connection(runtime, "r", since=SINCE, today=TODAY)
    provider.amount = Decimal(3)
    provider.empty_days = {date(2026, 2, 14), date(2026, 3, 9)}
    sync_connection(runtime, "r", today=TODAY)

    after = stored(runtime)
    restated = [date(2026, 2, 1) + timedelta(days=n) for n in range((TODAY - date(2026, 2, 1)).days)]
    assert {day: after[day] for day in after if day >= date(2026, 2, 1)} == {
        day: Decimal(3) for day in restated if day not in provider.empty_days
    }
    # Months before the restated ones are left as they were.
    assert {after[day] for day in after if day < date(2026, 2, 1)} == {Decimal(1)}

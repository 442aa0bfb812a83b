"""Pages the simulator never produces: a day split over two pages, a day the API leaves out.

The real connector is wrapped so its pages can be reshaped before the sync engine sees them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from aispend import connections
from aispend.providers.anthropic.simulator import AnthropicSimulator
from aispend.providers.base import Connector, DayRecords, FatalProviderError, FetchedPage, StreamSpec
from aispend.runtime import Runtime
from aispend.store.schema import Connection, CostFact, SyncState, UsageFact
from aispend.sync import runner
from aispend.sync.runner import SyncFailedError, sync_connection
from tests.integration.test_anthropic_sync import SINCE, TODAY, assert_matches_truth

Reshape = Callable[[StreamSpec, date, date, str | None, Callable[[], FetchedPage]], FetchedPage]


class Reshaping:
    """Delegates to the real connector; ``reshape`` may rewrite or replace any page."""

    provider = "anthropic"
    billed_tiers: frozenset[str] = frozenset()
    costs_by_key = False

    def __init__(self, inner: Connector, reshape: Reshape) -> None:
        self.inner = inner
        self.reshape = reshape

    def identify(self) -> object:
        return self.inner.identify()

    def streams(self) -> Sequence[StreamSpec]:
        return self.inner.streams()

    def fetch(self, stream: StreamSpec, start: date, end: date, cursor: str | None) -> FetchedPage:
        return self.reshape(stream, start, end, cursor, lambda: self.inner.fetch(stream, start, end, cursor))


@pytest.fixture
def reshape_with(monkeypatch: pytest.MonkeyPatch) -> Callable[[Reshape], None]:
    def install(reshape: Reshape) -> None:
        real = connections.open_connector

        def wrapped(runtime: Runtime, connection: Connection, http: httpx.Client) -> Connector:
            return Reshaping(real(runtime, connection, http), reshape)  # type: ignore[return-value]

        monkeypatch.setattr(runner, "open_connector", wrapped)

    return install


class SplitFirstMessagesPage:
    """Cut the first messages page in two, in the middle of a day, behind a ``split`` cursor."""

    def __init__(self, fail_second: bool = False) -> None:
        self.fail_second = fail_second
        self.second: FetchedPage | None = None
        self.split_day: date | None = None

    def __call__(
        self, stream: StreamSpec, start: date, end: date, cursor: str | None, fetch: Callable[[], FetchedPage]
    ) -> FetchedPage:
        if stream.name != "messages":
            return fetch()
        if cursor == "split":
            if self.fail_second:
                raise FatalProviderError("the second page is unavailable")
            assert self.second is not None
            return self.second
        page = fetch()
        if self.split_day is not None or page.next_cursor is not None:
            return page
        index = next(i for i, d in enumerate(page.days) if i >= len(page.days) // 2 and len(d.usage) >= 2)
        day = page.days[index]
        half = len(day.usage) // 2
        self.split_day = day.day
        self.second = FetchedPage(
            days=[DayRecords(day.day, usage=day.usage[half:]), *page.days[index + 1 :]], next_cursor=None
        )
        return FetchedPage(
            days=[*page.days[:index], DayRecords(day.day, usage=day.usage[:half])], next_cursor="split"
        )


def test_a_day_split_over_two_pages_keeps_both_parts(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str, reshape_with: Callable[[Reshape], None]
) -> None:
    split = SplitFirstMessagesPage()
    reshape_with(split)

    sync_connection(runtime, connected, since=SINCE)

    assert split.split_day is not None
    assert_matches_truth(runtime, simulator)


def test_with_a_next_page_pending_only_days_before_the_last_are_complete(
    runtime: Runtime, simulator: AnthropicSimulator, connected: str, reshape_with: Callable[[Reshape], None]
) -> None:
    split = SplitFirstMessagesPage(fail_second=True)
    reshape_with(split)

    with pytest.raises(SyncFailedError, match="second page is unavailable"):
        sync_connection(runtime, connected, since=SINCE)

    with runtime.db.session() as session:
        state = session.get(SyncState, (session.scalars(select(Connection.id)).one(), "messages"))
        assert state is not None
        # The split day continues on the page that failed: it is not complete.
        assert state.complete_through == split.split_day
        assert state.pending_until is not None
    split.fail_second = False  # the resumed run is served unsplit: split_day is already set
    result = sync_connection(runtime, connected)
    assert result.windows["messages"][0] == split.split_day
    assert_matches_truth(runtime, simulator)


def test_a_day_the_api_leaves_out_is_cleared(
    runtime: Runtime, connected: str, reshape_with: Callable[[Reshape], None]
) -> None:
    sync_connection(runtime, connected, since=SINCE)
    gone = TODAY - timedelta(days=2)

    def count() -> tuple[int, int]:
        with runtime.db.session() as session:
            usage = session.scalar(
                select(func.count())
                .select_from(UsageFact)
                .where(UsageFact.day == gone, UsageFact.stream == "messages")
            )
            cost = session.scalar(select(func.count()).select_from(CostFact).where(CostFact.day == gone))
        return usage or 0, cost or 0

    assert all(count())

    def omit(
        stream: StreamSpec, start: date, end: date, cursor: str | None, fetch: Callable[[], FetchedPage]
    ) -> FetchedPage:
        page = fetch()
        if stream.name in ("messages", "cost"):
            page.days = [d for d in page.days if d.day != gone]
        return page

    reshape_with(omit)
    result = sync_connection(runtime, connected)  # a daily run re-reads the last three days

    assert result.windows["messages"][0] <= gone
    assert count() == (0, 0)

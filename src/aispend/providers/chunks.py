"""Reports whose pages are not in day order: collect a request window's pages, hand it over whole.

Per-user reports page by rows ranked by spend (Claude Enterprise) or in an order nobody
documents (Codex analytics), so a page cannot be known to hold whole days, and the sync
engine's checkpoint ("every day before the last one on the page is complete") would be
wrong. :class:`WholeWindowPager` keeps a window's rows in memory until its last page has
arrived and then returns every day of the window at once: the engine replaces those days
in one transaction, a process killed mid-window has written nothing of it (the next run
re-reads it), and a cursor that expires mid-window (a data refresh) restarts the window
with nothing half-written, so there is no gap, no duplicate and no stale row. Memory is
bounded by one window of rows, which is why these streams use short windows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from aispend.model import CostRecord, UsageRecord
from aispend.providers.base import DayRecords, FatalProviderError, FetchedPage
from aispend.providers.parsing import merge_records

__all__ = ["MAX_RESTARTS", "WholeWindowPager", "WindowPart"]

MAX_RESTARTS = 3
"""Restarts of one window after expired cursors before the sync gives up (never a loop)."""


@dataclass
class WindowPart:
    """What one page of a window brought, and the provider's cursor of the next page."""

    usage: list[UsageRecord] = field(default_factory=list)
    cost: list[CostRecord] = field(default_factory=list)
    next_page: str | None = None
    data_refreshed_at: datetime | None = None


@dataclass(frozen=True)
class _State:
    pages: int  # pages of this window already collected
    restarts: int
    provider: str | None  # the provider's cursor of the page to ask for next

    def encode(self) -> str:
        return json.dumps([self.pages, self.restarts, self.provider], separators=(",", ":"))

    @classmethod
    def decode(cls, cursor: str) -> _State:
        try:
            pages, restarts, provider = json.loads(cursor)
            return cls(int(pages), int(restarts), None if provider is None else str(provider))
        except (ValueError, TypeError) as exc:
            raise FatalProviderError(f"unreadable page cursor {cursor!r}") from exc


class WholeWindowPager:
    """Pages of one window at a time; ``expired`` are the errors that mean "restart paging"."""

    def __init__(self, vendor: str, expired: tuple[type[Exception], ...]) -> None:
        self.vendor = vendor
        self.expired = expired
        self._window: tuple[Any, ...] | None = None
        self._pages = 0
        self._usage: list[UsageRecord] = []
        self._cost: list[CostRecord] = []

    def _reset(self, window: tuple[Any, ...] | None) -> None:
        self._window, self._pages, self._usage, self._cost = window, 0, [], []

    def fetch(
        self,
        stream: str,
        start: date,
        end: date,
        cursor: str | None,
        request: Callable[[str | None], WindowPart],
    ) -> FetchedPage:
        """One request of the window ``[start, end)`` of ``stream``; the whole window on its last page."""
        window = (stream, start, end)
        state = _State.decode(cursor) if cursor else _State(0, 0, None)
        if cursor is None:
            self._reset(window)
        elif (self._window, self._pages) != (window, state.pages):
            # The pages before this cursor were collected by another process: read them again.
            return self._restart(window, state, "its first pages were read by another run")
        try:
            part = request(state.provider)
        except self.expired:
            return self._restart(window, state, "the page cursor expired after a data refresh")
        self._usage += part.usage
        self._cost += part.cost
        self._pages += 1
        if part.next_page is not None:
            following = _State(self._pages, state.restarts, part.next_page)
            return FetchedPage(next_cursor=following.encode(), data_refreshed_at=part.data_refreshed_at)
        days = self._days(start, end)
        self._reset(None)
        return FetchedPage(days=days, data_refreshed_at=part.data_refreshed_at)

    def _restart(self, window: tuple[Any, ...], state: _State, why: str) -> FetchedPage:
        if state.restarts >= MAX_RESTARTS:
            raise FatalProviderError(
                f"{self.vendor} paging of {window[0]} for {window[1]}..{window[2]} restarted "
                f"{MAX_RESTARTS} times ({why}); the sync stopped rather than loop. "
                "Data already imported is intact.",
                next_step="Run the sync again later.",
            )
        self._reset(window)
        return FetchedPage(next_cursor=_State(0, state.restarts + 1, None).encode())

    def _days(self, start: date, end: date) -> list[DayRecords]:
        by_day = {
            start + timedelta(days=n): DayRecords(start + timedelta(days=n))
            for n in range((end - start).days)
        }
        for usage in merge_records(self._usage):
            self._slot(by_day, usage.day).usage.append(usage)
        for cost in merge_records(self._cost):
            self._slot(by_day, cost.day).cost.append(cost)
        return list(by_day.values())

    def _slot(self, by_day: dict[date, DayRecords], day: date) -> DayRecords:
        slot = by_day.get(day)
        if slot is None:
            raise FatalProviderError(
                f"{self.vendor} returned a row for {day}, outside the days asked for.",
                next_step=f"This looks like a change in {self.vendor}'s API; please report it.",
            )
        return slot

"""Paging the bucketed ``usage_report``/``cost_report``: whole days per page, and two traps.

Each page holds whole one-day buckets, oldest first, so every day on a page is complete when
it arrives. Two rules of the API (reference anthropic.md §6) shape the cursor we hand the
sync engine, a small JSON :class:`Position`:

- **At most 100 groups per bucket** (the top 100). A daily bucket that comes back with 100
  rows may have lost the rest, so that day is read again with hourly buckets (each hour
  has its own 100) and the hours are summed into the day; the days after it continue with
  daily buckets. A full *hourly* bucket is logged: nothing finer is worth its requests.
- **A cursor expires (410) when the data is refreshed.** Paging restarts at the first day
  not yet returned, with no cursor and the same parameters otherwise; days already written
  were whole, so nothing is missed or written twice, and every restart is further along
  than the last, so it cannot loop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from aispend.providers.base import DayRecords, FatalProviderError, FetchedPage
from aispend.providers.claude_enterprise.client import CursorExpiredError, Params
from aispend.providers.claude_enterprise.parse import Bucket, parse_refreshed_at, read
from aispend.providers.parsing import merge_records

__all__ = ["GROUP_CAP", "Position", "fetch_buckets", "rfc3339"]

log = logging.getLogger(__name__)
GROUP_CAP = 100
MAX_DAY_BUCKETS = 31
HOURS = 24


def rfc3339(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


@dataclass(frozen=True)
class Position:
    """Where paging of one window stands: the request being paged and the first unreturned day."""

    start: date  # starting_at of the request the provider cursor belongs to
    end: date  # its ending_at
    hourly: bool  # one day re-read with 1h buckets
    page: str | None  # provider cursor; None asks for the request's first page
    resume: date  # first day not yet returned, where a restart begins

    def encode(self) -> str:
        return json.dumps(
            [self.start.isoformat(), self.end.isoformat(), self.hourly, self.page, self.resume.isoformat()],
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, cursor: str) -> Position:
        try:
            start, end, hourly, page, resume = json.loads(cursor)
            return cls(
                date.fromisoformat(start),
                date.fromisoformat(end),
                bool(hourly),
                page,
                date.fromisoformat(resume),
            )
        except (ValueError, TypeError) as exc:
            raise FatalProviderError(f"unreadable page cursor {cursor!r}") from exc


def _params(position: Position, group_by: tuple[str, ...]) -> Params:
    days = (position.end - position.start).days
    width, limit = ("1h", HOURS) if position.hourly else ("1d", min(days, MAX_DAY_BUCKETS))
    params = [
        ("starting_at", rfc3339(position.start)),
        ("ending_at", rfc3339(position.end)),
        ("bucket_width", width),
        ("limit", str(limit)),
    ]
    params += [("group_by[]", name) for name in group_by]
    if position.page:
        params.append(("page", position.page))
    return params


def _by_day(buckets: list[Bucket]) -> dict[date, tuple[int, DayRecords]]:
    """Buckets summed per day, with the fullest bucket's row count."""
    days: dict[date, tuple[int, DayRecords]] = {}
    for bucket in buckets:
        fullest, records = days.get(bucket.day, (0, DayRecords(bucket.day)))
        records.usage += bucket.usage
        records.cost += bucket.cost
        days[bucket.day] = (max(fullest, bucket.groups), records)
    for _, records in days.values():
        records.usage = merge_records(records.usage)
        records.cost = merge_records(records.cost)
    return days


def fetch_buckets(
    get: Callable[[Params], Mapping[str, Any]],
    parse: Callable[[Mapping[str, Any]], list[Bucket]],
    group_by: tuple[str, ...],
    start: date,
    end: date,
    cursor: str | None,
) -> FetchedPage:
    """One request of the window ``[start, end)`` (at most 31 days) and the cursor of the next."""
    position = Position.decode(cursor) if cursor else Position(start, end, False, None, start)
    try:
        body = get(_params(position, group_by))
    except CursorExpiredError:
        if position.page is None:
            raise
        restart = Position(position.resume, position.end, position.hourly, None, position.resume)
        return FetchedPage(next_cursor=restart.encode())
    days = _by_day(parse(body))
    refreshed = parse_refreshed_at(body)
    full = sorted(day for day, (groups, _) in days.items() if groups >= GROUP_CAP)
    if full and not position.hourly:
        # Keep the days before the first full one; re-read that day hour by hour.
        kept = [records for day, (_, records) in sorted(days.items()) if day < full[0]]
        hourly = Position(full[0], full[0] + timedelta(days=1), True, None, full[0])
        return FetchedPage(days=kept, next_cursor=hourly.encode(), data_refreshed_at=refreshed)
    if full:
        log.warning(
            "Claude Enterprise: an hourly bucket of %s holds %d groups, the most the API returns; "
            "that day's figures may be incomplete",
            full[0],
            GROUP_CAP,
        )
    page = [records for _, (_, records) in sorted(days.items())]
    following = read.next_page(body)
    if following is not None:
        last = max(days, default=position.resume - timedelta(days=1))
        nxt: Position | None = replace(position, page=following, resume=last + timedelta(days=1))
    elif position.hourly and position.end < end:
        nxt = Position(position.end, end, False, None, position.end)
    else:
        nxt = None
    return FetchedPage(days=page, next_cursor=nxt.encode() if nxt else None, data_refreshed_at=refreshed)

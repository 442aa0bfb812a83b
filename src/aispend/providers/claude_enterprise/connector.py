"""The Claude Enterprise connector: which analytics reports to read and how to ask for each page.

Streams, and which one holds the money (the report layer counts each amount once):

| stream | kind | what | paging |
| --- | --- | --- | --- |
| ``users``, ``members`` | directory | names, e-mail, provider id, deleted flag | cursor |
| ``enterprise_usage`` | usage | tokens per product, model, context window, geo, speed | daily buckets |
| ``enterprise_cost`` | cost | **the organisation's spend: total this one** | daily buckets |
| ``enterprise_group_cost`` | cost | the same spend per RBAC group (a breakdown) | daily buckets |
| ``enterprise_user_usage`` | usage | tokens per person, product and model | whole window |
| ``enterprise_user_cost`` | cost | seat users' spend per person (a breakdown) | whole window |
| ``enterprise_summary`` | usage | seats, active users, pending invites (gauges) | one request |

The group breakdown is a stream of its own rather than a dimension of ``enterprise_cost``: a
person in two groups may be counted in both (the reference does not say), and grouping the
total by one more dimension would also fill the 100-group buckets sooner.

Data starts on 2026-01-01; cost and usage reach back 365 days, engagement (users,
summaries) 90. A window with no readable day is answered without a request, and days outside
the readable range come back empty. Cost and usage are revised for 30 days, so those streams
re-read their trailing 30 days on every run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import httpx

from aispend.model import UsageRecord
from aispend.providers.auth import RevealedKeyAuth
from aispend.providers.base import DayRecords, FatalProviderError, FetchedPage, ProviderAccount, StreamSpec
from aispend.providers.chunks import MAX_RESTARTS, WholeWindowPager, WindowPart
from aispend.providers.claude_enterprise.buckets import fetch_buckets, rfc3339
from aispend.providers.claude_enterprise.client import (
    ANALYTICS,
    CONNECT_STEPS,
    ClaudeEnterpriseClient,
    CursorExpiredError,
    Params,
)
from aispend.providers.claude_enterprise.parse import (
    Bucket,
    parse_account,
    parse_actor,
    parse_bucketed_cost,
    parse_bucketed_usage,
    parse_refreshed_at,
    parse_summaries,
    parse_user_cost,
    parse_user_usage,
    parse_users,
    read,
)

__all__ = [
    "DATA_START",
    "STREAMS",
    "ClaudeEnterpriseConnector",
    "check_enterprise_key_format",
    "readable_window",
]

DATA_START = date(2026, 1, 1)
REPORT_DAYS = 365  # cost and usage reach back this far
ENGAGEMENT_DAYS = 90  # users and summaries
RESTATED_DAYS = 30  # cost data is revisable for 30 days
PER_USER_DAYS = 7  # a window of per-user rows is held in memory until its last page
ROW_PAGE = 1000
USAGE_GROUPS = ("product", "model", "context_window", "inference_geo", "speed")
COST_GROUPS = (*USAGE_GROUPS, "cost_type", "token_type")
GROUP_COST_GROUPS = ("rbac_group_id", "product")
PER_USER_GROUPS = ("product", "model")

# bucketed stream -> (report, parser, group_by[])
_BUCKETED: dict[str, tuple[str, Callable[..., list[Bucket]], tuple[str, ...]]] = {
    "enterprise_usage": ("usage_report", parse_bucketed_usage, USAGE_GROUPS),
    "enterprise_cost": ("cost_report", parse_bucketed_cost, COST_GROUPS),
    "enterprise_group_cost": ("cost_report", partial(parse_bucketed_cost, by_group=True), GROUP_COST_GROUPS),
}

STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec("users", "directory", "analytics", 0),
    StreamSpec("members", "directory", "analytics", 0),
    StreamSpec("enterprise_usage", "usage", "analytics", 31, refetch_days=RESTATED_DAYS),
    StreamSpec("enterprise_cost", "cost", "analytics", 31, refetch_days=RESTATED_DAYS),
    StreamSpec("enterprise_group_cost", "cost", "analytics", 31, refetch_days=RESTATED_DAYS),
    StreamSpec("enterprise_user_usage", "usage", "analytics", PER_USER_DAYS, refetch_days=RESTATED_DAYS),
    StreamSpec("enterprise_user_cost", "cost", "analytics", PER_USER_DAYS, refetch_days=RESTATED_DAYS),
    StreamSpec("enterprise_summary", "usage", "analytics", 31),
)


def check_enterprise_key_format(key: str) -> None:
    """Refuse, before any network call, a key that cannot be a Claude Enterprise key."""
    key = key.strip()
    if key.startswith("sk-ant-admin"):
        kind = "a Console Admin key (sk-ant-admin…); connect it with `aispend connect anthropic`"
    elif key.startswith("sk-ant-api03-"):
        kind = "a regular API key (sk-ant-api03…), which cannot read analytics"
    elif key.startswith("sk-ant-"):
        # Enterprise keys are documented as sk-ant-api01-…; other sk-ant- forms are left to the API.
        return
    else:
        kind = "not an Anthropic key at all"
    raise FatalProviderError(f"That key is {kind}.", next_step=CONNECT_STEPS)


def _today() -> date:
    return datetime.now(UTC).date()


def readable_window(start: date, end: date, today: date, reach_days: int) -> tuple[date, date] | None:
    """The part of ``[start, end)`` the API serves: from 2026-01-01, within ``reach_days``, before today."""
    # "Within the last N days" counts from now, so the day N days ago is already partly out.
    first = max(start, DATA_START, today - timedelta(days=reach_days - 1))
    last = min(end, today)
    return (first, last) if first < last else None


class ClaudeEnterpriseConnector:
    """Reads the Enterprise analytics reports with an Analytics API key."""

    provider = "claude_enterprise"
    billed_tiers: frozenset[str] = frozenset()
    costs_by_key = False

    def __init__(self, client: ClaudeEnterpriseClient, today: Callable[[], date] = _today) -> None:
        self.client = client
        self.today = today
        self._pager = WholeWindowPager("Claude Enterprise", (CursorExpiredError,))

    @classmethod
    def create(
        cls, http: httpx.Client, reveal_key: Callable[[], str], base_url: str, options: Mapping[str, object]
    ) -> ClaudeEnterpriseConnector:
        """Build a connector whose requests carry the key returned by ``reveal_key()``."""
        return cls(ClaudeEnterpriseClient(http, RevealedKeyAuth("x-api-key", reveal_key), base_url))

    def identify(self) -> ProviderAccount:
        """Read one day of the usage report: checks the key and ``read:analytics``, names the organisation."""
        day = max(DATA_START, self.today() - timedelta(days=1))
        body = self.client.get(
            f"{ANALYTICS}/usage_report",
            [
                ("starting_at", rfc3339(day)),
                ("ending_at", rfc3339(day + timedelta(days=1))),
                ("bucket_width", "1d"),
                ("limit", "1"),
            ],
        )
        return parse_account(body)

    def streams(self) -> Sequence[StreamSpec]:
        return STREAMS

    def fetch(self, stream: StreamSpec, start: date, end: date, cursor: str | None) -> FetchedPage:
        if stream.kind == "directory":
            return self._directory(stream.name, cursor)
        reach = ENGAGEMENT_DAYS if stream.name == "enterprise_summary" else REPORT_DAYS
        window = readable_window(start, end, self.today(), reach)
        if window is None:
            return FetchedPage()
        first, last = window
        name = stream.name
        if name in _BUCKETED:
            report, parse, group_by = _BUCKETED[name]
            return self._buckets(report, partial(parse, stream=name), group_by, window, cursor)
        if name in ("enterprise_user_usage", "enterprise_user_cost"):
            request = partial(self._user_page, name, first, last)
            return self._pager.fetch(name, first, last, cursor, request)
        if name == "enterprise_summary":
            body = self.client.get(
                f"{ANALYTICS}/summaries",
                # ending_date is read as exclusive, like ending_at [inf]; rows outside are dropped.
                [("starting_date", first.isoformat()), ("ending_date", last.isoformat())],
            )
            records = [r for r in parse_summaries(body, name) if first <= r.day < last]
            return FetchedPage(days=_by_day(records, first, last))
        raise ValueError(f"unknown Claude Enterprise stream {name!r}")

    def _buckets(
        self,
        report: str,
        parse: Callable[[Mapping[str, Any]], list[Bucket]],
        group_by: tuple[str, ...],
        window: tuple[date, date],
        cursor: str | None,
    ) -> FetchedPage:
        def get(params: Params) -> Mapping[str, Any]:
            return self.client.get(f"{ANALYTICS}/{report}", params)

        return fetch_buckets(get, parse, group_by, window[0], window[1], cursor)

    def _user_page(self, stream: str, start: date, end: date, page: str | None) -> WindowPart:
        report = "user_usage_report" if stream == "enterprise_user_usage" else "user_cost_report"
        params: list[tuple[str, str]] = [
            ("starting_at", rfc3339(start)),
            ("ending_at", rfc3339(end)),
            ("bucket_width", "1d"),
            ("limit", str(ROW_PAGE)),
        ]
        params += [("group_by[]", name) for name in PER_USER_GROUPS]
        if page:
            params.append(("page", page))
        body = self.client.get(f"{ANALYTICS}/{report}", params)
        one_day = start if end - start == timedelta(days=1) else None
        part = WindowPart(next_page=read.next_page(body), data_refreshed_at=parse_refreshed_at(body))
        if stream == "enterprise_user_usage":
            part.usage = parse_user_usage(body, stream, one_day)
        else:
            part.cost = parse_user_cost(body, stream, one_day)
        return part

    def _directory(self, name: str, cursor: str | None) -> FetchedPage:
        """One page of a directory list. Our cursor is ``[restarts, window start, provider cursor]``."""
        today = self.today()
        restarts, first, page = json.loads(cursor) if cursor else (0, None, None)
        if name == "users":
            # Everyone active in the engagement window, with their names.
            start = max(DATA_START, today - timedelta(days=ENGAGEMENT_DAYS - 1))
            params: list[tuple[str, str]] = [
                ("starting_date", start.isoformat()),
                ("ending_date", (today - timedelta(days=1)).isoformat()),
                ("limit", str(ROW_PAGE)),
            ]
            path = f"{ANALYTICS}/users"
            following_window = None
        else:
            # Everyone with usage in the last year, deleted people included (the actors say who
            # is), read as one rollup per 31 days: the longest range a report request takes.
            start = (
                date.fromisoformat(first)
                if first
                else max(DATA_START, today - timedelta(days=REPORT_DAYS - 1))
            )
            end = min(start + timedelta(days=31), today)
            params = [("starting_at", rfc3339(start)), ("ending_at", rfc3339(end)), ("limit", str(ROW_PAGE))]
            path = f"{ANALYTICS}/user_usage_report"
            following_window = end.isoformat() if end < today else None
        if page:
            params.append(("page", page))
        try:
            body = self.client.get(path, params)
        except CursorExpiredError:
            if page is None or restarts >= MAX_RESTARTS:
                raise
            # Directory rows are upserts: reading the window again from its top is harmless.
            return FetchedPage(next_cursor=json.dumps([restarts + 1, start.isoformat(), None]))
        if name == "users":
            entries = parse_users(body)
        else:
            entries = [parse_actor(row.get("actor")) for row in read.data(body)]
        # `users` is documented with next_page but not has_more: next_page alone means more [inf].
        following = body.get("next_page") or None
        if following is not None:
            return FetchedPage(
                directory=entries, next_cursor=json.dumps([restarts, start.isoformat(), following])
            )
        if following_window is not None:
            return FetchedPage(directory=entries, next_cursor=json.dumps([restarts, following_window, None]))
        return FetchedPage(directory=entries)


def _by_day(records: list[UsageRecord], start: date, end: date) -> list[DayRecords]:
    days = {
        start + timedelta(days=n): DayRecords(start + timedelta(days=n)) for n in range((end - start).days)
    }
    for record in records:
        days[record.day].usage.append(record)
    return list(days.values())

"""Pure functions from one Claude Enterprise Analytics response body to normalised records.

Conventions (the report layer relies on them):
- ``user_id`` of every per-person fact is the person's e-mail, lower-cased, so one person's
  spend matches across Claude Enterprise, Claude Code and Codex. A row whose actor has no
  e-mail falls back to the provider's user id.
- ``product`` keeps the API's own values (``chat``, ``claude_code``, ``cowork``...).
- Claude Enterprise has no service tiers; its ``speed`` (``standard``/``fast``, billed at
  different rates) is kept in ``service_tier``.
- The RBAC group of the group breakdown is kept in ``workspace_id``: an Enterprise
  organisation has no workspaces, and groups are what it divides its people into.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aispend.model import NONE, CostRecord, DirectoryEntry, UsageRecord, cents_to_dollars
from aispend.providers.base import ProviderAccount
from aispend.providers.parsing import ResponseReader, merge_records, text

__all__ = [
    "Bucket",
    "UserRow",
    "parse_account",
    "parse_actor",
    "parse_bucketed_cost",
    "parse_bucketed_usage",
    "parse_refreshed_at",
    "parse_summaries",
    "parse_time",
    "parse_user_cost",
    "parse_user_usage",
    "parse_users",
    "read",
    "to_day",
]

read = ResponseReader("Claude Enterprise")
TOKEN_TYPES = {
    "uncached_input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write_5m",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write_1h",
}
# summaries metric -> unit it counts. The field names are our reading of the analytics
# summaries endpoint, which the reference only describes as "DAU/WAU/MAU, seats, pending
# invites" [inf]; other numeric fields are ignored.
SUMMARY_METRICS = {
    "daily_active_user_count": "users",
    "weekly_active_user_count": "users",
    "monthly_active_user_count": "users",
    "assigned_seat_count": "seats",
    "pending_invite_count": "invites",
}


def parse_time(value: Any, what: str) -> datetime:
    """An RFC 3339 time as an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise read.fail(f"{what} {value!r} is not an RFC 3339 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_day(value: Any, what: str) -> date:
    """The UTC day of an RFC 3339 time or a ``YYYY-MM-DD`` date."""
    return parse_time(value, what).date()


def _cents(row: Mapping[str, Any], name: str) -> Decimal | None:
    value = row.get(name)
    if value is None:
        return None
    try:
        return cents_to_dollars(str(value))
    except (InvalidOperation, ValueError):
        raise read.fail(f"{name} is {value!r}, not an amount") from None


def parse_account(body: Mapping[str, Any]) -> ProviderAccount:
    """The organisation a report page belongs to (every report envelope names it)."""
    org = body.get("organization_id")
    if not org:
        raise read.fail("the report page names no organization_id")
    return ProviderAccount(id=str(org), name="Claude Enterprise")


def parse_refreshed_at(body: Mapping[str, Any]) -> datetime | None:
    """The envelope's ``data_refreshed_at``: data up to this time is in the reports."""
    value = body.get("data_refreshed_at")
    return None if value is None else parse_time(value, "data_refreshed_at")


@dataclass(frozen=True)
class _Dims:
    product: str
    model: str
    context_window: str
    inference_geo: str
    speed: str
    group: str


def _dims(row: Mapping[str, Any], *, group: bool = False) -> _Dims:
    return _Dims(
        product=text(row, "product"),
        model=text(row, "model"),
        context_window=text(row, "context_window"),
        inference_geo=text(row, "inference_geo"),
        speed=text(row, "speed"),
        group=text(row, "rbac_group_id") if group else NONE,
    )


def _usage(day: date, stream: str, row: Mapping[str, Any], user_id: str = NONE) -> UsageRecord:
    cache = row.get("cache_creation")
    if cache is not None and not isinstance(cache, Mapping):
        raise read.fail(f"cache_creation is {cache!r}")
    tools = row.get("server_tool_use")
    if tools is not None and not isinstance(tools, Mapping):
        raise read.fail(f"server_tool_use is {tools!r}")
    dims = _dims(row)
    return UsageRecord(
        day=day,
        stream=stream,
        user_id=user_id,
        product=dims.product,
        model=dims.model,
        context_window=dims.context_window,
        inference_geo=dims.inference_geo,
        service_tier=dims.speed,
        input_tokens=read.count(row, "uncached_input_tokens"),
        cache_write_5m_tokens=read.count(cache, "ephemeral_5m_input_tokens"),
        cache_write_1h_tokens=read.count(cache, "ephemeral_1h_input_tokens"),
        cache_read_tokens=read.count(row, "cache_read_input_tokens"),
        output_tokens=read.count(row, "output_tokens"),
        web_search_requests=read.count(tools, "web_search_requests"),
        requests=read.count(row, "requests"),
    )


def _cost(
    day: date, stream: str, row: Mapping[str, Any], *, user_id: str = NONE, group: bool = False
) -> CostRecord:
    amount = _cents(row, "amount")
    if amount is None:
        raise read.fail("a cost row has no amount")
    currency = text(row, "currency") or "USD"
    if currency != "USD":
        raise read.fail(f"a cost row is in {currency}, not USD")
    token_type = text(row, "token_type")
    dims = _dims(row, group=group)
    return CostRecord(
        day=day,
        amount_usd=amount,
        list_amount_usd=_cents(row, "list_amount"),
        cost_type=text(row, "cost_type"),
        token_type=TOKEN_TYPES.get(token_type, token_type),
        stream=stream,
        user_id=user_id,
        workspace_id=dims.group,
        product=dims.product,
        model=dims.model,
        context_window=dims.context_window,
        inference_geo=dims.inference_geo,
        service_tier=dims.speed,
    )


@dataclass
class Bucket:
    """One time bucket of a bucketed report. ``groups`` counts its rows (the API keeps 100)."""

    day: date
    groups: int
    usage: list[UsageRecord] = field(default_factory=list)
    cost: list[CostRecord] = field(default_factory=list)


def _buckets(body: Mapping[str, Any]) -> list[tuple[date, list[Mapping[str, Any]]]]:
    out = []
    for bucket in read.data(body):
        results = read.objects(bucket.get("results", []), "`results`")
        out.append((to_day(bucket.get("starting_at"), "bucket start"), results))
    return out


def parse_bucketed_usage(body: Mapping[str, Any], stream: str) -> list[Bucket]:
    """``usage_report`` buckets, oldest first, rows as usage records of ``stream``."""
    return [
        Bucket(
            day,
            len(rows),
            usage=merge_records(_usage(day, stream, row) for row in rows),
        )
        for day, rows in _buckets(body)
    ]


def parse_bucketed_cost(body: Mapping[str, Any], stream: str, *, by_group: bool = False) -> list[Bucket]:
    """``cost_report`` buckets; ``by_group`` keeps the RBAC group (in ``workspace_id``)."""
    return [
        Bucket(
            day,
            len(rows),
            cost=merge_records(_cost(day, stream, row, group=by_group) for row in rows),
        )
        for day, rows in _buckets(body)
    ]


def parse_actor(actor: Any) -> DirectoryEntry:
    """A person as the reports name them: ``user_id`` (e-mail, lower-cased) and name."""
    if not isinstance(actor, Mapping):
        raise read.fail(f"a per-user row has actor {actor!r}")
    # Analytics rows say `email`; spend-limit rows say `email_address`. Accept either anywhere.
    email = text(actor, "email") or text(actor, "email_address")
    provider_user = text(actor, "user_id") or text(actor, "id")
    if not email and not provider_user:
        raise read.fail("a per-user row names neither an e-mail nor a user id")
    key = email.lower() if email else provider_user
    deleted = actor.get("deleted")
    return DirectoryEntry(
        kind="user",
        provider_id=key,
        name=text(actor, "name") or email or provider_user,
        attributes={
            "email": email,
            "provider_user_id": provider_user,
            "deleted": "true" if deleted is True else "false",
        },
    )


@dataclass
class UserRow:
    """One per-user report row, before it becomes a record."""

    day: date | None
    person: DirectoryEntry
    row: Mapping[str, Any]


def _user_rows(body: Mapping[str, Any]) -> list[UserRow]:
    """Rows of a per-user report. With ``bucket_width`` each row carries its own
    ``starting_at`` (the documented shape); rows nested in ``{starting_at, results}``
    buckets are read too, in case the bucketed reports' envelope is used instead."""
    out = []
    for item in read.data(body):
        if "results" in item and "actor" not in item:
            day = to_day(item.get("starting_at"), "bucket start")
            for row in read.objects(item["results"], "`results`"):
                out.append(UserRow(day, parse_actor(row.get("actor")), row))
            continue
        start = item.get("starting_at")
        out.append(
            UserRow(
                None if start is None else to_day(start, "row start"), parse_actor(item.get("actor")), item
            )
        )
    return out


def _day_of(row: UserRow, default: date | None) -> date:
    if row.day is not None:
        return row.day
    if default is None:
        raise read.fail("a per-user row says no day and the request covered several")
    return default


def parse_user_usage(
    body: Mapping[str, Any], stream: str, default_day: date | None = None
) -> list[UsageRecord]:
    """``user_usage_report`` rows as per-person usage records (``default_day``: a one-day request)."""
    return [_usage(_day_of(r, default_day), stream, r.row, r.person.provider_id) for r in _user_rows(body)]


def parse_user_cost(
    body: Mapping[str, Any], stream: str, default_day: date | None = None
) -> list[CostRecord]:
    """``user_cost_report`` rows as per-person cost records."""
    return [
        _cost(_day_of(r, default_day), stream, r.row, user_id=r.person.provider_id) for r in _user_rows(body)
    ]


def parse_users(body: Mapping[str, Any]) -> list[DirectoryEntry]:
    """``analytics/users`` rows (per-user activity) as directory entries for their names.

    The reference gives no row shape [inf]: the person is read from a ``user`` object, an
    ``actor`` object or the row itself, with ``email``/``email_address`` and ``id``/``user_id``.
    """
    entries = []
    for row in read.data(body):
        person = row.get("user") or row.get("actor") or row
        entries.append(parse_actor(person))
    return entries


def parse_summaries(body: Mapping[str, Any], stream: str) -> list[UsageRecord]:
    """``analytics/summaries`` rows as one gauge record per metric and day.

    The list is read from ``summaries`` or ``data``, the day from ``date`` or
    ``starting_date`` [inf]; seats and active users are ``quantity`` with ``unit``
    ``seats``/``users``/``invites`` and the metric's name in ``variant``.
    """
    rows = body.get("summaries", body.get("data"))
    records = []
    for row in read.objects(rows, "`summaries`"):
        when = row.get("date", row.get("starting_date"))
        if when is None:
            raise read.fail("a summary row names no date")
        day = to_day(when, "summary date")
        for metric, unit in SUMMARY_METRICS.items():
            if row.get(metric) is not None:
                quantity = Decimal(read.count(row, metric))
                records.append(
                    UsageRecord(day=day, stream=stream, variant=metric, unit=unit, quantity=quantity)
                )
    return records

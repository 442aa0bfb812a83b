"""Response bodies of the simulated analytics routes: parameters, grouping, ranking and paging.

The vocabulary is the reference's (anthropic.md §6): bucketed reports group time buckets by
``group_by[]`` and keep the top ``group_cap`` groups of each bucket; per-user reports rank one
row per person (and per bucket and group, when asked) and page by rows. Cursors are opaque
``page_<base64>`` strings carrying a hash of the query and the data generation, so a cursor
sent with other parameters is refused (400) and one from before a data refresh has expired
(410), as the real API does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.datastructures import QueryParams

from aispend.providers.anthropic.simerrors import ApiError, bad
from aispend.providers.claude_enterprise.simdata import (
    DATA_START,
    CostLine,
    Line,
    Person,
    SimulatedEnterprise,
)

__all__ = ["Paging", "bucketed_report", "summaries", "user_report", "users_activity"]

WIDTHS = {  # bucket_width -> (step, default limit, max limit)
    "1d": (timedelta(days=1), 7, 31),
    "1h": (timedelta(hours=1), 24, 168),
    "1m": (timedelta(minutes=1), 60, 256),
}
USAGE_GROUPS = (
    "product",
    "model",
    "context_window",
    "inference_geo",
    "speed",
    "rbac_group_id",
    "slack_channel_id",
)
COST_GROUPS = (*USAGE_GROUPS, "cost_type", "token_type")
FILTERS = {
    "products[]": "product",
    "models[]": "model",
    "context_windows[]": "context_window",
    "inference_geos[]": "inference_geo",
    "speeds[]": "speed",
    "user_ids[]": "user_id",
    "rbac_group_ids[]": "rbac_group_id",
    "slack_channel_ids[]": "slack_channel_id",
}
REPORT_DAYS = 365


def _instant(name: str, raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise bad(f"{name}: invalid RFC 3339 datetime {raw!r}") from None
    if moment.tzinfo is None:
        raise bad(f"{name}: must be timezone-aware")
    return moment.astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _limit(params: QueryParams, default: int, maximum: int) -> int:
    raw = params.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise bad(f"limit: must be an integer between 1 and {maximum}; got {raw!r}")
    return int(raw)


@dataclass
class Paging:
    """Cursor rules of one organisation: the current data generation."""

    generation: int = 0

    def _query(self, params: QueryParams) -> str:
        pairs = sorted((k, v) for k, v in params.multi_items() if k != "page")
        return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()[:16]

    def encode(self, params: QueryParams, offset: int) -> str:
        raw = json.dumps({"q": self._query(params), "o": offset, "g": self.generation})
        return "page_" + base64.urlsafe_b64encode(raw.encode()).decode()

    def offset(self, params: QueryParams) -> int:
        raw = params.get("page")
        if not raw:
            return 0
        try:
            state = json.loads(base64.urlsafe_b64decode(raw.removeprefix("page_").encode()))
            query, offset, generation = state["q"], int(state["o"]), int(state["g"])
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise bad("page: invalid page token") from None
        if query != self._query(params):
            raise bad("page: cursor does not match current query parameters")
        if generation != self.generation:
            raise ApiError(
                410, "invalid_request_error", "page: cursor expired after a data refresh; restart paging"
            )
        return offset


def _range(params: QueryParams, today: date, *, bucketed: bool) -> tuple[datetime, datetime, str | None]:
    raw = params.get("starting_at")
    if not raw:
        raise bad("starting_at: field required")
    start = _instant("starting_at", raw)
    now = datetime.now(UTC)
    if start < datetime.combine(DATA_START, datetime.min.time(), UTC):
        raise bad("starting_at: data is available from 2026-01-01T00:00:00Z")
    if start < now - timedelta(days=REPORT_DAYS):
        raise bad("starting_at: must be within the last 365 days")
    width = params.get("bucket_width", "1d" if bucketed else None)
    if width is not None and width not in WIDTHS:
        raise bad(f"bucket_width: must be one of 1d, 1h, 1m; got {width!r}")
    raw_end = params.get("ending_at")
    if raw_end is None and width is not None and not bucketed:
        raise bad("ending_at: required when bucket_width is set")
    end = _instant("ending_at", raw_end) if raw_end else min(now, start + timedelta(days=31))
    if end <= start:
        raise bad("ending_at: must be after starting_at")
    if end - start > timedelta(days=31):
        raise bad("ending_at: the range may span at most 31 days")
    if width == "1m" and end - start > timedelta(hours=24):
        raise bad("ending_at: with bucket_width=1m the range may span at most 24 hours")
    return start, min(end, datetime.combine(today, datetime.min.time(), UTC)), width


def _groups(params: QueryParams, allowed: tuple[str, ...]) -> tuple[str, ...]:
    chosen = params.getlist("group_by[]")
    for name in chosen:
        if name not in allowed:
            raise bad(f"group_by[]: {name!r} is not one of {', '.join(allowed)}")
    return tuple(name for name in allowed if name in chosen)


def _exploded(org: SimulatedEnterprise, item: Line | CostLine) -> list[dict[str, Any]]:
    """A line's dimension values, once per RBAC group its person is in (API traffic: none)."""
    person = org.by_id.get(item.user_id) if item.user_id else None
    base = {
        "user_id": item.user_id,
        "product": item.product,
        "model": item.model,
        "context_window": item.context_window,
        "inference_geo": item.inference_geo,
        "speed": item.speed,
        "slack_channel_id": None,
    }
    if isinstance(item, CostLine):
        base.update(cost_type=item.cost_type, token_type=item.token_type)
    groups: Iterable[str | None] = person.groups if person else (None,)
    return [{**base, "rbac_group_id": group} for group in groups]


def _filters(params: QueryParams) -> list[tuple[str, set[str]]]:
    return [(dim, set(params.getlist(name))) for name, dim in FILTERS.items() if params.getlist(name)]


def _usage_metrics(lines: list[Line]) -> dict[str, Any]:
    def total(name: str) -> int:
        return sum(int(getattr(line, name)) for line in lines)

    return {
        "uncached_input_tokens": total("uncached_input_tokens"),
        "cache_creation": {
            "ephemeral_5m_input_tokens": total("cache_creation_5m"),
            "ephemeral_1h_input_tokens": total("cache_creation_1h"),
        },
        "cache_read_input_tokens": total("cache_read_input_tokens"),
        "output_tokens": total("output_tokens"),
        "server_tool_use": {"web_search_requests": total("web_search_requests")},
        "requests": total("requests"),
    }


def _cost_metrics(lines: list[CostLine]) -> dict[str, Any]:
    return {
        "amount": f"{sum((c.amount for c in lines), Decimal(0)):f}",
        "list_amount": f"{sum((c.list_amount for c in lines), Decimal(0)):f}",
        "currency": "USD",
    }


def _weight(lines: list[Any]) -> Decimal:
    if lines and isinstance(lines[0], CostLine):
        return sum((c.amount for c in lines), Decimal(0))
    return Decimal(sum(line.tokens for line in lines))


def _bucket_of(item: Line | CostLine, step: timedelta) -> datetime:
    moment = datetime.combine(item.day, datetime.min.time(), UTC) + timedelta(hours=item.hour)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + step * ((moment - epoch) // step)


def _items(org: SimulatedEnterprise, cost: bool, start: datetime, end: datetime) -> list[Line | CostLine]:
    out: list[Line | CostLine] = []
    day = start.date()
    while datetime.combine(day, datetime.min.time(), UTC) < end:
        out += org.cost_lines(day) if cost else org.lines(day)
        day += timedelta(days=1)
    return out


def bucketed_report(
    org: SimulatedEnterprise, paging: Paging, params: QueryParams, *, cost: bool
) -> dict[str, Any]:
    """``usage_report``/``cost_report``: time buckets of grouped rows, top ``group_cap`` each."""
    start, end, width = _range(params, org.today, bucketed=True)
    step, default, maximum = WIDTHS[width or "1d"]
    limit = _limit(params, default, maximum)
    groups = _groups(params, COST_GROUPS if cost else USAGE_GROUPS)
    filters = _filters(params)
    offset = paging.offset(params)
    buckets: list[datetime] = []
    moment = start + step * offset
    while moment < end and len(buckets) < limit:
        buckets.append(moment)
        moment += step
    grouped: dict[datetime, dict[tuple[Any, ...], list[Any]]] = {b: defaultdict(list) for b in buckets}
    for item in _items(org, cost, buckets[0], moment) if buckets else []:
        slot = grouped.get(_bucket_of(item, step))
        if slot is None:
            continue
        variants = [v for v in _exploded(org, item) if all(v[dim] in wanted for dim, wanted in filters)]
        if "rbac_group_id" not in groups:
            # Not grouped by group: a line counts once, however many groups its person is in.
            variants = variants[:1]
        for values in variants:
            slot[tuple(values[dim] for dim in groups)].append(item)
    data = []
    for bucket in buckets:
        ranked = sorted(grouped[bucket].items(), key=lambda kv: (-_weight(kv[1]), str(kv[0])))
        results = []
        for key, items in ranked[: org.settings.group_cap]:
            row = {dim: None for dim in (COST_GROUPS if cost else USAGE_GROUPS)}
            row.update(zip(groups, key, strict=True))
            row.update(_cost_metrics(items) if cost else _usage_metrics(items))
            results.append(row)
        data.append({"starting_at": _stamp(bucket), "ending_at": _stamp(bucket + step), "results": results})
    more = moment < end
    return {
        "data": data,
        "data_refreshed_at": None,
        "has_more": more,
        "next_page": paging.encode(params, offset + len(buckets)) if more else None,
        "organization_id": org.organization_id,
    }


def _actor(person: Person, org: SimulatedEnterprise) -> dict[str, Any]:
    return {
        "type": "user_actor",
        "user_id": person.user_id,
        "email": person.email,
        "name": person.name,
        "deleted": org.is_deleted(person),
    }


def user_report(
    org: SimulatedEnterprise, paging: Paging, params: QueryParams, *, cost: bool
) -> dict[str, Any]:
    """``user_usage_report``/``user_cost_report``: ranked rows per person (and bucket and group)."""
    start, end, width = _range(params, org.today, bucketed=False)
    limit = _limit(params, 20, 1000)
    groups = _groups(params, ("product", "model", "context_window", "inference_geo", "speed"))
    order_by = params.get("order_by", "amount" if cost else "total_tokens")
    if order_by not in (("amount", "list_amount") if cost else ("total_tokens", "output_tokens", "requests")):
        raise bad(f"order_by: invalid value {order_by!r}")
    descending = params.get("order", "desc") == "desc"
    exclude_deleted = params.get("exclude_deleted_users", "false").lower() == "true"
    filters = _filters(params)
    step = WIDTHS[width][0] if width else None
    rows: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for item in _items(org, cost, start, end):
        person = org.by_id.get(item.user_id) if item.user_id else None
        if person is None or (exclude_deleted and org.is_deleted(person)):
            continue
        values = _exploded(org, item)[0]
        if not all(values[dim] in wanted for dim, wanted in filters):
            continue
        bucket = _bucket_of(item, step) if step else None
        rows[(person.user_id, bucket, *(values[dim] for dim in groups))].append(item)
    built = []
    for key, items in rows.items():
        person = org.by_id[key[0]]
        row: dict[str, Any] = {"actor": _actor(person, org)}
        row["starting_at"] = _stamp(key[1]) if step else None
        row["ending_at"] = _stamp(key[1] + step) if step else None
        row.update(zip(groups, key[2:], strict=True))
        row.update(_cost_metrics(items) if cost else _usage_metrics(items))
        if not cost:
            row["total_tokens"] = sum(line.tokens for line in items)
        built.append((Decimal(str(row[order_by])), person.user_id, row["starting_at"] or "", row))
    built.sort(key=lambda r: (-r[0] if descending else r[0], r[1], r[2]))
    offset = paging.offset(params)
    page = [r[3] for r in built[offset : offset + limit]]
    more = offset + limit < len(built)
    return {
        "data": page,
        "data_refreshed_at": None,
        "has_more": more,
        "next_page": paging.encode(params, offset + limit) if more else None,
        "organization_id": org.organization_id,
    }


def _dates(params: QueryParams, org: SimulatedEnterprise) -> tuple[date, date]:
    """Engagement dates: ``date``, or ``starting_date`` to ``ending_date`` (exclusive here)."""
    try:
        if params.get("date"):
            first = date.fromisoformat(params["date"])
            last = first + timedelta(days=1)
        else:
            first = date.fromisoformat(params.get("starting_date") or "")
            raw_end = params.get("ending_date")
            last = date.fromisoformat(raw_end) if raw_end else org.today
    except ValueError:
        raise bad("date: expected YYYY-MM-DD") from None
    if first < DATA_START:
        raise bad("date: data is available from 2026-01-01")
    if first >= org.today or last > org.today:
        raise bad("date: must be before today")
    if first < org.today - timedelta(days=90):
        raise bad("date: engagement data covers the last 90 days")
    return first, max(last, first + timedelta(days=1))


def _active(org: SimulatedEnterprise, first: date, last: date) -> set[str]:
    active: set[str] = set()
    day = max(first, org.first_day)
    while day < last:
        active |= {line.user_id for line in org.lines(day) if line.user_id}
        day += timedelta(days=1)
    return active


def users_activity(org: SimulatedEnterprise, paging: Paging, params: QueryParams) -> dict[str, Any]:
    """``analytics/users``: each active person with activity counts, 100 a page by default."""
    first, last = _dates(params, org)
    limit = _limit(params, 100, 1000)
    active = _active(org, first, last)
    people = [p for p in org.people if p.user_id in active and not org.is_deleted(p)]
    offset = paging.offset(params)
    chunk = people[offset : offset + limit]
    more = offset + limit < len(people)
    return {
        "data": [
            {
                "user": {"id": p.user_id, "email_address": p.email, "name": p.name},
                "chat_metrics": {"distinct_conversation_count": len(p.products)},
                "claude_code_metrics": {"distinct_session_count": int("claude_code" in p.products)},
            }
            for p in chunk
        ],
        "next_page": paging.encode(params, offset + limit) if more else None,
    }


def summaries(org: SimulatedEnterprise, params: QueryParams) -> dict[str, Any]:
    """``analytics/summaries``: one row of active users, seats and invites per day."""
    first, last = _dates(params, org)
    rows = []
    day = first
    while day < last:
        seats = sum(1 for p in org.people if p.deleted_on is None or p.deleted_on > day)
        rows.append(
            {
                "starting_date": day.isoformat(),
                "ending_date": (day + timedelta(days=1)).isoformat(),
                "daily_active_user_count": len(_active(org, day, day + timedelta(days=1))),
                "weekly_active_user_count": len(
                    _active(org, day - timedelta(days=6), day + timedelta(days=1))
                ),
                "monthly_active_user_count": len(
                    _active(org, day - timedelta(days=29), day + timedelta(days=1))
                ),
                "assigned_seat_count": seats,
                "pending_invite_count": 3,
            }
        )
        day += timedelta(days=1)
    return {"summaries": rows}

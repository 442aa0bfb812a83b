"""Pure functions from one Anthropic response body to normalised records.

They tolerate older response shapes (missing ``inference_geo``, no ``cache_creation``
object, absent ``server_tool_use``) and refuse what cannot be read with a
:class:`FatalProviderError`, never with a silent zero.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import InvalidOperation
from typing import Any

from aispend.model import NONE, CostRecord, DirectoryEntry, UsageRecord, cents_to_dollars
from aispend.providers.base import DayRecords, FatalProviderError, FetchedPage, ProviderAccount
from aispend.providers.parsing import ResponseReader, merge_records, text

__all__ = [
    "DEFAULT_WORKSPACE_NAME",
    "parse_claude_code_page",
    "parse_cost_page",
    "parse_directory_page",
    "parse_organization",
    "parse_usage_page",
]

DEFAULT_WORKSPACE_NAME = "Default"

TOKEN_TYPES = {
    "uncached_input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write_5m",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write_1h",
}


_read = ResponseReader("Anthropic")
_fail = _read.fail
_count = _read.count
_text = text
next_page_cursor = _read.next_page


def _day(timestamp: Any) -> date:
    try:
        moment = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"bucket start {timestamp!r} is not an RFC 3339 time") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def _objects(items: list[Any], what: str) -> list[Mapping[str, Any]]:
    return _read.objects(items, what)


def _buckets(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return _read.data(body)


def _usage_record(day: date, row: Mapping[str, Any]) -> UsageRecord:
    cache = row.get("cache_creation")
    if cache is not None and not isinstance(cache, Mapping):
        raise _fail(f"cache_creation is {cache!r}")
    # Older shapes had one flat field with no lifetime split.
    flat_cache_write = _count(row, "cache_creation_input_tokens") if cache is None else 0
    tools = row.get("server_tool_use")
    return UsageRecord(
        day=day,
        stream="messages",
        model=_text(row, "model"),
        workspace_id=_text(row, "workspace_id"),
        api_key_id=_text(row, "api_key_id"),
        user_id=_text(row, "account_id"),
        service_tier=_text(row, "service_tier"),
        context_window=_text(row, "context_window"),
        inference_geo=_text(row, "inference_geo"),
        input_tokens=_count(row, "uncached_input_tokens"),
        cache_write_5m_tokens=_count(cache, "ephemeral_5m_input_tokens"),
        cache_write_1h_tokens=_count(cache, "ephemeral_1h_input_tokens"),
        cache_write_other_tokens=flat_cache_write,
        cache_read_tokens=_count(row, "cache_read_input_tokens"),
        output_tokens=_count(row, "output_tokens"),
        web_search_requests=_count(tools if isinstance(tools, Mapping) else None, "web_search_requests"),
    )


def _bucket_rows(body: Mapping[str, Any]) -> Iterator[tuple[date, list[Mapping[str, Any]]]]:
    """Each bucket's day and result rows; empty buckets too, since they clear a restated day."""
    for bucket in _buckets(body):
        day = _day(bucket.get("starting_at"))
        results = bucket.get("results")
        if not isinstance(results, list):
            raise _fail(f"bucket {day} has no `results` list")
        yield day, _objects(results, f"a result of bucket {day}")


def parse_usage_page(body: Mapping[str, Any]) -> FetchedPage:
    """``GET /v1/organizations/usage_report/messages`` with 1d buckets."""
    days = [
        DayRecords(day, usage=merge_records(_usage_record(day, row) for row in rows))
        for day, rows in _bucket_rows(body)
    ]
    return FetchedPage(days=days, next_cursor=next_page_cursor(body))


def _cost_type(row: Mapping[str, Any]) -> str:
    cost_type = _text(row, "cost_type")
    if cost_type:
        return cost_type
    description = _text(row, "description").lower()
    if row.get("token_type"):
        return "tokens"
    if "web search" in description:
        return "web_search"
    if "code execution" in description:
        return "code_execution"
    return NONE


def _cost_record(day: date, row: Mapping[str, Any]) -> CostRecord:
    currency = _text(row, "currency") or "USD"
    if currency != "USD":
        raise FatalProviderError(
            f"Anthropic reported cost in {currency}; aispend handles USD cost reports only so far.",
            next_step="Please report this so currency conversion can be added for your organisation.",
        )
    raw_amount = row.get("amount")
    try:
        amount = cents_to_dollars(str(raw_amount))
    except (InvalidOperation, ValueError):
        raise _fail(f"cost amount {raw_amount!r} is not a decimal number") from None
    token_type = _text(row, "token_type")
    return CostRecord(
        day=day,
        amount_usd=amount,
        workspace_id=_text(row, "workspace_id"),
        description=_text(row, "description"),
        cost_type=_cost_type(row),
        model=_text(row, "model"),
        token_type=TOKEN_TYPES.get(token_type, token_type),
        service_tier=_text(row, "service_tier"),
        context_window=_text(row, "context_window"),
        inference_geo=_text(row, "inference_geo"),
        currency=currency,
    )


def parse_cost_page(body: Mapping[str, Any]) -> FetchedPage:
    """``GET /v1/organizations/cost_report``; amounts are cents as decimal strings."""
    days = [
        DayRecords(day, cost=merge_records(_cost_record(day, row) for row in rows))
        for day, rows in _bucket_rows(body)
    ]
    return FetchedPage(days=days, next_cursor=next_page_cursor(body))


def parse_claude_code_page(body: Mapping[str, Any], day: date) -> FetchedPage:
    """``GET /v1/organizations/usage_report/claude_code`` for one day: one record per user and model."""
    records: list[UsageRecord] = []
    for item in _buckets(body):
        actor = item.get("actor") or {}
        if actor.get("type") == "api_actor":
            user = f"api_key:{actor.get('api_key_name', '')}"
        else:
            user = str(actor.get("email_address") or NONE)
        for breakdown in item.get("model_breakdown") or []:
            tokens = breakdown.get("tokens") or {}
            cost = (breakdown.get("estimated_cost") or {}).get("amount", 0)
            try:
                estimate = cents_to_dollars(str(cost))
            except (InvalidOperation, ValueError):
                raise _fail(f"estimated_cost {cost!r} is not a number") from None
            records.append(
                UsageRecord(
                    day=day,
                    stream="claude_code",
                    model=_text(breakdown, "model"),
                    user_id=user,
                    input_tokens=_count(tokens, "input"),
                    output_tokens=_count(tokens, "output"),
                    cache_read_tokens=_count(tokens, "cache_read"),
                    cache_write_other_tokens=_count(tokens, "cache_creation"),
                    estimated_cost_usd=estimate,
                )
            )
    usage = merge_records(records)
    return FetchedPage(days=[DayRecords(day, usage=usage)], next_cursor=next_page_cursor(body))


def parse_directory_page(kind: str, body: Mapping[str, Any]) -> FetchedPage:
    """A list page (``workspaces``, ``api_keys``, ``users``); the cursor is ``last_id``."""
    entries: list[DirectoryEntry] = []
    for item in _buckets(body):
        provider_id = _text(item, "id")
        if not provider_id:
            raise _fail(f"a {kind} item has no id")
        if kind == "users":
            name = _text(item, "name") or _text(item, "email")
            attributes = {"email": _text(item, "email"), "role": _text(item, "role")}
            entries.append(DirectoryEntry("user", provider_id, name, attributes))
        elif kind == "api_keys":
            attributes = {
                "workspace_id": _text(item, "workspace_id"),
                "status": _text(item, "status"),
                "hint": _text(item, "partial_key_hint"),
            }
            entries.append(DirectoryEntry("api_key", provider_id, _text(item, "name"), attributes))
        else:
            attributes = {"archived_at": _text(item, "archived_at")}
            entries.append(DirectoryEntry("workspace", provider_id, _text(item, "name"), attributes))
    cursor = None
    if body.get("has_more"):
        cursor = _text(body, "last_id") or None
        if cursor is None:
            raise _fail(f"the {kind} list has more items but no last_id")
    return FetchedPage(directory=entries, next_cursor=cursor)


def parse_organization(body: Mapping[str, Any]) -> ProviderAccount:
    """``GET /v1/organizations/me``."""
    org_id = _text(body, "id")
    if not org_id:
        raise _fail("the organisation has no id")
    return ProviderAccount(id=org_id, name=_text(body, "name"))

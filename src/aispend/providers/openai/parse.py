"""Pure functions from one OpenAI Admin API response body to normalised records.

Usage results become :class:`UsageRecord` rows per bucket day. Completions keep every
optional token field; fields missing from older response versions (the 2025 spec had no
text, image, cache-write or uncached counts) are derived where an identity allows and
zero otherwise. Non-token endpoints become a quantity in a unit. Costs keep the
provider's line item and, where its text names them, the model and token kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aispend.model import NONE, CostRecord, DirectoryEntry, UsageRecord
from aispend.providers.base import DayRecords, FatalProviderError, FetchedPage, ProviderAccount
from aispend.providers.openai.lineitems import parse_line_item
from aispend.providers.parsing import ResponseReader, merge_records, text

__all__ = [
    "GIB_HOURS_PER_BYTE_DAY",
    "parse_cost_page",
    "parse_directory_page",
    "parse_projects_account",
    "parse_usage_page",
]

_read = ResponseReader("OpenAI")
_count = _read.count

RowParser = Callable[[date, Mapping[str, Any]], UsageRecord]

GIB_HOURS_PER_BYTE_DAY = Decimal(24) / Decimal(2**30)
"""A day's ``usage_bytes`` of a vector store held for the whole 1d bucket, in GiB-hours."""


def _day(bucket: Mapping[str, Any]) -> date:
    start = bucket.get("start_time")
    if isinstance(start, bool) or not isinstance(start, int):
        raise _read.fail(f"bucket start_time {start!r} is not a Unix time")
    end = bucket.get("end_time")
    if isinstance(end, int) and not isinstance(end, bool) and end - start != 86400:
        raise _read.fail(f"bucket {start}..{end} is not one day wide (we ask for bucket_width=1d)")
    return datetime.fromtimestamp(start, UTC).date()


def _buckets(body: Mapping[str, Any]) -> list[tuple[date, list[Mapping[str, Any]]]]:
    out = []
    for bucket in _read.data(body):
        day = _day(bucket)
        out.append((day, _read.objects(bucket.get("results"), f"the results of bucket {day}")))
    return out


def _batch(row: Mapping[str, Any]) -> str:
    value = row.get("batch")
    if value is None:
        return NONE
    if not isinstance(value, bool):
        raise _read.fail(f"batch is {value!r}, not a boolean")
    return "true" if value else "false"


def _completions(day: date, row: Mapping[str, Any]) -> UsageRecord:
    total_input = _count(row, "input_tokens")
    cached = _count(row, "input_cached_tokens")
    cache_write = _count(row, "input_cache_write_tokens")
    # input_tokens = cached + cache-write + uncached (the spec's own example satisfies it).
    uncached = (
        _count(row, "input_uncached_tokens")
        if row.get("input_uncached_tokens") is not None
        else total_input - cached - cache_write
    )
    if uncached < 0:
        raise _read.fail(f"input_tokens {total_input} is less than its cached and cache-write parts")
    audio_in, image_in = _count(row, "input_audio_tokens"), _count(row, "input_image_tokens")
    output = _count(row, "output_tokens")
    audio_out, image_out = _count(row, "output_audio_tokens"), _count(row, "output_image_tokens")
    cached_audio, cached_image = (
        _count(row, "input_cached_audio_tokens"),
        _count(row, "input_cached_image_tokens"),
    )

    def derived(name: str, whole: int) -> int:
        # The text parts arrived in 2026; before, the text part is what the other modalities leave.
        return _count(row, name) if row.get(name) is not None else max(0, whole)

    return UsageRecord(
        day=day,
        stream="completions",
        model=text(row, "model"),
        workspace_id=text(row, "project_id"),
        api_key_id=text(row, "api_key_id"),
        user_id=text(row, "user_id"),
        service_tier=text(row, "service_tier"),
        batch=_batch(row),
        input_tokens=uncached,
        cache_read_tokens=cached,
        cache_write_other_tokens=cache_write,
        output_tokens=output,
        requests=_count(row, "num_model_requests"),
        input_text_tokens=derived("input_text_tokens", uncached - audio_in - image_in),
        input_cached_text_tokens=derived("input_cached_text_tokens", cached - cached_audio - cached_image),
        input_audio_tokens=audio_in,
        input_cached_audio_tokens=cached_audio,
        input_image_tokens=image_in,
        input_cached_image_tokens=cached_image,
        output_text_tokens=derived("output_text_tokens", output - audio_out - image_out),
        output_audio_tokens=audio_out,
        output_image_tokens=image_out,
    )


def _input_only(stream: str) -> RowParser:
    def parse(day: date, row: Mapping[str, Any]) -> UsageRecord:
        tokens = _count(row, "input_tokens")
        return UsageRecord(
            day=day,
            stream=stream,
            model=text(row, "model"),
            workspace_id=text(row, "project_id"),
            api_key_id=text(row, "api_key_id"),
            user_id=text(row, "user_id"),
            input_tokens=tokens,
            input_text_tokens=tokens,
            requests=_count(row, "num_model_requests"),
        )

    return parse


def _quantity(
    stream: str,
    unit: str,
    field: str,
    variant: Callable[[Mapping[str, Any]], str] | None = None,
    scale: Decimal = Decimal(1),
) -> RowParser:
    def parse(day: date, row: Mapping[str, Any]) -> UsageRecord:
        return UsageRecord(
            day=day,
            stream=stream,
            model=text(row, "model"),
            workspace_id=text(row, "project_id"),
            api_key_id=text(row, "api_key_id"),
            user_id=text(row, "user_id"),
            unit=unit,
            quantity=_count(row, field) * scale,
            variant=variant(row) if variant else NONE,
            requests=_count(row, "num_model_requests"),
        )

    return parse


def _image_variant(row: Mapping[str, Any]) -> str:
    return " ".join(part for part in (text(row, "size"), text(row, "source")) if part)


PARSERS: dict[str, RowParser] = {
    "completions": _completions,
    "embeddings": _input_only("embeddings"),
    "moderations": _input_only("moderations"),
    "images": _quantity("images", "images", "images", _image_variant),
    "audio_speeches": _quantity("audio_speeches", "characters", "characters"),
    "audio_transcriptions": _quantity("audio_transcriptions", "seconds", "seconds"),
    "vector_stores": _quantity(
        "vector_stores", "gibibyte_hours", "usage_bytes", scale=GIB_HOURS_PER_BYTE_DAY
    ),
    "code_interpreter_sessions": _quantity("code_interpreter_sessions", "sessions", "num_sessions"),
    "file_search_calls": _quantity(
        "file_search_calls", "calls", "num_requests", lambda row: text(row, "vector_store_id")
    ),
    "web_search_calls": _quantity(
        "web_search_calls", "calls", "num_requests", lambda row: text(row, "context_level")
    ),
}


def parse_usage_page(stream: str, body: Mapping[str, Any]) -> FetchedPage:
    parse = PARSERS[stream]
    days = [
        DayRecords(day, usage=merge_records(parse(day, row) for row in rows)) for day, rows in _buckets(body)
    ]
    return FetchedPage(days=days, next_cursor=_read.next_page(body))


def _amount(row: Mapping[str, Any]) -> tuple[Decimal, str]:
    amount = row.get("amount")
    if amount is None:
        return Decimal(0), "USD"
    if not isinstance(amount, Mapping):
        raise _read.fail(f"amount is {amount!r}, not an object")
    raw = amount.get("value")
    try:
        # Decoded with parse_float=Decimal, so the JSON number's digits arrive unrounded.
        value = Decimal(raw) if isinstance(raw, int | Decimal | str) and not isinstance(raw, bool) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise _read.fail(f"amount value {raw!r} is not a decimal number")
    currency = (text(amount, "currency") or "usd").upper()
    if currency != "USD":
        raise FatalProviderError(
            f"OpenAI reported cost in {currency}; its costs API documents USD, the only currency read here.",
            next_step="Please report this so currency conversion can be added for your organisation.",
        )
    return value, currency


def _cost_record(day: date, row: Mapping[str, Any]) -> CostRecord:
    amount, currency = _amount(row)
    line_item = text(row, "line_item")
    item = parse_line_item(line_item)
    quantity = row.get("quantity")
    if quantity is not None and (isinstance(quantity, bool) or not isinstance(quantity, int | Decimal)):
        raise _read.fail(f"quantity {quantity!r} is not a number")
    return CostRecord(
        day=day,
        amount_usd=amount,
        stream="costs",
        workspace_id=text(row, "project_id"),
        api_key_id=text(row, "api_key_id"),
        description=line_item,
        cost_type=item.cost_type if line_item else NONE,
        model=item.model,
        # A tool line's kind of call (a search's context level) stands where a token kind would.
        token_type=item.token_type or item.variant,
        service_tier=item.service_tier,
        inference_geo=NONE,
        currency=currency,
        quantity=None if quantity is None else Decimal(quantity),
        unit=text(row, "quantity_unit"),
        method="parsed_line_item" if item.parsed else "reported",
    )


def parse_cost_page(body: Mapping[str, Any]) -> FetchedPage:
    days = [
        DayRecords(day, cost=merge_records(_cost_record(day, row) for row in rows))
        for day, rows in _buckets(body)
    ]
    return FetchedPage(days=days, next_cursor=_read.next_page(body))


def _list_cursor(body: Mapping[str, Any], what: str) -> str | None:
    if not body.get("has_more"):
        return None
    cursor = text(body, "last_id") or None
    if cursor is None:
        # `last_id` is optional in the spec; the last item's id is the same cursor.
        items = body.get("data") or []
        cursor = text(items[-1], "id") if items and isinstance(items[-1], Mapping) else None
    if not cursor:
        raise _read.fail(f"the {what} list has more items but no last_id")
    return cursor


def _owner(item: Mapping[str, Any]) -> dict[str, str]:
    owner = item.get("owner")
    if not isinstance(owner, Mapping):
        return {}
    kind = text(owner, "type")
    who = owner.get(kind) if kind in ("user", "service_account") else None
    if not isinstance(who, Mapping):
        return {"owner_type": kind}
    return {
        "owner_type": kind,
        "owner_id": text(who, "id"),
        "owner_name": text(who, "name") or text(who, "email"),
    }


def parse_directory_page(kind: str, body: Mapping[str, Any], project_id: str = NONE) -> FetchedPage:
    """A list page of ``projects``, ``users``, a project's ``api_keys`` or ``service_accounts``."""
    entries: list[DirectoryEntry] = []
    for item in _read.data(body):
        provider_id = text(item, "id")
        if not provider_id:
            raise _read.fail(f"a {kind} item has no id")
        if kind == "projects":
            attributes = {"status": text(item, "status"), "archived_at": text(item, "archived_at")}
            entries.append(
                DirectoryEntry("workspace", provider_id, text(item, "name") or provider_id, attributes)
            )
        elif kind == "users":
            attributes = {"email": text(item, "email"), "role": text(item, "role")}
            name = text(item, "name") or text(item, "email") or provider_id
            entries.append(DirectoryEntry("user", provider_id, name, attributes))
        elif kind == "service_accounts":
            attributes = {"type": "service_account", "project_id": project_id, "role": text(item, "role")}
            entries.append(DirectoryEntry("user", provider_id, text(item, "name") or provider_id, attributes))
        else:
            attributes = {"workspace_id": project_id, "hint": text(item, "redacted_value"), **_owner(item)}
            entries.append(
                DirectoryEntry("api_key", provider_id, text(item, "name") or provider_id, attributes)
            )
    return FetchedPage(directory=entries, next_cursor=_list_cursor(body, kind))


def parse_projects_account(body: Mapping[str, Any]) -> ProviderAccount:
    """The organisation a key belongs to, told by its projects (the Admin API names no organisation).

    Its id is the oldest project's (the organisation's first project is never deleted,
    only archived); the projects are its scope, so two connections sharing one count twice.
    """
    projects = _read.data(body)
    if not projects:
        raise FatalProviderError(
            "OpenAI answered, but the key sees no projects at all.",
            next_step="Check that the Admin key belongs to the organisation whose spend you want.",
        )
    ids = [text(project, "id") for project in projects]
    if not all(ids):
        raise _read.fail("a project has no id")
    oldest = min(projects, key=lambda project: (project.get("created_at") or 0, text(project, "id")))
    names = sorted(text(project, "name") for project in projects if text(project, "status") != "archived")
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return ProviderAccount(
        id=text(oldest, "id"),
        name=f"OpenAI organisation with projects {shown}" if shown else "OpenAI organisation",
        scope_ids=frozenset(ids),
    )

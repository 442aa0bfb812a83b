"""Pure functions from one Codex Analytics page to normalised records, read defensively.

No official schema of these pages is public (reference openai.md §5.1 reconstructs one from
third-party clients), so every variant seen is accepted:

- the person as ``email``, ``user_email``, ``actor{user_id, email}`` or ``user_id`` alone
  (``user_id`` of a fact is the lower-cased e-mail when there is one, else the provider id);
- ``start_time`` as Unix seconds or an RFC 3339 / ``YYYY-MM-DD`` string;
- numbers as JSON numbers or decimal strings; credits fractional;
- ``totals`` and/or ``clients`` (credits no client explains become a row with no client),
  ``models`` with or without ``speed``;
- pages with or without ``has_more`` (a ``next_page`` alone means there is more).

Fields we do not know are kept out of the facts; their names are logged once per process.
Credits are not dollars: they stay in ``credits`` until a contract rate prices them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aispend.model import NONE, UsageRecord
from aispend.providers.parsing import ResponseReader, merge_records, text

__all__ = [
    "PRODUCT",
    "next_page",
    "parse_code_review_responses",
    "parse_code_reviews",
    "parse_model_usage",
    "parse_usage",
    "read",
]

log = logging.getLogger(__name__)
read = ResponseReader("ChatGPT Enterprise")
PRODUCT = "codex"

_KNOWN = {
    "page": {"object", "data", "has_more", "next_page", "first_id", "last_id"},
    "usage": {
        "object", "start_time", "end_time", "user_id", "actor", "email", "user_email",
        "totals", "clients", "models", "code_attribution",
    },
    "actor": {"type", "user_id", "email", "id", "name"},
    "totals": {"threads", "turns", "credits"},
    "client": {
        "client_id", "threads", "turns", "credits", "uncached_text_input_tokens",
        "cached_text_input_tokens", "text_output_tokens", "text_total_tokens",
    },
    "model": {"model", "credits", "speed"},
    "code_reviews": {
        "object", "start_time", "end_time", "pull_request_reviews", "comments", "comment_details",
    },
    "code_review_responses": {
        "object", "start_time", "end_time", "pull_request_reviews", "comments", "replies", "reactions",
        "reaction_details", "comment_response_details",
    },
}  # fmt: skip
_logged: set[tuple[str, str]] = set()
_logged_lock = threading.Lock()


def _note_unknown(where: str, item: Mapping[str, Any]) -> None:
    """Log, once per process, the name of each field of ``where`` we do not read."""
    for name in item:
        if name in _KNOWN[where]:
            continue
        with _logged_lock:
            if (where, name) in _logged:
                continue
            _logged.add((where, name))
        log.warning("ChatGPT Enterprise: unknown field %r in a %s object is not imported", name, where)


def _number(value: Any, what: str) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, bool):
        raise read.fail(f"{what} is {value!r}, not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise read.fail(f"{what} is {value!r}, not a number") from None
    if not number.is_finite() or number < 0:
        raise read.fail(f"{what} is {value!r}, not a non-negative number")
    return number


def _count(item: Mapping[str, Any] | None, name: str) -> int:
    if item is None:
        return 0
    number = _number(item.get(name), name)
    if number != number.to_integral_value():
        raise read.fail(f"{name} is {number}, not a whole count")
    return int(number)


def _day(value: Any) -> date:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return datetime.fromtimestamp(int(value), UTC).date()
    raw = str(value or "")
    if raw.isdigit():
        return datetime.fromtimestamp(int(raw), UTC).date()
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise read.fail(f"start_time {value!r} is neither Unix seconds nor an RFC 3339 time") from None
    return (moment if moment.tzinfo is None else moment.astimezone(UTC)).date()


def _object(value: Any, what: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise read.fail(f"{what} is {value!r}, not an object")
    return value


def _person(row: Mapping[str, Any]) -> str:
    actor = _object(row.get("actor"), "actor")
    if actor is not None:
        _note_unknown("actor", actor)
    email = text(row, "email") or text(row, "user_email") or (text(actor, "email") if actor else NONE)
    if email:
        return email.lower()
    return text(row, "user_id") or (text(actor, "user_id") or text(actor, "id") if actor else NONE)


def _rows(body: Mapping[str, Any], where: str) -> list[Mapping[str, Any]]:
    _note_unknown("page", body)
    rows = read.data(body)
    for row in rows:
        _note_unknown(where, row)
    return rows


def next_page(body: Mapping[str, Any]) -> str | None:
    """The next page's cursor: ``has_more`` with ``next_page``, or ``next_page`` alone."""
    if "has_more" in body:
        return read.next_page(body)
    cursor = body.get("next_page")
    return None if cursor in (None, "") else str(cursor)


def parse_usage(body: Mapping[str, Any], stream: str) -> list[UsageRecord]:
    """Per user, day and client: credits, turns (as ``requests``) and text tokens; threads apart.

    Threads are a record of their own (``unit="threads"``) so token records keep ``unit=""``.
    """
    records: list[UsageRecord] = []
    for row in _rows(body, "usage"):
        day, user = _day(row.get("start_time")), _person(row)
        clients = read.objects(row.get("clients") or [], "`clients`")
        totals = _object(row.get("totals"), "totals")
        if totals is not None:
            _note_unknown("totals", totals)
        sums = {"credits": Decimal(0), "turns": Decimal(0), "threads": Decimal(0)}
        for client in clients:
            _note_unknown("client", client)
            variant = text(client, "client_id")
            records += _client_records(day, stream, user, variant, client)
            for name in sums:
                sums[name] += _number(client.get(name), name)
        if totals is None:
            continue
        # What the totals hold beyond the clients (all of it when there are no clients).
        rest = {name: _number(totals.get(name), name) - sums[name] for name in sums}
        if any(value > 0 for value in rest.values()):
            remainder = {name: max(value, Decimal(0)) for name, value in rest.items()}
            records += _client_records(day, stream, user, NONE, remainder)
    return merge_records(records)


def _client_records(
    day: date, stream: str, user: str, client: str, item: Mapping[str, Any]
) -> list[UsageRecord]:
    uncached, cached = _count(item, "uncached_text_input_tokens"), _count(item, "cached_text_input_tokens")
    output = _count(item, "text_output_tokens")
    usage = UsageRecord(
        day=day,
        stream=stream,
        user_id=user,
        product=PRODUCT,
        variant=client,
        credits=_number(item.get("credits"), "credits"),
        requests=_count(item, "turns"),
        input_tokens=uncached,
        cache_read_tokens=cached,
        output_tokens=output,
        input_text_tokens=uncached,
        input_cached_text_tokens=cached,
        output_text_tokens=output,
    )
    threads = _count(item, "threads")
    if not threads:
        return [usage]
    thread_count = UsageRecord(
        day=day,
        stream=stream,
        user_id=user,
        product=PRODUCT,
        variant=client,
        unit="threads",
        quantity=Decimal(threads),
    )
    return [usage, thread_count]


def parse_model_usage(body: Mapping[str, Any], stream: str) -> list[UsageRecord]:
    """Per user, day and model: credits (``speed``, when given, in ``service_tier``). A breakdown."""
    records = []
    for row in _rows(body, "usage"):
        day, user = _day(row.get("start_time")), _person(row)
        for item in read.objects(row.get("models") or [], "`models`"):
            _note_unknown("model", item)
            records.append(
                UsageRecord(
                    day=day,
                    stream=stream,
                    user_id=user,
                    product=PRODUCT,
                    model=text(item, "model"),
                    service_tier=text(item, "speed"),
                    credits=_number(item.get("credits"), "credits"),
                )
            )
    return merge_records(records)


def _counts(day: date, stream: str, pairs: Iterable[tuple[str, Any]]) -> list[UsageRecord]:
    return [
        UsageRecord(
            day=day, stream=stream, product=PRODUCT, variant=name, unit="count", quantity=Decimal(count)
        )
        for name, count in pairs
        if count
    ]


def _details(row: Mapping[str, Any], field: str, prefix: str) -> list[tuple[str, int]]:
    details = _object(row.get(field), field) or {}
    return [(f"{prefix}_{name}", _count(details, name)) for name in details]


def parse_code_reviews(body: Mapping[str, Any], stream: str) -> list[UsageRecord]:
    """Per day: pull requests reviewed, comments, and comments per priority (``variant``)."""
    records = []
    for row in _rows(body, "code_reviews"):
        day = _day(row.get("start_time"))
        pairs = [(name, _count(row, name)) for name in ("pull_request_reviews", "comments")]
        records += _counts(day, stream, pairs + _details(row, "comment_details", "comments"))
    return merge_records(records)


def parse_code_review_responses(body: Mapping[str, Any], stream: str) -> list[UsageRecord]:
    """Per day: how people answered review comments (replies, reactions and their kinds)."""
    records = []
    for row in _rows(body, "code_review_responses"):
        day = _day(row.get("start_time"))
        names = ("pull_request_reviews", "comments", "replies", "reactions")
        pairs = [(name, _count(row, name)) for name in names]
        pairs += _details(row, "reaction_details", "reactions")
        pairs += _details(row, "comment_response_details", "responses")
        records += _counts(day, stream, pairs)
    return merge_records(records)

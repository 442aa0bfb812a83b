"""Query parameters of the simulated report and list routes, parsed and checked.

The vocabulary (bucket widths and their limits, ``group_by[]`` dimensions, filters) is the
reference's (§2-5); the parsers turn raw values into typed ones or raise the 400
``invalid_request_error`` the real API answers with. Page cursors are opaque
``page_<base64>`` strings here as there, and :class:`Window` is the slice of buckets one
report request serves.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from starlette.datastructures import QueryParams

from aispend.providers.anthropic.simerrors import bad

__all__ = [
    "COST_GROUPS",
    "COST_WIDTHS",
    "DATE_ONLY",
    "FAST_MODE_BETA",
    "ROW_DIMS",
    "USAGE_GROUPS",
    "USAGE_WIDTHS",
    "Window",
    "decode_cursor",
    "encode_cursor",
    "parse_group_by",
    "parse_limit",
    "parse_usage_filters",
    "parse_window",
    "rfc3339",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
# bucket_width -> (step, default limit, max limit)
USAGE_WIDTHS = {
    "1d": (timedelta(days=1), 7, 31),
    "1h": (timedelta(hours=1), 24, 168),
    "1m": (timedelta(minutes=1), 60, 1440),
}
COST_WIDTHS = {"1d": (timedelta(days=1), 7, 31)}
# Group fields every usage row carries (null unless grouped); `speed` appears only when grouped.
ROW_DIMS = (
    "account_id",
    "api_key_id",
    "service_account_id",
    "workspace_id",
    "model",
    "service_tier",
    "context_window",
    "inference_geo",
)
USAGE_GROUPS = tuple(sorted((*ROW_DIMS, "speed")))
COST_GROUPS = ("workspace_id", "description")
# filter parameter -> (dimension, allowed values or None for free text)
_USAGE_FILTERS: dict[str, tuple[str, frozenset[str] | None]] = {
    "api_key_ids[]": ("api_key_id", None),
    "workspace_ids[]": ("workspace_id", None),
    "account_ids[]": ("account_id", None),
    "service_account_ids[]": ("service_account_id", None),
    "models[]": ("model", None),
    "service_tiers[]": (
        "service_tier",
        frozenset({"standard", "batch", "priority", "priority_on_demand", "flex", "flex_discount"}),
    ),
    "context_window[]": ("context_window", frozenset({"0-200k", "200k-1M"})),
    "inference_geos[]": ("inference_geo", frozenset({"global", "us", "not_available"})),
    "speeds[]": ("speed", frozenset({"standard", "fast"})),
}
FAST_MODE_BETA = "fast-mode-2026-02-01"


def _instant(name: str, raw: str) -> datetime:
    try:
        if DATE_ONLY.fullmatch(raw):
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise bad(f"{name}: invalid RFC 3339 datetime {raw!r}") from None
    # Naive values are read as UTC rather than refused: the docs never say either way.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_limit(params: QueryParams, default: int, maximum: int, what: str) -> int:
    """The ``limit`` parameter; ``what`` names the context the maximum applies to."""
    raw = params.get("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad(f"limit: expected an integer, got {raw!r}") from None
    if not 1 <= value <= maximum:
        raise bad(f"limit: must be between 1 and {maximum}{what}; got {value}")
    return value


def _floor(moment: datetime, step: timedelta) -> datetime:
    return _EPOCH + step * ((moment - _EPOCH) // step)


def _ceil(moment: datetime, step: timedelta) -> datetime:
    floor = _floor(moment, step)
    return floor if floor == moment else floor + step


def rfc3339(moment: datetime) -> str:
    """``moment`` (UTC) as the API writes timestamps, to the second with a ``Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_cursor(text: str) -> str:
    """An opaque page cursor carrying ``text``."""
    return "page_" + base64.b64encode(text.encode()).decode("ascii")


def decode_cursor(raw: str) -> str:
    """The text inside a cursor made by :func:`encode_cursor`; a 400 for anything else."""
    if not raw.startswith("page_"):
        raise bad("page: invalid page token")
    try:
        return base64.b64decode(raw[5:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise bad("page: invalid page token") from None


def parse_group_by(params: QueryParams, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """The ``group_by[]`` dimensions, in ``allowed`` order whatever order they were sent in."""
    chosen = params.getlist("group_by[]")
    for dim in chosen:
        if dim not in allowed:
            raise bad(f"group_by[]: {dim!r} is not one of {', '.join(allowed)}")
    return tuple(dim for dim in allowed if dim in chosen)


def parse_usage_filters(params: QueryParams) -> list[tuple[str, set[str]]]:
    """(dimension, wanted values) of every usage-report filter the request sets."""
    filters: list[tuple[str, set[str]]] = []
    for name, (dim, allowed) in _USAGE_FILTERS.items():
        values = params.getlist(name)
        if not values:
            continue
        bad_values = [v for v in values if allowed is not None and v not in allowed]
        if bad_values:
            raise bad(f"{name}: invalid value {bad_values[0]!r}")
        filters.append((dim, set(values)))
    return filters


@dataclass(frozen=True)
class Window:
    """Bucket boundaries of one report request and the slice this page serves."""

    start: datetime
    end: datetime
    step: timedelta
    page_start: datetime
    limit: int

    def buckets(self) -> list[datetime]:
        """Starts of the buckets this page serves."""
        out: list[datetime] = []
        moment = self.page_start
        while moment < self.end and len(out) < self.limit:
            out.append(moment)
            moment += self.step
        return out


def parse_window(params: QueryParams, widths: dict[str, tuple[timedelta, int, int]], today: date) -> Window:
    """The report window a request asks for, clipped to end at the start of ``today``."""
    width = params.get("bucket_width", "1d")
    if width not in widths:
        raise bad(f"bucket_width: must be one of {', '.join(widths)}; got {width!r}")
    step, default, maximum = widths[width]
    limit = parse_limit(params, default, maximum, f" for bucket_width {width}")
    raw_start = params.get("starting_at")
    if not raw_start:
        raise bad("starting_at: field required")
    start = _floor(_instant("starting_at", raw_start), step)
    midnight = datetime.combine(today, datetime.min.time(), UTC)
    raw_end = params.get("ending_at")
    end = midnight
    if raw_end:
        requested = _ceil(_instant("ending_at", raw_end), step)
        if requested <= start:
            raise bad("ending_at: must be after starting_at")
        end = min(requested, midnight)
    page_start = start
    if params.get("page"):
        page_start = _instant("page", decode_cursor(params["page"]))
        if (
            page_start < start
            or page_start >= max(end, start + step)
            or _floor(page_start, step) != page_start
        ):
            raise bad("page: cursor does not match this query")
    return Window(start, end, step, page_start, limit)

"""Query parameters of the simulated usage, costs and list routes, parsed and checked.

The vocabulary (bucket widths and their limits, ``group_by`` values, filters) is the
reference's (§2-4); the parsers turn raw values into typed ones or raise the 400
``invalid_request_error`` the real API answers with, naming the parameter in ``param``.

Array parameters arrive in either encoding — repeated keys (``group_by=a&group_by=b``, as
the official SDK and cookbook send them) or PHP-style (``group_by[]=a``) — and both are
read (reference §2.1 leaves the wire encoding open). Page cursors are opaque
``page_<base64>`` strings, and :class:`Window` is the slice of buckets one request serves.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime

from starlette.datastructures import QueryParams

from aispend.providers.openai.simerrors import bad
from aispend.providers.openai.simrows import Dim, Endpoint

__all__ = [
    "COST_GROUPS",
    "COST_WIDTHS",
    "USAGE_WIDTHS",
    "Window",
    "array",
    "parse_bool",
    "parse_cost_filters",
    "parse_group_by",
    "parse_limit",
    "parse_usage_filters",
    "parse_window",
]

DAY = 86_400
# bucket_width -> (seconds, default limit, max limit)
USAGE_WIDTHS = {"1m": (60, 60, 1440), "1h": (3600, 24, 168), "1d": (DAY, 7, 31)}
COST_WIDTHS = {"1d": (DAY, 7, 180)}
COST_GROUPS = ("project_id", "line_item", "api_key_id")
_COST_FILTERS = {"project_ids": "project_id", "api_key_ids": "api_key_id"}


def array(params: QueryParams, name: str) -> list[str]:
    """Every value of an array parameter, whichever encoding the client used."""
    return params.getlist(name) + params.getlist(f"{name}[]")


def parse_bool(params: QueryParams, name: str) -> bool | None:
    """An optional boolean parameter; None when absent."""
    raw = params.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise bad(
            f"Invalid value for '{name}': expected a boolean, but got {raw!r} instead.", name, "invalid_type"
        )
    return raw.lower() == "true"


def _integer(params: QueryParams, name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad(
            f"Invalid '{name}': expected an integer, but got {raw!r} instead.", name, "invalid_type"
        ) from None


def parse_limit(params: QueryParams, default: int, maximum: int) -> int:
    """The ``limit`` parameter within ``1..maximum``."""
    value = _integer(params, "limit")
    if value is None:
        return default
    if value < 1:
        raise bad(
            f"Invalid 'limit': integer below minimum value. Expected a value >= 1, but got {value} instead.",
            "limit",
            "integer_below_min_value",
        )
    if value > maximum:
        raise bad(
            f"Invalid 'limit': integer above maximum value. Expected a value <= {maximum}, "
            f"but got {value} instead.",
            "limit",
            "integer_above_max_value",
        )
    return value


def parse_group_by(params: QueryParams, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """The ``group_by`` values, in ``allowed`` order whatever order they were sent in."""
    chosen = array(params, "group_by")
    for value in chosen:
        if value not in allowed:
            supported = ", ".join(f"'{a}'" for a in allowed)
            raise bad(f"Invalid value: '{value}'. Supported values are: {supported}.", "group_by")
    return tuple(dim for dim in allowed if dim in chosen)


def parse_usage_filters(params: QueryParams, endpoint: Endpoint) -> list[tuple[str, set[Dim]]]:
    """(group key, wanted values) of every filter of ``endpoint`` the request sets."""
    filters: list[tuple[str, set[Dim]]] = []
    for name, dim in endpoint.filters.items():
        values = array(params, name)
        if not values:
            continue
        allowed = endpoint.choices.get(name)
        for value in values:
            if allowed is not None and value not in allowed:
                supported = ", ".join(f"'{a}'" for a in allowed)
                raise bad(f"Invalid value: '{value}'. Supported values are: {supported}.", name)
        filters.append((dim, set(values)))
    if "batch" in endpoint.dims:
        batch = parse_bool(params, "batch")
        if batch is not None:
            filters.append(("batch", {batch}))
    return filters


def parse_cost_filters(params: QueryParams) -> list[tuple[str, set[str]]]:
    """(group key, wanted values) of the costs endpoint's ``project_ids`` and ``api_key_ids``."""
    return [(dim, set(values)) for name, dim in _COST_FILTERS.items() if (values := array(params, name))]


def _encode_cursor(page_start: int, query_start: int) -> str:
    return "page_" + base64.b64encode(struct.pack(">QQ", page_start, query_start)).decode("ascii")


def _decode_cursor(raw: str) -> tuple[int, int]:
    try:
        if not raw.startswith("page_"):
            raise ValueError(raw)
        page_start, query_start = struct.unpack(">QQ", base64.b64decode(raw[5:], validate=True))
    except (ValueError, binascii.Error, struct.error):
        raise bad(f"Invalid 'page': {raw!r} is not a page cursor.", "page") from None
    return int(page_start), int(query_start)


@dataclass(frozen=True)
class Window:
    """Bucket boundaries (Unix seconds, UTC-aligned) of one request and the slice this page serves."""

    start: int
    end: int
    step: int
    page_start: int
    limit: int

    def buckets(self) -> list[int]:
        """Starts of the buckets this page serves."""
        return list(
            range(self.page_start, min(self.end, self.page_start + self.limit * self.step), self.step)
        )

    def cursor(self, page_start: int) -> str:
        """The opaque cursor of the page starting at ``page_start`` of this query."""
        return _encode_cursor(page_start, self.start)


def parse_window(params: QueryParams, widths: dict[str, tuple[int, int, int]], today: date) -> Window:
    """The window a request asks for, its buckets clipped to end at the start of ``today``.

    ``start_time`` rounds down and ``end_time`` up to whole buckets, so every bucket is
    UTC-aligned; days from ``today`` on are not over yet and are never served.
    """
    width = params.get("bucket_width", "1d")
    if width not in widths:
        supported = ", ".join(f"'{w}'" for w in widths)
        raise bad(f"Invalid value: '{width}'. Supported values are: {supported}.", "bucket_width")
    step, default, maximum = widths[width]
    limit = parse_limit(params, default, maximum)
    raw_start = _integer(params, "start_time")
    if raw_start is None:
        raise bad("Missing required parameter: 'start_time'.", "start_time", "missing_required_parameter")
    if raw_start < 0:
        raise bad("Invalid 'start_time': must be a Unix timestamp in seconds.", "start_time")
    start = raw_start - raw_start % step
    midnight = int(datetime(today.year, today.month, today.day, tzinfo=UTC).timestamp())
    end = midnight
    raw_end = _integer(params, "end_time")
    if raw_end is not None:
        if raw_end <= raw_start:
            raise bad("Invalid 'end_time': must be after 'start_time'.", "end_time")
        end = min(raw_end + (-raw_end % step), midnight)
    page_start = start
    if params.get("page"):
        page_start, query_start = _decode_cursor(params["page"])
        if query_start != start or page_start % step or not start <= page_start < max(end, start + step):
            raise bad("Invalid 'page': the cursor does not belong to this query.", "page")
    return Window(start, end, step, page_start, limit)

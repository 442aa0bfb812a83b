"""Response bodies of the simulated routes: report aggregation and pagination.

The usage and cost reports cut the organisation's finest-grain rows into time buckets,
group and sum them the way the real API does (reference §2-3) and page by bucket with
opaque cursors; the directory lists page by keyset over ids (reference §5). Every function
here returns a :class:`Result`, the payload plus the cursor that re-reads the same page,
which the simulator needs to serve a cursor that loops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from starlette.datastructures import QueryParams

from aispend.providers.anthropic.simerrors import bad
from aispend.providers.anthropic.simparams import (
    ROW_DIMS,
    Window,
    encode_cursor,
    parse_limit,
    rfc3339,
)
from aispend.providers.anthropic.simprices import CENT_QUANTUM
from aispend.providers.anthropic.simrows import CostRow, UsageRow

__all__ = ["Result", "cost_buckets", "envelope", "list_page", "usage_buckets"]

# Cost fields parsed out of the description: null unless grouped by it.
_DESCRIBED = (
    "cost_type",
    "description",
    "model",
    "token_type",
    "context_window",
    "service_tier",
    "inference_geo",
)


@dataclass
class Result:
    """A route's JSON payload, before any injected fault rewrites its cursor."""

    payload: dict[str, Any]
    self_cursor: str | None = None  # a cursor that re-reads this very page


def _cents(amount: Decimal) -> str:
    return f"{amount.quantize(CENT_QUANTUM, rounding=ROUND_HALF_EVEN):f}"


def _sort_key(key: tuple[str | None, ...]) -> tuple[tuple[bool, str], ...]:
    # Nulls first, then by value: a plain sort would fail comparing None with str.
    return tuple((v is not None, v or "") for v in key)


def _bucket(start: datetime, step: timedelta, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"starting_at": rfc3339(start), "ending_at": rfc3339(start + step), "results": results}


def envelope(window: Window, data: list[dict[str, Any]]) -> Result:
    """The page around a report's buckets, with the cursor of the next page if any."""
    served = window.buckets()
    following = (served[-1] + window.step) if served else window.end
    more = following < window.end
    return Result(
        {
            "data": data,
            "has_more": more,
            "next_page": encode_cursor(rfc3339(following)) if more else None,
        },
        encode_cursor(rfc3339(served[0] if served else window.page_start)),
    )


def usage_buckets(
    window: Window,
    records_of: Callable[[date], list[UsageRow]],
    groups: tuple[str, ...],
    filters: list[tuple[str, set[str]]],
) -> list[dict[str, Any]]:
    """The usage report's buckets of this page, each grouped, filtered and summed."""
    parts = timedelta(days=1) // window.step
    # Every sub-bucket of a day but the first has the same sums, so each day is cut twice at most.
    memo: dict[tuple[date, bool], list[dict[str, Any]]] = {}
    data = []
    for bucket in window.buckets():
        key = (bucket.date(), bucket.time() == datetime.min.time())
        if key not in memo:
            memo[key] = _usage_results(records_of(key[0]), parts, key[1], groups, filters)
        data.append(_bucket(bucket, window.step, memo[key]))
    return data


def cost_buckets(
    window: Window, records_of: Callable[[date], list[CostRow]], groups: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The cost report's daily buckets of this page, each grouped and summed."""
    data = []
    for bucket in window.buckets():
        data.append(_bucket(bucket, window.step, _cost_results(records_of(bucket.date()), groups)))
    return data


def _usage_results(
    rows: list[UsageRow],
    parts: int,
    first: bool,
    groups: tuple[str, ...],
    filters: list[tuple[str, set[str]]],
) -> list[dict[str, Any]]:
    """One day's rows, cut to one of ``parts`` equal sub-buckets, grouped and summed."""

    def value(row: UsageRow, dim: str) -> str | None:
        if dim in ("account_id", "service_account_id"):
            return None  # no OAuth or workload-identity traffic in this organisation
        if dim == "speed":
            return "standard"
        result: str | None = getattr(row, dim)
        return result

    sums: dict[tuple[str | None, ...], list[int]] = {}
    for row in rows:
        if any(value(row, dim) not in wanted for dim, wanted in filters):
            continue
        key = tuple(value(row, dim) for dim in groups)
        acc = sums.setdefault(key, [0] * 6)
        for i, measure in enumerate(row[7:]):
            # Remainders go to the first sub-bucket so the parts add up to the day exactly.
            acc[i] += measure // parts + (measure % parts if first else 0)
    out = []
    for key in sorted(sums, key=_sort_key):
        m = sums[key]
        if not any(m):
            continue
        named = dict(zip(groups, key, strict=True))
        item: dict[str, Any] = {
            "uncached_input_tokens": m[0],
            "cache_creation": {"ephemeral_1h_input_tokens": m[2], "ephemeral_5m_input_tokens": m[1]},
            "cache_read_input_tokens": m[3],
            "output_tokens": m[4],
            "server_tool_use": {"web_search_requests": m[5]},
        }
        item.update((dim, named.get(dim)) for dim in ROW_DIMS)
        if "speed" in named:
            item["speed"] = named["speed"]
        out.append(item)
    return out


def _cost_results(rows: list[CostRow], groups: tuple[str, ...]) -> list[dict[str, Any]]:
    by_workspace = "workspace_id" in groups
    by_description = "description" in groups
    sums: dict[tuple[str | None, str | None], tuple[Decimal, CostRow]] = {}
    for row in rows:
        key = (row.workspace_id if by_workspace else None, row.description if by_description else None)
        total, sample = sums.get(key, (Decimal(0), row))
        sums[key] = (total + row.amount_cents, sample)
    out = []
    for key in sorted(sums, key=_sort_key):
        total, sample = sums[key]
        item: dict[str, Any] = {"amount": _cents(total), "currency": "USD"}
        item.update((name, getattr(sample, name) if by_description else None) for name in _DESCRIBED)
        item["workspace_id"] = key[0]
        out.append(item)
    return out


def list_page(
    items: list[dict[str, Any]], params: QueryParams, keep: Callable[[dict[str, Any]], bool]
) -> Result:
    """Keyset paging over a stable order, as the real list endpoints do with ids."""
    limit = parse_limit(params, 20, 1000, "")
    after, before = params.get("after_id"), params.get("before_id")
    if after and before:
        raise bad("after_id and before_id cannot be used together")
    position = {item["id"]: i for i, item in enumerate(items)}
    for name, value in (("after_id", after), ("before_id", before)):
        if value and value not in position:
            raise bad(f"{name}: unknown id {value!r}")
    kept = [(i, item) for i, item in enumerate(items) if keep(item)]
    if before:
        earlier = [item for i, item in kept if i < position[before]]
        chunk, more = earlier[-limit:], len(earlier) > limit
    else:
        later = [item for i, item in kept if not after or i > position[after]]
        chunk, more = later[:limit], len(later) > limit
    return Result(
        {
            "data": chunk,
            "first_id": chunk[0]["id"] if chunk else None,
            "last_id": chunk[-1]["id"] if chunk else None,
            "has_more": more,
        }
    )

"""Response bodies of the simulated routes: bucket aggregation, pagination and JSON.

The usage and costs routes cut the organisation's finest-grain rows into UTC buckets,
filter, group and sum them the way reference §2-3 describes, and page by bucket with
opaque cursors; the list routes page by ``after`` id (§4). Every function here returns a
:class:`Result`, the payload plus the cursor that re-reads the same page, which the
simulator needs to serve a cursor that loops.

Sub-day buckets (``1h``, ``1m``) split each finest row of a day evenly across the day's
buckets, the remainder going to the day's first bucket, so the buckets of a day always
add up to the daily figure exactly. Vector-store bytes are a level, not a flow: every
sub-day bucket repeats the day's figure.

Costs carry ``amount.value`` as a JSON number written from the exact ``Decimal``
(:func:`encode_json`), never through a float.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from starlette.datastructures import QueryParams

from aispend.providers.openai.simerrors import bad
from aispend.providers.openai.simparams import DAY, Window, parse_limit
from aispend.providers.openai.simrows import CostComponent, Dim, Endpoint, UsageRow

__all__ = ["Result", "cost_buckets", "encode_json", "envelope", "list_page", "usage_buckets"]

_COST_KEYS = ("line_item", "project_id", "api_key_id")


@dataclass
class Result:
    """A route's JSON payload, before any injected fault rewrites its cursor."""

    payload: dict[str, Any]
    self_cursor: str | None = None  # a cursor that re-reads this very page


def encode_json(value: Any) -> str:
    """JSON text of ``value``, writing ``Decimal`` as a plain number; floats are refused."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{encode_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, float):
        raise TypeError("money and counts are Decimal or int here, never float")
    return json.dumps(value)


def _sort_key(key: tuple[Dim, ...]) -> tuple[tuple[bool, str], ...]:
    # Nulls first, then by value: a plain sort would fail comparing None with str.
    return tuple((v is not None, str(v)) for v in key)


def _day_of(start: int) -> date:
    return datetime.fromtimestamp(start, UTC).date()


def envelope(window: Window, data: list[dict[str, Any]]) -> Result:
    """The ``page`` object around a report's buckets, with the cursor of the next page if any."""
    served = window.buckets()
    following = served[-1] + window.step if served else window.end
    more = following < window.end
    return Result(
        {
            "object": "page",
            "data": data,
            "has_more": more,
            "next_page": window.cursor(following) if more else None,
        },
        window.cursor(served[0] if served else window.page_start),
    )


def _bucket(start: int, step: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "bucket", "start_time": start, "end_time": start + step, "results": results}


def usage_buckets(
    window: Window,
    endpoint: Endpoint,
    records_of: Callable[[date], list[UsageRow]],
    groups: tuple[str, ...],
    filters: list[tuple[str, set[Dim]]],
) -> list[dict[str, Any]]:
    """One usage endpoint's buckets of this page, each filtered, grouped and summed."""
    parts = DAY // window.step
    # Every sub-bucket of a day but the first has the same sums, so each day is cut twice at most.
    memo: dict[tuple[date, bool], list[dict[str, Any]]] = {}
    data = []
    for start in window.buckets():
        key = (_day_of(start), start % DAY == 0)
        if key not in memo:
            memo[key] = _usage_results(endpoint, records_of(key[0]), parts, key[1], groups, filters)
        data.append(_bucket(start, window.step, memo[key]))
    return data


def _usage_results(
    endpoint: Endpoint,
    rows: list[UsageRow],
    parts: int,
    first: bool,
    groups: tuple[str, ...],
    filters: list[tuple[str, set[Dim]]],
) -> list[dict[str, Any]]:
    """One day's rows, cut to one of ``parts`` sub-buckets, filtered, grouped and summed."""
    where = {dim: endpoint.dims.index(dim) for dim in endpoint.dims}
    sums: dict[tuple[Dim, ...], list[int]] = {}
    for row in rows:
        if any(row.dims[where[dim]] not in wanted for dim, wanted in filters):
            continue
        acc = sums.setdefault(tuple(row.dims[where[g]] for g in groups), [0] * len(endpoint.counts))
        for i, count in enumerate(row.counts):
            if endpoint.gauge:
                acc[i] += count
            else:
                # Remainders go to the first sub-bucket so the parts add up to the day exactly.
                acc[i] += count // parts + (count % parts if first else 0)
    out = []
    for key in sorted(sums, key=_sort_key):
        if not any(sums[key]):
            continue
        named = dict(zip(groups, key, strict=True))
        item: dict[str, Any] = {"object": endpoint.result_object, **endpoint.render(sums[key])}
        item.update((dim, named.get(dim)) for dim in endpoint.dims)
        out.append(item)
    return out


def cost_buckets(
    window: Window,
    records_of: Callable[[date], list[CostComponent]],
    groups: tuple[str, ...],
    filters: list[tuple[str, set[str]]],
) -> list[dict[str, Any]]:
    """The costs endpoint's daily buckets of this page, each filtered, grouped and summed."""
    return [
        _bucket(start, window.step, _cost_results(records_of(_day_of(start)), groups, filters))
        for start in window.buckets()
    ]


def _cost_results(
    components: list[CostComponent], groups: tuple[str, ...], filters: list[tuple[str, set[str]]]
) -> list[dict[str, Any]]:
    by_line = "line_item" in groups
    sums: dict[tuple[str | None, ...], tuple[Decimal, Decimal, str | None]] = {}
    for c in components:
        if any(getattr(c, dim) not in wanted for dim, wanted in filters):
            continue
        key = tuple(getattr(c, k) if k in groups else None for k in _COST_KEYS)
        amount, quantity, _ = sums.get(key, (Decimal(0), Decimal(0), None))
        sums[key] = (amount + c.amount, quantity + c.quantity, c.quantity_unit)
    out = []
    for key in sorted(sums, key=_sort_key):
        amount, quantity, unit = sums[key]
        item: dict[str, Any] = {
            "object": "organization.costs.result",
            "amount": {"value": amount, "currency": "usd"},
            **dict(zip(_COST_KEYS, key, strict=True)),
            # Only a single line item has a single unit to count in.
            "quantity": quantity if by_line else None,
            "quantity_unit": unit if by_line else None,
        }
        out.append(item)
    return out


def list_page(
    items: list[dict[str, Any]], params: QueryParams, keep: Callable[[dict[str, Any]], bool] = lambda _: True
) -> Result:
    """One page of a directory list: ``limit`` items after the id in ``after``."""
    limit = parse_limit(params, 20, 100)
    kept = [item for item in items if keep(item)]
    after = params.get("after")
    start = 0
    if after:
        ids = [item["id"] for item in kept]
        if after not in ids:
            raise bad(f"Invalid 'after': no object with id {after!r} in this list.", "after")
        start = ids.index(after) + 1
    chunk = kept[start : start + limit]
    return Result(
        {
            "object": "list",
            "data": chunk,
            "first_id": chunk[0]["id"] if chunk else None,
            "last_id": chunk[-1]["id"] if chunk else None,
            "has_more": start + limit < len(kept),
        }
    )

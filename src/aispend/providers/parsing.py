"""Reading provider response bodies: the checks every connector's parser shares.

A value that cannot be read raises :class:`FatalProviderError` naming the provider and
the field, never a silent zero; absent optional fields read as zero or ``""``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields, replace
from decimal import Decimal
from operator import attrgetter
from typing import Any, TypeVar

from aispend.model import NONE, CostRecord, UsageRecord
from aispend.providers.base import FatalProviderError

__all__ = ["ResponseReader", "merge_records", "text"]

R = TypeVar("R", UsageRecord, CostRecord)

_MEASURES: dict[type, tuple[str, ...]] = {
    UsageRecord: tuple(
        f.name for f in fields(UsageRecord) if f.type in ("int", "Decimal") and f.name != "day"
    ),
    CostRecord: ("amount_usd", "amount", "list_amount_usd", "quantity"),
}
_KEYS = {
    kind: attrgetter(*(f.name for f in fields(kind) if f.name not in _MEASURES[kind]))
    for kind in (UsageRecord, CostRecord)
}


def text(row: Mapping[str, Any], name: str) -> str:
    """A dimension: the field as text, ``""`` when absent or null."""
    value = row.get(name)
    return NONE if value is None else str(value)


def _add(first: Decimal | int | None, second: Decimal | int | None) -> Decimal | int | None:
    if first is None or second is None:
        return second if first is None else first
    return first + second


def merge_records(records: Iterable[R]) -> list[R]:
    """Sum records that share every dimension, so each natural key appears once."""
    merged: dict[tuple[Any, ...], R] = {}
    for record in records:
        kind = type(record)
        key = _KEYS[kind](record)
        seen = merged.get(key)
        if seen is None:
            merged[key] = record
        else:
            sums: dict[str, Any] = {m: _add(getattr(seen, m), getattr(record, m)) for m in _MEASURES[kind]}
            merged[key] = replace(seen, **sums)
    return list(merged.values())


class ResponseReader:
    """Checks bound to one provider's name, for its error messages."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor

    def fail(self, what: str) -> FatalProviderError:
        return FatalProviderError(
            f"{self.vendor} returned a response we cannot read: {what}.",
            next_step=f"This looks like a change in {self.vendor}'s API; please report it with this message.",
        )

    def count(self, row: Mapping[str, Any] | None, name: str) -> int:
        """A whole non-negative count; 0 when the field is absent (older response versions)."""
        if row is None:
            return 0
        value = row.get(name)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.fail(f"{name} is {value!r}, not a count")
        if value < 0 or value != int(value):
            raise self.fail(f"{name} is {value}, not a whole non-negative count")
        return int(value)

    def objects(self, items: Any, what: str) -> list[Mapping[str, Any]]:
        if not isinstance(items, list):
            raise self.fail(f"{what} is not a list")
        for item in items:
            if not isinstance(item, Mapping):
                raise self.fail(f"{what} holds a {type(item).__name__}, not an object")
        return items

    def data(self, body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The page's ``data`` list of objects."""
        if not isinstance(body.get("data"), list):
            raise self.fail("no `data` list in the page")
        return self.objects(body["data"], "`data`")

    def next_page(self, body: Mapping[str, Any], field: str = "next_page") -> str | None:
        """The cursor of the following page; a page that says it has more must give one."""
        cursor = body.get(field)
        if body.get("has_more"):
            if not cursor:
                raise self.fail(f"has_more is true but {field} is empty")
            return str(cursor)
        return None

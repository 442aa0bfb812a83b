"""Column types that keep money exact on every database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

from aispend.model import MONEY_QUANTUM

__all__ = ["MONEY_SCALE", "Money", "UTCDateTime", "to_stored_money"]

MONEY_SCALE = 9
"""Digits after the dollar point that the store keeps (see ``MONEY_QUANTUM``)."""


def to_stored_money(value: Decimal | int) -> Decimal:
    """Round a dollar amount to the stored precision, half to even.

    Providers report at most six decimal places of a cent, well inside the
    nine decimal places of a dollar kept here, so in practice this never rounds.
    Floats are refused: they cannot represent most amounts exactly.
    """
    if not isinstance(value, Decimal | int) or isinstance(value, bool):
        raise TypeError(f"money must be Decimal or int, not {type(value).__name__}")
    return Decimal(value).quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)


class Money(TypeDecorator[Decimal]):
    """US dollars as ``Decimal``: ``NUMERIC(38, 9)`` on PostgreSQL, scaled integer on SQLite.

    SQLite has no exact decimal type (its NUMERIC affinity stores floats), so amounts
    are stored there as whole billionths of a dollar in a 64-bit integer. ``SUM``
    over integers is exact, and reads come back as ``Decimal`` through this type;
    the ceiling is about nine billion dollars per value or sum.
    """

    impl = Numeric(38, MONEY_SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(38, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        # PostgreSQL only: on SQLite ``bind_processor`` below converts to integer units.
        return None if value is None else to_stored_money(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-MONEY_SCALE)
        return Decimal(value).quantize(MONEY_QUANTUM)

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal

    def bind_processor(self, dialect: Dialect) -> Any:
        # Skip TypeDecorator's generic chain on SQLite: ingest binds millions of amounts.
        if dialect.name == "sqlite":

            def to_units(value: Decimal | None) -> int | None:
                if value is None:
                    return None
                return int(to_stored_money(value).scaleb(MONEY_SCALE))

            return to_units
        return super().bind_processor(dialect)

    def __repr__(self) -> str:
        return "Money()"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every engine (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; timestamps must be UTC-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

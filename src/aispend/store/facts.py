"""The one write path for facts: upsert on the natural key, and clear what a restatement dropped.

A provider page holds whole days. For each day it brings, the stored rows of that
day and stream become exactly the page's rows: rows are upserted on their natural
key (an unchanged row is not even rewritten), and rows the provider no longer
reports are deleted. Callers run this inside the transaction that also moves the
stream's checkpoint.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Dialect, Table, Text, cast, delete, func, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from aispend.model import CostRecord, DirectoryEntry, UsageRecord
from aispend.store.schema import (
    COST_DIMENSIONS,
    COST_MEASURES,
    USAGE_DIMENSIONS,
    USAGE_MEASURES,
    CostFact,
    DirectoryItem,
    UsageFact,
)

__all__ = ["insert_rows", "replace_cost_day", "replace_usage_day", "upsert_directory", "upsert_rows"]

_USAGE_FIELDS = tuple(f.name for f in fields(UsageRecord))
_COST_FIELDS = tuple(f.name for f in fields(CostRecord))
_usage_values = attrgetter(*_USAGE_FIELDS)
_cost_values = attrgetter(*_COST_FIELDS)

Row = tuple[Any, ...]


@functools.cache
def _sqlite_statement(
    table: Table, columns: tuple[str, ...], key: tuple[str, ...], measures: tuple[str, ...], dialect: Dialect
) -> tuple[str, list[tuple[int, Any]]]:
    """An INSERT (or upsert) in SQLite's own SQL, and the bind processors its columns need.

    Ingest binds millions of values; handing tuples straight to the driver, with each
    column's own SQLAlchemy bind processor applied only where one exists (dates,
    money), keeps the types single-sourced and costs a fraction of the ORM path.
    """
    names = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608 (names come from the schema)
    if key:
        updates = ", ".join(f"{m} = excluded.{m}" for m in measures)
        changed = " OR ".join(f"{table.name}.{m} IS NOT excluded.{m}" for m in measures)
        sql += f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates} WHERE {changed}"
    processors = []
    for index, name in enumerate(columns):
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors.append((index, processor))
    return sql, processors


def _write(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Row],
    key: Sequence[str] = (),
    measures: Sequence[str] = (),
) -> None:
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "sqlite":
        sql, processors = _sqlite_statement(table, tuple(columns), tuple(key), tuple(measures), dialect)
        params: Sequence[Row] = rows
        if processors:
            # Consecutive rows mostly repeat the same day and amount objects: convert each once.
            seen: list[tuple[Any, Any]] = [(object(), None)] * len(processors)
            converted = []
            for row in rows:
                values = list(row)
                for slot, (index, processor) in enumerate(processors):
                    value = values[index]
                    last_in, last_out = seen[slot]
                    if value is not last_in:
                        last_out = processor(value)
                        seen[slot] = (value, last_out)
                    values[index] = last_out
                converted.append(values)
            params = converted  # type: ignore[assignment]
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, params)
        finally:
            cursor.close()
        return
    statement: Any = postgresql.insert(table)
    if key:
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=list(key),
            set_={name: excluded[name] for name in measures},
            # Skip the write when nothing changed, so a re-import rewrites no row.
            # IS DISTINCT FROM on text: PostgreSQL's json type has no equality operator.
            where=or_(
                *(cast(table.c[name], Text).is_distinct_from(cast(excluded[name], Text)) for name in measures)
            ),
        )
    session.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])


def upsert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Row],
    key: Sequence[str],
    measures: Sequence[str],
) -> None:
    """Insert ``rows``, or update the measures of the row with the same ``key`` if they differ."""
    _write(session, table, columns, rows, key, measures)


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: Sequence[Row]) -> None:
    """Plain bulk insert through the same fast path."""
    _write(session, table, columns, rows)


def _delete_absent(
    session: Session,
    table: Table,
    scope: dict[str, Any],
    dimensions: Sequence[str],
    rows: Sequence[Row],
    positions: Sequence[int],
) -> None:
    where = [table.c[name] == value for name, value in scope.items()]
    stored = session.scalar(select(func.count()).select_from(table).where(*where)) or 0
    if stored <= len(rows):
        # Every row of the scope was just upserted (keys are unique): nothing can be stale.
        return
    present = {tuple(row[p] for p in positions) for row in rows}
    columns = [table.c[name] for name in dimensions]
    stale = [
        row[0]
        for row in session.execute(select(table.c.id, *columns).where(*where))
        if tuple(row[1:]) not in present
    ]
    for start in range(0, len(stale), 500):
        session.execute(delete(table).where(table.c.id.in_(stale[start : start + 500])))


def _check_day(day: date, record_day: date) -> None:
    if record_day != day:
        raise ValueError(f"record for {record_day} passed as {day}")


_USAGE_COLUMNS = ("org_id", "connection_id", *_USAGE_FIELDS)
_USAGE_KEY = ("connection_id", "day", *USAGE_DIMENSIONS)
_USAGE_KEY_POSITIONS = [_USAGE_COLUMNS.index(name) for name in USAGE_DIMENSIONS]
_COST_COLUMNS = ("org_id", "connection_id", *_COST_FIELDS)
_COST_KEY = ("connection_id", "day", *COST_DIMENSIONS)
_COST_KEY_POSITIONS = [_COST_COLUMNS.index(name) for name in COST_DIMENSIONS]
_AMOUNT_POSITION = _COST_FIELDS.index("amount")


def replace_usage_day(
    session: Session,
    *,
    org_id: int,
    connection_id: int,
    stream: str,
    day: date,
    records: Iterable[UsageRecord],
    clear_absent: bool = True,
) -> int:
    """Make the stored usage of (connection, stream, day) equal ``records``. Returns rows upserted.

    With ``clear_absent=False`` the records are added to the day (a later page of a
    day that spans several pages).
    """
    rows = []
    for record in records:
        _check_day(day, record.day)
        if record.stream != stream:
            raise ValueError(f"record of stream {record.stream} passed as {stream}")
        rows.append((org_id, connection_id, *_usage_values(record)))
    table: Table = UsageFact.__table__  # type: ignore[assignment]
    upsert_rows(session, table, _USAGE_COLUMNS, rows, _USAGE_KEY, USAGE_MEASURES)
    if clear_absent:
        scope = {"connection_id": connection_id, "day": day, "stream": stream}
        _delete_absent(session, table, scope, USAGE_DIMENSIONS, rows, _USAGE_KEY_POSITIONS)
    return len(rows)


def replace_cost_day(
    session: Session,
    *,
    org_id: int,
    connection_id: int,
    stream: str,
    day: date,
    records: Iterable[CostRecord],
    clear_absent: bool = True,
) -> int:
    """Make the stored cost of (connection, stream, day) equal ``records``. Returns rows upserted."""
    rows = []
    for record in records:
        _check_day(day, record.day)
        if record.stream != stream:
            raise ValueError(f"record of stream {record.stream} passed as {stream}")
        values = _cost_values(record)
        if record.amount is None:
            if record.currency != "USD":
                raise ValueError(f"a {record.currency} cost needs its amount in {record.currency}")
            values = tuple(record.amount_usd if i == _AMOUNT_POSITION else v for i, v in enumerate(values))
        rows.append((org_id, connection_id, *values))
    table: Table = CostFact.__table__  # type: ignore[assignment]
    upsert_rows(session, table, _COST_COLUMNS, rows, _COST_KEY, COST_MEASURES)
    if clear_absent:
        scope = {"connection_id": connection_id, "day": day, "stream": stream}
        _delete_absent(session, table, scope, COST_DIMENSIONS, rows, _COST_KEY_POSITIONS)
    return len(rows)


def upsert_directory(
    session: Session, *, org_id: int, connection_id: int, entries: Iterable[DirectoryEntry]
) -> int:
    """Record provider ids and their current names. Ids never disappear: old reports still need labels."""
    now = datetime.now(UTC)
    columns = ("org_id", "connection_id", "kind", "provider_id", "name", "attributes", "updated_at")
    rows = [
        (org_id, connection_id, entry.kind, entry.provider_id, entry.name, entry.attributes, now)
        for entry in entries
    ]
    table: Table = DirectoryItem.__table__  # type: ignore[assignment]
    upsert_rows(session, table, columns, rows, ("connection_id", "kind", "provider_id"), columns[4:])
    return len(rows)

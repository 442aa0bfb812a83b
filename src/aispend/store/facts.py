"""The one write path for facts: upsert on the natural key, and clear what a restatement dropped.

A provider page holds whole days. For each day it brings, the stored rows of that
day and stream become exactly the page's rows: rows are upserted on their natural
key (an unchanged row is not even rewritten), and rows the provider no longer
reports are deleted. Callers run this inside the transaction that also moves the
stream's checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from aispend.model import CostRecord, DirectoryEntry, UsageRecord
from aispend.store.schema import (
    COST_DIMENSIONS,
    USAGE_DIMENSIONS,
    USAGE_MEASURES,
    CostFact,
    DirectoryItem,
    UsageFact,
)

__all__ = ["replace_cost_day", "replace_usage_day", "upsert_directory", "upsert_rows"]

COST_MEASURES = ("amount_usd",)
# Field lists taken once: dataclasses.asdict deep-copies and dominates ingest time.
_USAGE_FIELDS = tuple(f.name for f in fields(UsageRecord))
_COST_FIELDS = tuple(f.name for f in fields(CostRecord))


def _insert(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for {dialect}")


def upsert_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    measures: Sequence[str],
) -> None:
    """Insert ``rows``, or update the measures of the row with the same ``key`` if they differ."""
    if not rows:
        return
    insert = _insert(session, table)
    excluded = insert.excluded
    statement = insert.on_conflict_do_update(
        index_elements=list(key),
        set_={name: excluded[name] for name in measures},
        # Skip the write when nothing changed, so a re-import rewrites no row.
        where=or_(*(table.c[name] != excluded[name] for name in measures)),
    )
    session.execute(statement, list(rows))


def _delete_absent(
    session: Session,
    table: Table,
    scope: dict[str, Any],
    dimensions: Sequence[str],
    present: set[tuple[Any, ...]],
) -> int:
    columns = [table.c[name] for name in dimensions]
    where = [table.c[name] == value for name, value in scope.items()]
    stale = [
        row.id
        for row in session.execute(select(table.c.id, *columns).where(*where))
        if tuple(getattr(row, name) for name in dimensions) not in present
    ]
    for start in range(0, len(stale), 500):
        session.execute(delete(table).where(table.c.id.in_(stale[start : start + 500])))
    return len(stale)


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
        if record.day != day or record.stream != stream:
            raise ValueError(f"record for {record.day}/{record.stream} passed as {day}/{stream}")
        row = {name: getattr(record, name) for name in _USAGE_FIELDS}
        row["org_id"] = org_id
        row["connection_id"] = connection_id
        rows.append(row)
    table = UsageFact.__table__
    upsert_rows(session, table, rows, ("connection_id", "day", *USAGE_DIMENSIONS), USAGE_MEASURES)  # type: ignore[arg-type]
    if clear_absent:
        present = {tuple(row[name] for name in USAGE_DIMENSIONS) for row in rows}
        scope = {"connection_id": connection_id, "day": day, "stream": stream}
        _delete_absent(session, table, scope, USAGE_DIMENSIONS, present)  # type: ignore[arg-type]
    return len(rows)


def replace_cost_day(
    session: Session,
    *,
    org_id: int,
    connection_id: int,
    day: date,
    records: Iterable[CostRecord],
    clear_absent: bool = True,
) -> int:
    """Make the stored cost of (connection, day) equal ``records``. Returns rows upserted."""
    rows = []
    for record in records:
        if record.day != day:
            raise ValueError(f"record for {record.day} passed as {day}")
        row = {name: getattr(record, name) for name in _COST_FIELDS}
        row["org_id"] = org_id
        row["connection_id"] = connection_id
        rows.append(row)
    table = CostFact.__table__
    upsert_rows(session, table, rows, ("connection_id", "day", *COST_DIMENSIONS), COST_MEASURES)  # type: ignore[arg-type]
    if clear_absent:
        present = {tuple(row[name] for name in COST_DIMENSIONS) for row in rows}
        scope = {"connection_id": connection_id, "day": day}
        _delete_absent(session, table, scope, COST_DIMENSIONS, present)  # type: ignore[arg-type]
    return len(rows)


def upsert_directory(
    session: Session, *, org_id: int, connection_id: int, entries: Iterable[DirectoryEntry]
) -> int:
    """Record provider ids and their current names. Ids never disappear: old reports still need labels."""
    now = datetime.now(UTC)
    rows = [
        {
            "org_id": org_id,
            "connection_id": connection_id,
            "kind": entry.kind,
            "provider_id": entry.provider_id,
            "name": entry.name,
            "attributes": entry.attributes,
            "updated_at": now,
        }
        for entry in entries
    ]
    if rows:
        insert = _insert(session, DirectoryItem.__table__)  # type: ignore[arg-type]
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["connection_id", "kind", "provider_id"],
                set_={name: insert.excluded[name] for name in ("name", "attributes", "updated_at")},
            ),
            rows,
        )
    return len(rows)

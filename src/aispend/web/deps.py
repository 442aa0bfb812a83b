"""Dependency aliases that keep routes readable: one per permission, plus the runtime.

@router.get("/api/v1/spend")
def spend(principal: SpendViewer, runtime: RuntimeDep) -> ...:
    with org_db(runtime, principal) as session:   # sees only principal.org_id's rows
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from aispend.auth.permissions import Permission
from aispend.auth.principal import Principal
from aispend.auth.tenancy import org_session
from aispend.reports.queries import report_period
from aispend.runtime import Runtime
from aispend.store.schema import Connection
from aispend.web.guard import Guard

__all__ = [
    "AccountUser",
    "AuditReader",
    "ConnectionManager",
    "CostManager",
    "RuntimeDep",
    "SpendViewer",
    "UserManager",
    "connection_named",
    "org_db",
    "report_days",
]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
AccountUser = Annotated[Principal, Depends(Guard(Permission.use_account))]
SpendViewer = Annotated[Principal, Depends(Guard(Permission.view_spend))]
ConnectionManager = Annotated[Principal, Depends(Guard(Permission.manage_connections))]
CostManager = Annotated[Principal, Depends(Guard(Permission.manage_costs))]
UserManager = Annotated[Principal, Depends(Guard(Permission.manage_users))]
AuditReader = Annotated[Principal, Depends(Guard(Permission.view_audit))]


@contextmanager
def org_db(runtime: Runtime, principal: Principal) -> Iterator[Session]:
    """A session scoped to the principal's organisation (see ``auth.tenancy``)."""
    with org_session(runtime.db, principal.org_id) as session:
        yield session


def connection_named(session: Session, org_id: int, name: str | None) -> int | None:
    """The id of the organisation's connection ``name`` (None for no name); 404 if there is none."""
    if not name:
        return None
    found = session.scalar(select(Connection.id).where(Connection.org_id == org_id, Connection.name == name))
    if found is None:
        raise HTTPException(404, detail=f"no connection named {name!r}")
    return found


def report_days(since: date | None, until: date | None) -> tuple[date, date]:
    """The inclusive UTC days asked for (default: the 30 complete days before today); 422 if reversed."""
    try:
        return report_period(since, until, datetime.now(UTC).date())
    except ValueError as error:
        raise HTTPException(422, detail=str(error)) from None

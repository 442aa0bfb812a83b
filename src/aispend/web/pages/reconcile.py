"""The Reconciliation page: billed against list against effective cost, with drift and its causes.

The body of ``GET /api/v1/reconcile`` (``pricing.reconcile``), drawn for people: one month row
per connection, its flagged days beneath, every known cause in words.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from starlette.responses import Response

from aispend.pricing.reconcile import DEFAULT_THRESHOLD_PCT, reconcile
from aispend.store.schema import Connection
from aispend.web.dashboard import provider_label
from aispend.web.deps import RuntimeDep, SpendViewer, connection_named, org_db, report_days
from aispend.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/reconcile")
def reconcile_page(
    request: Request,
    principal: SpendViewer,
    runtime: RuntimeDep,
    since: Annotated[date | None, Query()] = None,
    until: Annotated[date | None, Query()] = None,
    connection: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$")] = None,
    threshold: Annotated[Decimal, Query(ge=0, le=1000)] = DEFAULT_THRESHOLD_PCT,
) -> Response:
    today = datetime.now(UTC).date()
    first, last = report_days(since, until)
    with org_db(runtime, principal) as session:
        names = list(
            session.scalars(
                select(Connection.name).where(Connection.org_id == principal.org_id).order_by(Connection.name)
            )
        )
        connection_id = connection_named(session, principal.org_id, connection)
        body = reconcile(
            session,
            principal.org_id,
            since=first,
            until=last,
            today=today,
            connection_id=connection_id,
            threshold_pct=threshold,
        ).as_json()
    context: dict[str, Any] = {
        "body": body,
        "months": [row for row in body["rows"] if row["level"] == "month"],
        "flagged_days": _flagged_days(body["rows"]),
        "state": {"since": first, "until": last, "connection": connection or "", "threshold": threshold},
        "connections": names,
        "provider_label": provider_label,
        "money": lambda text: None if text is None else Decimal(text),
        "nav": "reconcile",
    }
    return render(request, "reconcile.html", context)


def _flagged_days(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Flagged day rows under their (connection, month)."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if row["level"] == "day" and row["flagged"]:
            out.setdefault((row["connection"], row["period"][:7]), []).append(row)
    return out

"""The JSON API under ``/api/v1``. Every route names its permission through a ``web.deps`` alias."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from aispend import audit
from aispend.auth.permissions import Role
from aispend.auth.users import AccessError, member_email, members_of, set_role
from aispend.pricing.reconcile import DEFAULT_THRESHOLD_PCT, reconcile
from aispend.reports.queries import GROUPINGS, CostBasis, Grouping, spend_report
from aispend.web.deps import (
    AccountUser,
    AuditReader,
    RuntimeDep,
    SpendViewer,
    UserManager,
    connection_named,
    org_db,
    report_days,
)
from aispend.web.filters import SpendFiltersQuery

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")


class SpendRowPublic(BaseModel):
    key: str | None = Field(
        description="Provider id of the group; null for the Default workspace or no API key"
    )
    label: str = Field(description="Human name of the group")
    cost_usd: str = Field(description="Dollars as a decimal string at full stored precision, never rounded")
    input_tokens: int = Field(description="Uncached input tokens")
    cache_write_tokens: int = Field(description="Cache writes, 5-minute and 1-hour together")
    cache_read_tokens: int
    output_tokens: int


class SpendReportPublic(BaseModel):
    currency: str
    since: date = Field(description="First UTC day, inclusive")
    until: date = Field(description="Last UTC day, inclusive")
    by: Grouping
    cost: CostBasis | None = Field(default=None, description="Present when not the default, effective")
    rows: list[SpendRowPublic]
    total: SpendRowPublic
    # Present only when they apply (the route leaves unset fields out, as the CLI's body does).
    unpriced_credits: str | None = Field(
        default=None, description="Seat-plan credits with no contract rate for their day, never priced at $0"
    )
    converted_from: list[str] | None = Field(
        default=None, description="Billing currencies converted to USD at the provider's own rate"
    )
    warnings: list[dict[str, Any]] | None = Field(
        default=None,
        description="Usage with no list price (never priced at $0): provider, model, kinds; "
        "connections a filter leaves out because their provider lacks the dimension",
    )
    filters: dict[str, str] | None = Field(
        default=None, description="The dimension filters that narrowed the report, when any"
    )


class MePublic(BaseModel):
    email: str
    organisation: str
    org_id: int
    role: Role
    permissions: list[str] = Field(description="What this session or token may do")
    via: str = Field(description="'session' (browser) or 'token' (personal API token)")


class AuditEntryPublic(BaseModel):
    id: int
    at: datetime
    org_id: int | None
    actor_id: int | None = Field(description="Kept after the user is deleted")
    actor_email: str = Field(description="A user's email, 'cli:<os user>', 'sso:<email>' or 'system'")
    action: str = Field(description="Dotted verb, e.g. connection.created")
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    address: str
    user_agent: str


class MemberPublic(BaseModel):
    user_id: int
    email: str
    role: Role


class RoleChange(BaseModel):
    role: Role


@router.get("/me", tags=["access"])
def me(principal: AccountUser) -> MePublic:
    """Who this request is signed in as, in which organisation, and what it may do."""
    return MePublic(
        email=principal.email,
        organisation=principal.org_name,
        org_id=principal.org_id,
        role=principal.role,
        permissions=sorted(principal.permissions),
        via=principal.via,
    )


@router.get("/spend", tags=["spend"], response_model_exclude_unset=True)
def spend(
    principal: SpendViewer,
    runtime: RuntimeDep,
    filters: SpendFiltersQuery,
    by: Annotated[Grouping, Query(description=f"One of: {', '.join(GROUPINGS)}")] = "model",
    since: Annotated[date | None, Query(description="First UTC day, inclusive; default 30 days ago")] = None,
    until: Annotated[date | None, Query(description="Last UTC day, inclusive; default yesterday")] = None,
    # No NUL: PostgreSQL refuses it in any text, so it could only ever fail the query.
    connection: Annotated[
        str | None, Query(description="Only this connection (by name)", max_length=100, pattern=r"^[^\x00]*$")
    ] = None,
    provider: Annotated[
        str | None, Query(description="Only this provider's connections, e.g. openai")
    ] = None,
    cost: Annotated[
        CostBasis,
        Query(description="reported, list (usage at list price) or effective (rate cards applied; default)"),
    ] = "effective",
) -> SpendReportPublic:
    """Spend grouped by one dimension: the same body as `aispend report spend --format json`."""
    since, until = report_days(since, until)
    with org_db(runtime, principal) as session:
        connection_id = connection_named(session, principal.org_id, connection)
        try:
            report = spend_report(
                session,
                principal.org_id,
                by=by,
                since=since,
                until=until,
                connection_id=connection_id,
                provider=provider,
                cost=cost,
                filters=filters,
            )
        except ValueError as error:
            raise HTTPException(422, detail=str(error)) from None
        return SpendReportPublic.model_validate(report.as_json())


@router.get("/reconcile", tags=["spend"])
def reconcile_report(
    principal: SpendViewer,
    runtime: RuntimeDep,
    since: Annotated[date | None, Query(description="First UTC day, inclusive; default 30 days ago")] = None,
    until: Annotated[date | None, Query(description="Last UTC day, inclusive; default yesterday")] = None,
    connection: Annotated[
        str | None, Query(description="Only this connection (by name)", max_length=100, pattern=r"^[^\x00]*$")
    ] = None,
    threshold: Annotated[
        Decimal, Query(description="Drift in percent above which a row is flagged", ge=0, le=1000)
    ] = DEFAULT_THRESHOLD_PCT,
) -> dict[str, Any]:
    """Reported vs list vs effective cost per connection, day and month, with drift and its known causes:
    the same body as `aispend report reconcile --format json`."""
    today = datetime.now(UTC).date()
    since, until = report_days(since, until)
    with org_db(runtime, principal) as session:
        connection_id = connection_named(session, principal.org_id, connection)
        try:
            result = reconcile(
                session,
                principal.org_id,
                since=since,
                until=until,
                today=today,
                connection_id=connection_id,
                threshold_pct=threshold,
            )
        except ValueError as error:
            raise HTTPException(422, detail=str(error)) from None
        body: dict[str, Any] = result.as_json()
        return body


@router.get("/audit", tags=["access"])
def audit_log(
    principal: AuditReader,
    runtime: RuntimeDep,
    since: Annotated[date | None, Query(description="First UTC day, inclusive")] = None,
    until: Annotated[date | None, Query(description="Last UTC day, inclusive")] = None,
    action: Annotated[str, Query(description="An action, or a prefix ending in a dot ('user.')")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntryPublic]:
    """The organisation's audit log, newest first."""
    with org_db(runtime, principal) as session:
        found = audit.entries(
            session,
            org_id=principal.org_id,
            since=datetime.combine(since, time(), UTC) if since else None,
            until=datetime.combine(until + timedelta(days=1), time(), UTC) if until else None,
            action=action,
            limit=limit,
        )
        return [AuditEntryPublic.model_validate(audit.entry_json(entry)) for entry in found]


@router.get("/users", tags=["access"])
def users(principal: UserManager, runtime: RuntimeDep) -> list[MemberPublic]:
    """The organisation's members and their roles."""
    with org_db(runtime, principal) as session:
        return [
            MemberPublic(user_id=m.user_id, email=m.email, role=m.role)
            for m in members_of(session, principal.org_id)
        ]


@router.put("/users/{user_id}/role", tags=["access"])
def change_role(
    principal: UserManager, runtime: RuntimeDep, user_id: int, change: RoleChange
) -> MemberPublic:
    """Give a member another role. The organisation's last Admin stays Admin."""
    with org_db(runtime, principal) as session, audit.acting_as(principal.actor):
        email = member_email(session, principal.org_id, user_id)
        if email is None:
            raise HTTPException(404, detail=f"no member with id {user_id}")
        try:
            member = set_role(session, org_id=principal.org_id, email=email, role=change.role)
        except AccessError as error:
            raise HTTPException(409, detail=str(error)) from None
        return MemberPublic(user_id=member.user_id, email=member.email, role=member.role)

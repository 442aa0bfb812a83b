"""The Admin's and Auditor's pages: users and roles, and the audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from aispend import audit
from aispend.auth.passwords import PasswordRejectedError
from aispend.auth.permissions import Role
from aispend.auth.principal import Principal
from aispend.auth.resets import issue_reset, mail_reset, reset_link
from aispend.auth.users import AccessError, add_member, member_email, members_of, remove_member, set_role
from aispend.runtime import Runtime
from aispend.web.deps import AuditReader, RuntimeDep, UserManager, org_db
from aispend.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
AUDIT_PAGE_LIMIT = 200


def _users_page(
    request: Request, principal: Principal, runtime: Runtime, status: int = 200, **context: object
) -> Response:
    with org_db(runtime, principal) as session:
        members = members_of(session, principal.org_id)
    values = {"members": members, "roles": list(Role), **context}
    return render(request, "users.html", values, status=status)


@router.get("/admin/users")
def users_page(request: Request, principal: UserManager, runtime: RuntimeDep) -> Response:
    return _users_page(request, principal, runtime)


@router.post("/admin/users")
def add_user(
    request: Request,
    principal: UserManager,
    runtime: RuntimeDep,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[Role, Form()],
) -> Response:
    settings = runtime.settings
    link = None
    try:
        with org_db(runtime, principal) as session, audit.acting_as(principal.actor):
            user = add_member(session, org_id=principal.org_id, email=email, role=role)
            if user.password_hash is None and user.oidc_subject is None:
                # A new account has no password yet: hand its owner a one-time link to choose one.
                link = reset_link(settings, issue_reset(session, settings, user), str(request.base_url))
            added = user.email
    except (AccessError, PasswordRejectedError) as error:
        return _users_page(request, principal, runtime, 422, error=str(error))
    mailed = link is not None and mail_reset(settings, added, link)
    notice = f"{added} is now {role.label}." + (
        " A link to choose a password was mailed to them." if mailed else ""
    )
    context: dict[str, object] = {"notice": notice}
    if link is not None and not mailed:
        context |= {
            "reset_link": link,
            "reset_email": added,
            "reset_minutes": settings.password_reset_minutes,
        }
    return _users_page(request, principal, runtime, 201, **context)


def _member_email(runtime: Runtime, principal: Principal, user_id: int) -> str:
    with org_db(runtime, principal) as session:
        email = member_email(session, principal.org_id, user_id)
    if email is None:
        raise HTTPException(404, detail=f"No member with id {user_id}.")
    return email


@router.post("/admin/users/{user_id}/role")
def change_role(
    request: Request, principal: UserManager, runtime: RuntimeDep, user_id: int, role: Annotated[Role, Form()]
) -> Response:
    email = _member_email(runtime, principal, user_id)
    try:
        with org_db(runtime, principal) as session, audit.acting_as(principal.actor):
            set_role(session, org_id=principal.org_id, email=email, role=role)
    except AccessError as error:
        return _users_page(request, principal, runtime, 409, error=str(error))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/remove")
def remove(request: Request, principal: UserManager, runtime: RuntimeDep, user_id: int) -> Response:
    email = _member_email(runtime, principal, user_id)
    try:
        with org_db(runtime, principal) as session, audit.acting_as(principal.actor):
            remove_member(session, org_id=principal.org_id, email=email)
    except AccessError as error:
        return _users_page(request, principal, runtime, 409, error=str(error))
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/audit")
def audit_page(
    request: Request, principal: AuditReader, runtime: RuntimeDep, action: str = "", since: date | None = None
) -> Response:
    with org_db(runtime, principal) as session:
        found = audit.entries(
            session,
            org_id=principal.org_id,
            since=datetime.combine(since, time(), UTC) if since else None,
            action=action,
            limit=AUDIT_PAGE_LIMIT,
        )
    context = {"entries": found, "action": action, "since": since, "limit": AUDIT_PAGE_LIMIT}
    return render(request, "audit.html", context)

"""A signed-in person's own pages: personal API tokens, switching organisation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from aispend import audit
from aispend.auth.apitokens import MAX_DAYS, issue_token, revoke_token, tokens_in
from aispend.auth.permissions import Permission, TokenScope
from aispend.auth.principal import Principal
from aispend.auth.sessions import switch_organisation
from aispend.auth.users import AccessError, memberships_of
from aispend.runtime import Runtime
from aispend.web.deps import AccountUser, RuntimeDep, SpendViewer, org_db
from aispend.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def organisations(runtime: Runtime, principal: Principal) -> list[tuple[int, str, object]]:
    """The principal's organisations, for the switcher (read outside any one organisation)."""
    with runtime.db.session() as session:
        return list(memberships_of(session, principal.user_id))


@router.post("/account/organisation")
def switch(
    request: Request, principal: AccountUser, runtime: RuntimeDep, org_id: Annotated[int, Form()]
) -> Response:
    try:
        with runtime.db.session() as session:
            switch_organisation(session, principal, org_id)
    except AccessError as error:
        raise HTTPException(404, detail=str(error)) from None
    return RedirectResponse("/", status_code=303)


def _tokens_page(
    request: Request, principal: Principal, runtime: Runtime, status: int = 200, **context: object
) -> Response:
    admin = principal.can(Permission.manage_users)
    with org_db(runtime, principal) as session:
        tokens = tokens_in(session, principal.org_id, user_id=None if admin else principal.user_id)
    values = {"tokens": tokens, "show_owner": admin, "max_days": MAX_DAYS, **context}
    return render(request, "tokens.html", values, status=status)


@router.get("/settings/tokens")
def tokens_page(request: Request, principal: SpendViewer, runtime: RuntimeDep) -> Response:
    return _tokens_page(request, principal, runtime)


@router.post("/settings/tokens")
def create_token(
    request: Request,
    principal: SpendViewer,
    runtime: RuntimeDep,
    name: Annotated[str, Form(max_length=100)],
    scope: Annotated[TokenScope, Form()] = TokenScope.read,
    days: Annotated[int, Form()] = 90,
) -> Response:
    try:
        with org_db(runtime, principal) as session, audit.acting_as(principal.actor):
            view, secret = issue_token(
                session, user_id=principal.user_id, org_id=principal.org_id, name=name, scope=scope, days=days
            )
    except AccessError as error:
        return _tokens_page(request, principal, runtime, 422, error=str(error))
    # Rendered in the POST's answer, never redirected to: the token must not travel in a URL.
    return _tokens_page(request, principal, runtime, 201, new_token=view, new_secret=secret)


@router.post("/settings/tokens/{token_id}/revoke")
def revoke(request: Request, principal: SpendViewer, runtime: RuntimeDep, token_id: int) -> Response:
    try:
        with org_db(runtime, principal) as session:
            revoke_token(session, principal, token_id, any_owner=principal.can(Permission.manage_users))
    except AccessError as error:
        raise HTTPException(404, detail=str(error)) from None
    return RedirectResponse("/settings/tokens", status_code=303)

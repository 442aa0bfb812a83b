"""The public pages: sign in and out, first-run setup, password reset, single sign-on.

These are the only pages without a guard (``web.guard.PUBLIC``); each state-changing
form still checks its CSRF token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from aispend import audit
from aispend.auth.login import LoginResult, check_password_login
from aispend.auth.oidc import FLOW_COOKIE, OidcClient, OidcError, oidc_enabled, sign_in_user
from aispend.auth.opaque import new_secret
from aispend.auth.passwords import MIN_LENGTH, PasswordRejectedError
from aispend.auth.permissions import Role
from aispend.auth.resets import consume_reset, issue_reset, mail_reset, may_mail_reset, reset_link, reset_user
from aispend.auth.sessions import SESSION_COOKIE, end_session, start_session
from aispend.auth.users import AccessError, add_member, find_user, normalise_email, user_count
from aispend.runtime import Runtime
from aispend.store.schema import Organisation
from aispend.web.cookies import clear_session_cookie, set_session_cookie
from aispend.web.csrf import require_csrf
from aispend.web.deps import RuntimeDep
from aispend.web.guard import client_address
from aispend.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
CsrfChecked = Annotated[None, Depends(require_csrf)]
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
NOTICES = {
    "reset": "Your password is changed. Sign in with it.",
    "signed-out": "You are signed out.",
}


def _safe_next(target: str) -> str:
    # Only paths of this site: "//host" and "/\\host" would send the browser elsewhere.
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


def _signed_in(request: Request, runtime: Runtime, token: str, target: str) -> Response:
    response = RedirectResponse(_safe_next(target), status_code=303)
    set_session_cookie(request, response, runtime.settings, token)
    return response


@router.get("/login")
def login_page(request: Request, runtime: RuntimeDep, next: str = "/", done: str = "") -> Response:
    return render(
        request,
        "login.html",
        {
            "next": _safe_next(next),
            "email": "",
            "notice": NOTICES.get(done, ""),
            "sso": oidc_enabled(runtime.settings),
        },
    )


@router.post("/login")
def login(
    request: Request,
    runtime: RuntimeDep,
    _csrf: CsrfChecked,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    address, agent = client_address(request), _agent(request)
    with runtime.db.session() as session:
        result = check_password_login(
            session, runtime.settings, email=email, password=password, address=address, user_agent=agent
        )
        token = None
        if result.user is not None:
            try:
                token = start_session(
                    session,
                    runtime.settings,
                    result.user,
                    address=address,
                    user_agent=agent,
                    replacing=request.cookies.get(SESSION_COOKIE),
                )
            except AccessError as error:
                result = LoginResult(None, str(error), 403)
    if token is None:
        context = {
            "next": _safe_next(next),
            "email": email,
            "error": result.refusal,
            "sso": oidc_enabled(runtime.settings),
        }
        return render(request, "login.html", context, status=result.status)
    return _signed_in(request, runtime, token, next)


@router.post("/logout")
def logout(request: Request, runtime: RuntimeDep, _csrf: CsrfChecked) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with runtime.db.session() as session:
            end_session(session, token, address=client_address(request), user_agent=_agent(request))
    response = RedirectResponse("/login?done=signed-out", status_code=303)
    clear_session_cookie(request, response, runtime.settings)
    return response


def _setup_allowed(request: Request, runtime: Runtime) -> bool:
    """Only while no account exists, and only to a browser on this machine with no proxy between."""
    forwarded = any(h in request.headers for h in ("forwarded", "x-forwarded-for", "x-real-ip"))
    if client_address(request) not in LOOPBACK or forwarded:
        return False
    with runtime.db.session() as session:
        return user_count(session) == 0


@router.get("/setup")
def setup_page(request: Request, runtime: RuntimeDep) -> Response:
    if not _setup_allowed(request, runtime):
        raise HTTPException(404)
    return render(request, "setup.html", _setup_context(runtime, ""))


def _setup_context(runtime: Runtime, email: str, error: str = "") -> dict[str, object]:
    with runtime.db.session() as session:
        org_name = session.get_one(Organisation, runtime.org_id).name
    return {"email": email, "org_name": org_name, "min_length": MIN_LENGTH, "error": error}


@router.post("/setup")
def setup(
    request: Request,
    runtime: RuntimeDep,
    _csrf: CsrfChecked,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    if not _setup_allowed(request, runtime):
        raise HTTPException(404)
    address, agent = client_address(request), _agent(request)
    try:
        with runtime.db.session() as session:
            actor = audit.Actor(email=f"setup:{normalise_email(email)}", address=address, user_agent=agent)
            with audit.acting_as(actor):
                user = add_member(
                    session, org_id=runtime.org_id, email=email, role=Role.admin, password=password
                )
            token = start_session(session, runtime.settings, user, address=address, user_agent=agent)
    except (AccessError, PasswordRejectedError) as error:
        return render(request, "setup.html", _setup_context(runtime, email, str(error)), status=422)
    return _signed_in(request, runtime, token, "/")


@router.get("/password-reset")
def reset_request_page(request: Request, runtime: RuntimeDep) -> Response:
    return render(request, "reset_request.html", {"mail": bool(runtime.settings.smtp_host)})


@router.post("/password-reset")
def reset_request(
    request: Request,
    runtime: RuntimeDep,
    _csrf: CsrfChecked,
    email: Annotated[str, Form(max_length=320)],
    background: BackgroundTasks,
) -> Response:
    settings = runtime.settings
    if settings.smtp_host:
        link = None
        with runtime.db.session() as session:
            user = find_user(session, email)
            if user is not None and may_mail_reset(session, user):
                actor = audit.Actor(
                    email="anonymous", address=client_address(request), user_agent=_agent(request)
                )
                with audit.acting_as(actor):
                    link = reset_link(settings, issue_reset(session, settings, user), str(request.base_url))
        if link is not None and user is not None:
            # After the answer: how long mailing takes must not tell who has an account.
            background.add_task(mail_reset, settings, user.email, link)
    # The same answer whether or not the account exists, so the form reveals no accounts.
    notice = "If that address has an account, a reset link is on its way. It works once."
    return render(request, "reset_request.html", {"mail": bool(settings.smtp_host), "notice": notice})


@router.get("/password-reset/{token}")
def reset_page(request: Request, runtime: RuntimeDep, token: str) -> Response:
    try:
        with runtime.db.session() as session:
            email = reset_user(session, token).email
    except AccessError as error:
        return _message(request, "Password reset", str(error), 404)
    return render(request, "reset_form.html", {"email": email, "min_length": MIN_LENGTH})


@router.post("/password-reset/{token}")
def reset(
    request: Request,
    runtime: RuntimeDep,
    _csrf: CsrfChecked,
    token: str,
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    actor = audit.Actor(email="anonymous", address=client_address(request), user_agent=_agent(request))
    try:
        with runtime.db.session() as session, audit.acting_as(actor):
            email = reset_user(session, token).email
            consume_reset(session, token, password)
    except AccessError as error:
        return _message(request, "Password reset", str(error), 404)
    except PasswordRejectedError as error:
        context = {"email": email, "min_length": MIN_LENGTH, "error": str(error)}
        return render(request, "reset_form.html", context, status=422)
    return RedirectResponse("/login?done=reset", status_code=303)


def _message(request: Request, heading: str, text: str, status: int) -> Response:
    return render(request, "message.html", {"heading": heading, "text": text, "error": True}, status=status)


def _oidc(request: Request, runtime: Runtime) -> OidcClient:
    if not oidc_enabled(runtime.settings):
        raise HTTPException(404)
    client: OidcClient | None = getattr(request.app.state, "oidc", None)
    if client is None:
        client = request.app.state.oidc = OidcClient(runtime.settings)
    return client


def _redirect_uri(request: Request, runtime: Runtime) -> str:
    base = runtime.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/oidc/callback"


@router.get("/oidc/login")
def oidc_login(request: Request, runtime: RuntimeDep) -> Response:
    client = _oidc(request, runtime)
    flow = new_secret()
    try:
        url = client.authorization_url(_redirect_uri(request, runtime), flow)
    except OidcError as error:
        return _message(request, "Single sign-on", str(error), 502)
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        FLOW_COOKIE,
        flow,
        max_age=600,
        path="/oidc",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/oidc/callback")
def oidc_callback(
    request: Request, runtime: RuntimeDep, code: str = "", state: str = "", error: str = ""
) -> Response:
    client = _oidc(request, runtime)
    flow = request.cookies.get(FLOW_COOKIE)
    address, agent = client_address(request), _agent(request)
    try:
        if error or not flow:
            raise OidcError(
                f"The identity provider answered {error!r}." if error else "The sign-in expired; start again."
            )
        identity = client.identify(_redirect_uri(request, runtime), flow, code=code, state=state)
        with runtime.db.session() as session:
            user = sign_in_user(session, runtime.settings, identity, runtime.org_id)
            token = start_session(
                session,
                runtime.settings,
                user,
                address=address,
                user_agent=agent,
                method="sso",
                replacing=request.cookies.get(SESSION_COOKIE),
            )
        response = _signed_in(request, runtime, token, "/")
    except (OidcError, AccessError) as failure:
        # The sign-in's own changes rolled back with its session; the refusal is recorded apart.
        with runtime.db.session() as session:
            audit.record(
                session,
                org_id=None,
                action="session.login_failed",
                actor_email="anonymous",
                target="sso",
                after={"reason": str(failure)},
                address=address,
                user_agent=agent,
            )
        response = _message(request, "Single sign-on failed", str(failure), 401)
    response.delete_cookie(FLOW_COOKIE, path="/oidc")
    return response

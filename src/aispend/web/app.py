"""The FastAPI application: JSON API under ``/api/v1``, pages, OpenAPI docs at ``/api/docs``.

Every route is guarded (``web.guard``); the application refuses to start otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from aispend import __version__
from aispend.auth.users import admins_of, memberships_of
from aispend.runtime import Runtime
from aispend.web import api, api_costs, api_dashboard
from aispend.web.csrf import CsrfError
from aispend.web.deps import RuntimeDep
from aispend.web.guard import ForbiddenError, NotSignedInError, is_api, unguarded_routes
from aispend.web.pages import account, admin, assets, connections, costs, reconcile, signin, spend
from aispend.web.templating import render

__all__ = ["create_app"]

SECURITY_HEADERS = {
    # Reset links carry their token in the path: never send it on in a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="aispend",
        version=__version__,
        summary="AI token spend: usage and cost imported from AI providers, reconciled and reported.",
        description="Authenticate with a session cookie (sign in at /login) or a personal API token "
        "(`Authorization: Bearer aispend_…`, created at /settings/tokens).",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.runtime = runtime

    @app.get("/healthz", tags=["health"])
    def healthz(runtime: RuntimeDep) -> dict[str, str]:
        """Liveness and database reachability."""
        with runtime.db.session() as session:
            session.execute(select(1))
        return {"status": "ok"}

    app.include_router(api.router)
    app.include_router(api_dashboard.router)
    app.include_router(api_costs.router)
    app.include_router(assets.router)
    app.include_router(spend.router)
    app.include_router(reconcile.router)
    app.include_router(connections.router)
    app.include_router(costs.router)
    app.include_router(signin.router)
    app.include_router(account.router)
    app.include_router(admin.router)
    _add_error_pages(app)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if response.headers.get("content-type", "").startswith("text/html"):
            # Pages can show a token once or a reset link: keep them out of every cache.
            response.headers["Cache-Control"] = "no-store"
        return response

    missing = unguarded_routes(app)
    if missing:
        raise RuntimeError(f"routes without a permission check: {', '.join(missing)}")
    return app


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(NotSignedInError)
    async def not_signed_in(request: Request, _error: NotSignedInError) -> Response:
        if is_api(request):
            return JSONResponse(
                {"detail": "Sign in, or send a personal API token as 'Authorization: Bearer <token>'."},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)

    @app.exception_handler(ForbiddenError)
    async def forbidden(request: Request, error: ForbiddenError) -> Response:
        if is_api(request):
            return JSONResponse(
                {"detail": f"Your role ({error.principal.role.label}) or token scope does not allow this."},
                status_code=403,
            )
        runtime: Runtime = request.app.state.runtime
        admins, organisations = await run_in_threadpool(_whom_to_ask, runtime, error)
        context = {"admins": admins, "organisations": organisations}
        return render(request, "no_access.html", context, status=403)

    @app.exception_handler(CsrfError)
    async def csrf_failed(request: Request, error: CsrfError) -> Response:
        if is_api(request):
            return JSONResponse({"detail": str(error)}, status_code=403)
        context = {
            "heading": "Form expired",
            "text": str(error),
            "error": True,
            "link": "/",
            "link_text": "Home",
        }
        return render(request, "message.html", context, status=403)


def _whom_to_ask(runtime: Runtime, error: ForbiddenError) -> tuple[list[str], list[tuple[int, str, object]]]:
    with runtime.db.session() as session:
        return admins_of(session, error.principal.org_id), list(
            memberships_of(session, error.principal.user_id)
        )

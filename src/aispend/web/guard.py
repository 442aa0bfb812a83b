"""The one permission check every route goes through, and the few routes allowed without it.

Each route declares a :class:`Guard` for exactly one permission (``Depends(Guard(...))``,
usually through the aliases in ``web.deps``). The guard finds the principal (a personal
API token on ``/api/`` paths, else the session cookie), checks the CSRF token of a
cookie-authenticated state-changing request, then the permission:

- nobody signed in: ``/api/`` answers 401, a page redirects to ``/login``;
- signed in without the permission: ``/api/`` answers 403, a page shows who to ask.

``create_app`` refuses to start if any route lacks a guard and is not in ``PUBLIC``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount

from aispend.auth.apitokens import resolve_token
from aispend.auth.permissions import Permission
from aispend.auth.principal import Principal
from aispend.auth.sessions import SESSION_COOKIE, resolve_session
from aispend.runtime import Runtime
from aispend.web.csrf import verify_csrf

__all__ = [
    "PUBLIC",
    "ForbiddenError",
    "Guard",
    "NotSignedInError",
    "RouteAccess",
    "client_address",
    "route_access",
    "unguarded_routes",
]

# (path, methods) of every route served without a guard: signing in and out, first-run
# setup (which checks for itself that no user exists and the caller is local), password
# reset by link, the SSO round trip, health, the API's own documentation and static assets.
PUBLIC: frozenset[str] = frozenset(
    {
        "/login",
        "/logout",
        "/setup",
        "/password-reset",
        "/password-reset/{token}",
        "/oidc/login",
        "/oidc/callback",
        "/healthz",
        "/api/docs",
        "/api/openapi.json",
        # Our stylesheet and scripts and Plotly's bundle: no data, needed by the sign-in page too.
        "/static/{name}",
    }
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotSignedInError(Exception):
    """No valid session or token came with the request."""


class ForbiddenError(Exception):
    """The principal's role (or token scope) does not grant the route's permission."""

    def __init__(self, principal: Principal, permission: Permission) -> None:
        super().__init__(f"{principal.role.label} may not {permission.value}")
        self.principal = principal
        self.permission = permission


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def _authenticate(runtime: Runtime, request: Request, bearer: str | None) -> Principal | None:
    address, agent = client_address(request), request.headers.get("user-agent", "")
    cookie = request.cookies.get(SESSION_COOKIE)
    with runtime.db.session() as session:
        if bearer is not None:
            return resolve_token(session, bearer, address=address, user_agent=agent)
        if cookie:
            return resolve_session(session, runtime.settings, cookie, address=address, user_agent=agent)
    return None


class Guard:
    """A FastAPI dependency that admits principals holding ``permission`` and returns them."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(self, request: Request) -> Principal:
        runtime: Runtime = request.app.state.runtime
        # Tokens are for the JSON API; a page only ever trusts the session cookie.
        bearer = _bearer(request) if is_api(request) else None
        principal = await run_in_threadpool(_authenticate, runtime, request, bearer)
        if principal is None:
            raise NotSignedInError
        if principal.via == "session" and request.method not in SAFE_METHODS:
            await verify_csrf(request)
        request.state.principal = principal
        if not principal.can(self.permission):
            raise ForbiddenError(principal, self.permission)
        return principal

    def __repr__(self) -> str:
        return f"Guard({self.permission.value})"


@dataclass(frozen=True)
class RouteAccess:
    """One route as served (router prefixes applied) and the permission its guard checks."""

    path: str
    methods: frozenset[str]
    permission: Permission | None
    mounted: bool = False


def _guard_permission(dependant: Dependant) -> Permission | None:
    pending = list(dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if isinstance(dependency.call, Guard):
            return dependency.call.permission
        pending.extend(dependency.dependencies)
    return None


def route_access(app: FastAPI) -> list[RouteAccess]:
    """Every route the application serves, through included routers, with its permission."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = str(context.path)
        if isinstance(route, APIRoute):
            permission = _guard_permission(context.dependant)
            found.append(RouteAccess(path, frozenset(context.methods or ()), permission))
        else:
            methods = frozenset(getattr(route, "methods", None) or ())
            found.append(RouteAccess(path, methods, None, mounted=isinstance(route, Mount)))
    return found


def unguarded_routes(app: FastAPI) -> list[str]:
    """Paths served without a guard that are not in :data:`PUBLIC` (must be empty).

    A mounted application counts as unguarded unless public: it bypasses every guard.
    """
    return sorted({r.path for r in route_access(app) if r.permission is None and r.path not in PUBLIC})

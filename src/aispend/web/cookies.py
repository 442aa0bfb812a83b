"""The session cookie: HttpOnly, SameSite=Lax, Secure whenever the request came over HTTPS."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from aispend.auth.sessions import SESSION_COOKIE
from aispend.settings import Settings

__all__ = ["clear_session_cookie", "set_session_cookie"]


def _secure(request: Request, settings: Settings) -> bool:
    return request.url.scheme == "https" or (settings.public_url or "").startswith("https://")


def set_session_cookie(request: Request, response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_max_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(request, settings),
    )


def clear_session_cookie(request: Request, response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=_secure(request, settings))

"""CSRF tokens for every state-changing form and cookie-authenticated API call.

The token is an HMAC of the browser's own cookie secret: the session token once signed
in, a random pre-session cookie before. Another site can make the browser send the
cookie but can neither read it nor compute the token, which must come back in the
form field ``csrf_token`` or the header ``X-CSRF-Token``.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from starlette.responses import Response

from aispend.auth.opaque import derive, new_secret
from aispend.auth.sessions import SESSION_COOKIE

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CsrfError",
    "csrf_token",
    "require_csrf",
    "set_csrf_cookie",
    "verify_csrf",
]

CSRF_COOKIE = "aispend_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
PURPOSE = "csrf"


class CsrfError(Exception):
    """A state-changing request came without the token of this browser's forms."""


def _cookie_secret(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(CSRF_COOKIE)


def csrf_token(request: Request) -> str:
    """The token to embed in this browser's forms; creates the pre-session cookie if needed."""
    secret = getattr(request.state, "csrf_secret", None) or _cookie_secret(request)
    if secret is None:
        secret = new_secret()
        request.state.new_csrf_secret = secret
    request.state.csrf_secret = secret
    return derive(secret, PURPOSE)


def set_csrf_cookie(request: Request, response: Response) -> None:
    """Send the pre-session cookie that :func:`csrf_token` created for this response, if any."""
    secret = getattr(request.state, "new_csrf_secret", None)
    if secret:
        response.set_cookie(
            CSRF_COOKIE, secret, httponly=True, samesite="lax", secure=request.url.scheme == "https"
        )


async def verify_csrf(request: Request) -> None:
    """Raise :class:`CsrfError` unless the request carries this browser's CSRF token."""
    secret = _cookie_secret(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not secret or not sent or not hmac.compare_digest(sent, derive(secret, PURPOSE)):
        raise CsrfError("This form has expired or came from another site. Reload the page and try again.")


async def require_csrf(request: Request) -> None:
    """The same check as a dependency, for the public forms (sign-in, setup, reset)."""
    await verify_csrf(request)

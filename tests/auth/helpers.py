"""Small helpers for driving the web app like a browser."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from aispend.auth.opaque import derive
from aispend.auth.sessions import SESSION_COOKIE
from aispend.web.csrf import CSRF_COOKIE

CSRF_IN_PAGE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: TestClient) -> str:
    """The CSRF token the pages would embed for this browser's cookies."""
    secret = client.cookies.get(SESSION_COOKIE) or client.cookies.get(CSRF_COOKIE)
    assert secret, "the browser has neither a session nor a pre-session cookie"
    return derive(secret, "csrf")


def page_csrf(html: str) -> str:
    found = CSRF_IN_PAGE.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def login(client: TestClient, email: str, password: str, **extra: str) -> int:
    """Submit the sign-in form the way a browser does; returns the status code."""
    token = page_csrf(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, **extra}
    )
    return response.status_code

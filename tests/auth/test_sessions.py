"""Password sign-in, sessions, throttling, CSRF, setup and password reset."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from aispend import audit
from aispend.auth.permissions import Role
from aispend.auth.sessions import SESSION_COOKIE
from aispend.auth.users import add_member
from aispend.runtime import Runtime
from aispend.settings import Settings
from aispend.store.schema import LoginAttempt, WebSession
from aispend.web.app import create_app
from tests.auth.helpers import csrf, login, page_csrf
from tests.conftest import sign_in

PASSWORD = "correct horse battery staple"


def add_account(runtime: Runtime, email: str = "ana@example.com", role: Role = Role.admin) -> None:
    with runtime.db.session() as session:
        add_member(session, org_id=runtime.org_id, email=email, role=role, password=PASSWORD)


@pytest.fixture
def strict(settings: Settings) -> Iterator[Runtime]:
    """A runtime that locks after 3 failures per account and 5 per address."""
    runtime = Runtime(
        Settings(**{**settings.model_dump(), "login_max_failures": 3, "login_max_failures_per_address": 5})
    )
    yield runtime
    runtime.close()


def browser(runtime: Runtime, **options: Any) -> TestClient:
    return TestClient(create_app(runtime), follow_redirects=False, **options)


def test_sign_in_issues_an_httponly_lax_cookie(runtime: Runtime) -> None:
    add_account(runtime)
    client = browser(runtime)
    token = page_csrf(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": "ANA@example.com", "password": PASSWORD, "csrf_token": token, "next": "/admin/users"},
    )
    assert (response.status_code, response.headers["location"]) == (303, "/admin/users")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    assert client.get("/api/v1/me").json()["email"] == "ana@example.com"
    with runtime.db.session() as session:
        stored = session.scalars(select(WebSession.token_hash)).one()
    assert client.cookies[SESSION_COOKIE] not in stored  # only its digest is kept


def test_the_cookie_is_secure_over_https(runtime: Runtime) -> None:
    add_account(runtime)
    client = browser(runtime, base_url="https://testserver")
    token = page_csrf(client.get("/login").text)
    response = client.post(
        "/login", data={"email": "ana@example.com", "password": PASSWORD, "csrf_token": token}
    )
    assert "Secure" in response.headers["set-cookie"]


def test_sign_in_never_redirects_off_site(runtime: Runtime) -> None:
    add_account(runtime)
    for target in ("https://evil.example", "//evil.example", "/\\evil.example"):
        client = browser(runtime)
        token = page_csrf(client.get("/login").text)
        response = client.post(
            "/login",
            data={"email": "ana@example.com", "password": PASSWORD, "csrf_token": token, "next": target},
        )
        assert response.headers["location"] == "/"


def test_a_session_token_planted_before_sign_in_is_worthless_after(runtime: Runtime) -> None:
    add_account(runtime, "victim@example.com")
    attacker = browser(runtime)
    sign_in(attacker, runtime, "auditor", email="mallory@example.com")
    planted = attacker.cookies[SESSION_COOKIE]

    victim = browser(runtime)
    victim.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
    assert login(victim, "victim@example.com", PASSWORD) == 303

    assert victim.cookies[SESSION_COOKIE] != planted
    assert victim.get("/api/v1/me").json()["email"] == "victim@example.com"
    assert attacker.get("/api/v1/me").status_code == 401


def test_wrong_password_and_unknown_account_look_the_same(runtime: Runtime) -> None:
    add_account(runtime)
    answers = []
    for email, password in (("ana@example.com", "wrong password!"), ("nobody@example.com", PASSWORD)):
        client = browser(runtime)
        token = page_csrf(client.get("/login").text)
        response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
        assert response.status_code == 401
        assert SESSION_COOKIE not in client.cookies
        answers.append(re.search(r'class="error">([^<]+)<', response.text).group(1))  # type: ignore[union-attr]
    assert answers[0] == answers[1] == "Email or password is wrong."


def test_brute_force_on_one_account_is_throttled(strict: Runtime) -> None:
    add_account(strict)
    client = browser(strict)
    for _ in range(3):
        assert login(client, "ana@example.com", "guess guess guess") == 401
    # Locked: even the right password is refused, without being checked.
    assert login(client, "ana@example.com", PASSWORD) == 429
    assert SESSION_COOKIE not in client.cookies
    with strict.db.session() as session:
        reasons = [
            e.after for e in audit.entries(session, org_id=strict.org_id, action="session.login_failed")
        ]
        assert reasons[0] == {"reason": "locked"}
        # The lock lasts AISPEND_LOGIN_LOCKOUT_MINUTES after the failures.
        session.execute(update(LoginAttempt).values(attempted_at=datetime.now(UTC) - timedelta(minutes=16)))
    assert login(client, "ana@example.com", PASSWORD) == 303


def test_brute_force_from_one_address_is_throttled(strict: Runtime) -> None:
    add_account(strict)
    client = browser(strict)
    for n in range(5):
        assert login(client, f"guess{n}@example.com", "guess guess guess") == 401
    assert login(client, "ana@example.com", PASSWORD) == 429
    elsewhere = TestClient(create_app(strict), follow_redirects=False, client=("10.0.0.9", 4000))
    assert login(elsewhere, "ana@example.com", PASSWORD) == 303


def test_a_success_clears_an_accounts_earlier_failures(strict: Runtime) -> None:
    add_account(strict)
    client = browser(strict)
    for _ in range(2):
        assert login(client, "ana@example.com", "guess guess guess") == 401
    assert login(client, "ana@example.com", PASSWORD) == 303
    assert login(browser(strict), "ana@example.com", "guess guess guess") == 401
    assert login(browser(strict), "ana@example.com", PASSWORD) == 303


@pytest.mark.parametrize("expiry", ["idle", "absolute"])
def test_sessions_expire(runtime: Runtime, expiry: str) -> None:
    client = browser(runtime)
    sign_in(client, runtime, "auditor")
    assert client.get("/api/v1/me").status_code == 200
    with runtime.db.session() as session:
        row = session.scalars(select(WebSession)).one()
        if expiry == "idle":
            row.last_seen_at = datetime.now(UTC) - timedelta(
                minutes=runtime.settings.session_idle_minutes + 1
            )
        else:
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/").headers["location"] == "/login?next=%2F"
    with runtime.db.session() as session:
        assert session.scalars(select(WebSession)).all() == []


def test_sign_out_ends_the_session(runtime: Runtime) -> None:
    client = browser(runtime)
    sign_in(client, runtime, "auditor")
    token = client.cookies[SESSION_COOKIE]
    assert client.post("/logout").status_code == 403  # no CSRF token
    response = client.post("/logout", data={"csrf_token": csrf(client)})
    assert response.headers["location"] == "/login?done=signed-out"
    assert SESSION_COOKIE not in client.cookies
    client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")
    assert client.get("/api/v1/me").status_code == 401


def test_sign_in_needs_the_forms_csrf_token(runtime: Runtime) -> None:
    add_account(runtime)
    client = browser(runtime)
    client.get("/login")
    forged = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD, "csrf_token": "x"})
    assert forged.status_code == 403
    bare = browser(runtime).post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    assert bare.status_code == 403


def test_setup_page_creates_the_first_admin_from_this_machine_only(runtime: Runtime) -> None:
    remote = TestClient(create_app(runtime), follow_redirects=False, client=("203.0.113.5", 4000))
    assert remote.get("/setup").status_code == 404
    local = TestClient(create_app(runtime), follow_redirects=False, client=("127.0.0.1", 4000))
    assert local.get("/setup", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 404

    token = page_csrf(local.get("/setup").text)
    too_short = local.post(
        "/setup", data={"email": "root@example.com", "password": "short", "csrf_token": token}
    )
    assert too_short.status_code == 422
    done = local.post("/setup", data={"email": "root@example.com", "password": PASSWORD, "csrf_token": token})
    assert done.status_code == 303
    assert local.get("/api/v1/me").json()["role"] == "admin"
    # Once anyone exists the page is gone, for good.
    assert local.get("/setup").status_code == 404
    again = local.post(
        "/setup", data={"email": "x@example.com", "password": PASSWORD, "csrf_token": csrf(local)}
    )
    assert again.status_code == 404

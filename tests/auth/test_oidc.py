"""Single sign-on end to end against a real OIDC provider on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from aispend import audit
from aispend.auth.sessions import SESSION_COOKIE
from aispend.providers.simserver import RunningSimulator, serve
from aispend.runtime import Runtime
from aispend.settings import Settings
from aispend.store.schema import Membership, User
from aispend.web.app import create_app
from tests.auth.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider
from tests.conftest import make_user


@pytest.fixture
def provider() -> Iterator[tuple[OidcProvider, RunningSimulator]]:
    idp = OidcProvider()
    server = serve(idp)
    idp.issuer = server.base_url
    yield idp, server
    server.stop()


@pytest.fixture
def sso_runtime(settings: Settings, provider: tuple[OidcProvider, RunningSimulator]) -> Iterator[Runtime]:
    configured = Settings(
        **{
            **settings.model_dump(),
            "oidc_issuer": provider[1].base_url,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
            "oidc_role_claim": "groups",
            "oidc_role_map": {"finance-team": "finance_admin"},
        }
    )
    runtime = Runtime(configured)
    yield runtime
    runtime.close()


def sso_login(runtime: Runtime) -> tuple[TestClient, httpx.Response]:
    """Run the browser's side of the round trip: aispend -> provider -> aispend."""
    browser = TestClient(create_app(runtime), follow_redirects=False)
    start = browser.get("/oidc/login")
    assert start.status_code == 302
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302
    back = urlsplit(at_provider.headers["location"])
    return browser, browser.get(f"{back.path}?{back.query}")


def test_sso_signs_a_new_user_in_with_the_mapped_role(sso_runtime: Runtime) -> None:
    browser, done = sso_login(sso_runtime)

    assert done.status_code == 303
    assert SESSION_COOKIE in browser.cookies
    me = browser.get("/api/v1/me").json()
    assert (me["email"], me["role"]) == ("sso.user@example.com", "finance_admin")
    with sso_runtime.db.session() as session:
        user = session.scalars(select(User).where(User.email == "sso.user@example.com")).one()
        assert (user.oidc_subject, user.password_hash) == ("user-42", None)
        actions = [entry.action for entry in audit.entries(session, org_id=sso_runtime.org_id)]
    assert {"user.created", "user.added", "session.login"} <= set(actions)


def test_sso_keeps_the_role_an_admin_gave_when_no_claim_maps(
    sso_runtime: Runtime, provider: tuple[OidcProvider, RunningSimulator]
) -> None:
    provider[0].claims["groups"] = ["unmapped"]
    make_user(sso_runtime, "auditor", email="sso.user@example.com")

    browser, done = sso_login(sso_runtime)

    assert done.status_code == 303
    assert browser.get("/api/v1/me").json()["role"] == "auditor"
    with sso_runtime.db.session() as session:
        assert session.scalars(select(User.oidc_subject)).all() == ["user-42"]


def test_sso_user_without_a_role_is_a_member_with_no_access(
    sso_runtime: Runtime, provider: tuple[OidcProvider, RunningSimulator]
) -> None:
    provider[0].claims["groups"] = []
    make_user(sso_runtime, "admin", email="boss@example.com")

    browser, _done = sso_login(sso_runtime)

    home = browser.get("/")
    assert home.status_code == 403
    assert "boss@example.com" in home.text
    with sso_runtime.db.session() as session:
        assert session.scalars(
            select(Membership.role).join(User).where(User.oidc_subject == "user-42")
        ).one() == ("member")


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("bad_signature", "BadSignatureError"),
        ("wrong_audience", "&#39;aud&#39;"),
        ("wrong_nonce", "&#39;nonce&#39;"),
    ],
)
def test_a_forged_or_misdirected_id_token_is_refused(
    sso_runtime: Runtime, provider: tuple[OidcProvider, RunningSimulator], mode: str, reason: str
) -> None:
    provider[0].mode = mode  # type: ignore[assignment]

    browser, done = sso_login(sso_runtime)

    assert done.status_code == 401
    assert "The ID token was rejected" in done.text
    assert reason in done.text
    assert SESSION_COOKIE not in browser.cookies
    assert browser.get("/api/v1/me").status_code == 401
    with sso_runtime.db.session() as session:
        assert session.scalars(select(User)).all() == []
        failed = audit.entries(session, org_id=None, action="session.login_failed")
    assert len(failed) == 1
    assert failed[0].target == "sso"


def test_a_callback_from_another_browser_is_refused(
    sso_runtime: Runtime, provider: tuple[OidcProvider, RunningSimulator]
) -> None:
    victim = TestClient(create_app(sso_runtime), follow_redirects=False)
    start = victim.get("/oidc/login")
    attacker_code = urlsplit(httpx.get(start.headers["location"]).headers["location"]).query

    # The attacker's browser never started a sign-in: no flow cookie, no state to match.
    attacker = TestClient(create_app(sso_runtime), follow_redirects=False)
    assert attacker.get(f"/oidc/callback?{attacker_code}").status_code == 401
    # The victim's browser, given a code with the state of another sign-in, refuses it too.
    forged = attacker_code.split("&state=")[0] + "&state=forged"
    assert victim.get(f"/oidc/callback?{forged}").status_code == 401
    assert provider[0].token_requests == 0


def test_sso_is_off_unless_configured(client: TestClient) -> None:
    assert client.get("/oidc/login").status_code == 404
    assert "single sign-on" not in client.get("/login").text

"""Every route x every role: the permission matrix, enforced by one guard on every route.

Adding a route means adding its case below: the first test fails until every guarded
route of the application has one, so no route escapes the matrix.
"""

from __future__ import annotations

import atexit
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aispend.auth.apitokens import issue_token
from aispend.auth.permissions import ROLE_PERMISSIONS, Permission, Role, TokenScope, permissions_of
from aispend.connections import active_connection_names
from aispend.limits import connect_claude_enterprise, set_limit
from aispend.model import UsageRecord
from aispend.providers.anthropic.simdata import SimulatorSettings
from aispend.providers.anthropic.simulator import AnthropicSimulator, RunningSimulator, serve
from aispend.providers.claude_enterprise.simdata import EnterpriseSettings
from aispend.providers.claude_enterprise.simulator import ClaudeEnterpriseSimulator
from aispend.providers.claude_enterprise.simulator import serve as serve_enterprise
from aispend.runtime import Runtime
from aispend.store.facts import replace_usage_day
from aispend.web.app import create_app
from aispend.web.guard import PUBLIC, route_access, unguarded_routes
from tests.auth.helpers import csrf
from tests.conftest import add_connection, api_token, make_user, sign_in


@dataclass
class Call:
    url: str
    form: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None


Builder = Callable[[Runtime, int], Call]


def _own_token(runtime: Runtime, user_id: int) -> Call:
    with runtime.db.session() as session:
        view, _secret = issue_token(
            session, user_id=user_id, org_id=runtime.org_id, name="t", scope=TokenScope.read, days=1
        )
    return Call(f"/settings/tokens/{view.id}/revoke")


def _fresh_member(runtime: Runtime) -> int:
    return make_user(runtime, "auditor")


_SIMULATED: list[tuple[AnthropicSimulator, RunningSimulator]] = []


def _connect(runtime: Runtime, user_id: int) -> Call:
    """A connect form for a served simulator (started once, for the whole session)."""
    if not _SIMULATED:
        simulator = AnthropicSimulator(SimulatorSettings(history_days=3))
        server = serve(simulator)
        atexit.register(server.stop)
        _SIMULATED.append((simulator, server))
    simulator, server = _SIMULATED[0]
    form = {
        "provider": "anthropic",
        "name": f"c-{uuid.uuid4().hex[:6]}",
        "key": simulator.org.settings.admin_key,
        "base_url": server.base_url,
        "min_request_interval": "0",
    }
    return Call("/connections", form)


def _model(runtime: Runtime, user_id: int, prefix: str = "") -> Call:
    """A model with usage yesterday, so its page has something to show."""
    name = f"m-{uuid.uuid4().hex[:6]}"
    connection_id = add_connection(runtime, name)
    day = datetime.now(UTC).date() - timedelta(days=1)
    with runtime.db.session() as session:
        replace_usage_day(
            session,
            org_id=runtime.org_id,
            connection_id=connection_id,
            stream="messages",
            day=day,
            records=[UsageRecord(day=day, stream="messages", model=name, input_tokens=5, output_tokens=1)],
        )
    return Call(f"{prefix}/models/{name}")


def _disconnect(runtime: Runtime, user_id: int) -> Call:
    name = f"d-{uuid.uuid4().hex[:6]}"
    add_connection(runtime, name)
    return Call(f"/connections/{name}/disconnect")


_ENTERPRISE: list[tuple[ClaudeEnterpriseSimulator, RunningSimulator]] = []
LIMITS_SIM = "limits-sim"


def _enterprise(runtime: Runtime) -> ClaudeEnterpriseSimulator:
    """A served Claude Enterprise simulator (started once) connected to ``runtime`` as 'limits-sim'."""
    if not _ENTERPRISE:
        simulator = ClaudeEnterpriseSimulator(EnterpriseSettings(history_days=10, rate_limit=(0, 60.0)))
        server = serve_enterprise(simulator)
        atexit.register(server.stop)
        _ENTERPRISE.append((simulator, server))
    simulator, server = _ENTERPRISE[0]
    if LIMITS_SIM not in active_connection_names(runtime):
        connect_claude_enterprise(
            runtime,
            name=LIMITS_SIM,
            key=simulator.settings.full_key,
            base_url=server.base_url,
            min_request_interval=0,
        )
    return simulator


def _member_email(simulator: ClaudeEnterpriseSimulator, n: int) -> str:
    return [p.email for p in simulator.org.people if not simulator.org.is_deleted(p)][n]


def _limits(runtime: Runtime, url: str) -> Call:
    _enterprise(runtime)
    return Call(url)


def _set_limit(runtime: Runtime, user_id: int) -> Call:
    email = _member_email(_enterprise(runtime), 20)
    return Call(f"/limits/{LIMITS_SIM}/set", {"email": email, "amount": "640"})


def _clear_limit(runtime: Runtime, user_id: int) -> Call:
    email = _member_email(_enterprise(runtime), 21)
    set_limit(runtime, LIMITS_SIM, email, Decimal("320"))
    return Call(f"/limits/{LIMITS_SIM}/clear", {"email": email})


def _answer(runtime: Runtime, n: int, answer: str, form: dict[str, str]) -> Call:
    """A limit-increase request made pending again, and the form that answers it."""
    request = list(_enterprise(runtime).limits.requests.values())[n]
    request.status, request.resolved_at = "pending", None
    return Call(f"/limits/{LIMITS_SIM}/requests/{request.id}/{answer}", form)


def _last_month() -> dict[str, str]:
    end = datetime.now(UTC).date().replace(day=1) - timedelta(days=1)
    return {"since": end.replace(day=1).isoformat(), "until": end.isoformat()}


CASES: dict[tuple[str, str], Builder] = {
    ("GET", "/"): lambda rt, me: Call("/"),
    ("POST", "/account/organisation"): lambda rt, me: Call(
        "/account/organisation", {"org_id": str(rt.org_id)}
    ),
    ("GET", "/settings/tokens"): lambda rt, me: Call("/settings/tokens"),
    ("POST", "/settings/tokens"): lambda rt, me: Call(
        "/settings/tokens", {"name": "n", "scope": "read", "days": "7"}
    ),
    ("POST", "/settings/tokens/{token_id}/revoke"): _own_token,
    ("GET", "/admin/users"): lambda rt, me: Call("/admin/users"),
    ("POST", "/admin/users"): lambda rt, me: Call(
        "/admin/users", {"email": f"new-{uuid.uuid4().hex[:6]}@example.com", "role": "member"}
    ),
    ("POST", "/admin/users/{user_id}/role"): lambda rt, me: Call(
        f"/admin/users/{_fresh_member(rt)}/role", {"role": "finance_admin"}
    ),
    ("POST", "/admin/users/{user_id}/remove"): lambda rt, me: Call(
        f"/admin/users/{_fresh_member(rt)}/remove"
    ),
    ("GET", "/admin/audit"): lambda rt, me: Call("/admin/audit"),
    ("GET", "/explore"): lambda rt, me: Call("/explore?by=provider"),
    ("GET", "/explore.csv"): lambda rt, me: Call("/explore.csv?by=day"),
    ("GET", "/sync"): lambda rt, me: Call("/sync"),
    ("GET", "/reconcile"): lambda rt, me: Call("/reconcile"),
    ("GET", "/connections"): lambda rt, me: Call("/connections"),
    ("POST", "/connections"): _connect,
    ("POST", "/connections/{name}/disconnect"): _disconnect,
    ("GET", "/api/v1/overview"): lambda rt, me: Call("/api/v1/overview"),
    ("GET", "/api/v1/connections"): lambda rt, me: Call("/api/v1/connections"),
    ("GET", "/api/v1/sync-runs"): lambda rt, me: Call("/api/v1/sync-runs"),
    ("GET", "/models/{model:path}"): _model,
    ("GET", "/api/v1/models/{model:path}"): lambda rt, me: _model(rt, me, "/api/v1"),
    ("GET", "/api/v1/me"): lambda rt, me: Call("/api/v1/me"),
    ("GET", "/api/v1/spend"): lambda rt, me: Call("/api/v1/spend"),
    ("GET", "/api/v1/reconcile"): lambda rt, me: Call("/api/v1/reconcile"),
    ("GET", "/api/v1/audit"): lambda rt, me: Call("/api/v1/audit"),
    ("GET", "/api/v1/users"): lambda rt, me: Call("/api/v1/users"),
    ("PUT", "/api/v1/users/{user_id}/role"): lambda rt, me: Call(
        f"/api/v1/users/{_fresh_member(rt)}/role", json={"role": "it_admin"}
    ),
    ("GET", "/rates"): lambda rt, me: Call("/rates"),
    ("POST", "/rates/cards"): lambda rt, me: Call(
        "/rates/cards",
        {"name": f"card-{uuid.uuid4().hex[:6]}", "effective_from": _last_month()["since"], "discount": "10"},
    ),
    ("POST", "/rates/credits"): lambda rt, me: Call(
        "/rates/credits",
        {
            "name": f"credit-{uuid.uuid4().hex[:6]}",
            "amount": "100",
            "valid_from": _last_month()["since"],
            "valid_until": _last_month()["until"],
        },
    ),
    ("POST", "/rates/rerate"): lambda rt, me: Call("/rates/rerate", _last_month()),
    ("GET", "/api/v1/rates"): lambda rt, me: Call("/api/v1/rates"),
    ("GET", "/limits"): lambda rt, me: _limits(rt, "/limits"),
    ("GET", "/api/v1/limits"): lambda rt, me: _limits(rt, "/api/v1/limits"),
    ("POST", "/limits/{connection}/set"): _set_limit,
    ("POST", "/limits/{connection}/clear"): _clear_limit,
    ("POST", "/limits/{connection}/requests/{request_id}/approve"): lambda rt, me: _answer(
        rt, 0, "approve", {"amount": "900"}
    ),
    ("POST", "/limits/{connection}/requests/{request_id}/deny"): lambda rt, me: _answer(rt, 1, "deny", {}),
}


def guarded_routes(runtime: Runtime) -> dict[tuple[str, str], Permission]:
    return {
        (method, route.path): route.permission
        for route in route_access(create_app(runtime))
        if route.permission is not None
        for method in route.methods
    }


def test_every_route_is_guarded_or_explicitly_public(runtime: Runtime) -> None:
    app = create_app(runtime)
    routes = route_access(app)
    assert len(routes) > 20  # the walk sees through included routers
    assert unguarded_routes(app) == []
    served = {route.path for route in routes}
    assert served >= PUBLIC, f"stale public entries: {PUBLIC - served}"
    for route in routes:
        assert route.permission is None or route.path not in PUBLIC, (
            f"{route.path}: public or guarded, not both"
        )


def test_an_unguarded_route_stops_the_application(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    from aispend.web import api

    monkeypatch.setattr(api.router, "routes", [*api.router.routes])
    api.router.add_api_route("/api/v1/leak", lambda: {"secret": "spend"})
    with pytest.raises(RuntimeError, match="/api/v1/leak"):
        create_app(runtime)


def test_the_matrix_has_a_case_for_every_guarded_route(runtime: Runtime) -> None:
    assert set(guarded_routes(runtime)) == set(CASES)


def send(client: TestClient, method: str, call: Call, *, with_csrf: bool = True) -> Any:
    headers = {}
    form = dict(call.form)
    if method != "GET" and with_csrf and client.cookies:
        form["csrf_token"] = csrf(client)
        headers["X-CSRF-Token"] = form["csrf_token"]
    if call.json is not None:
        return client.request(method, call.url, json=call.json, headers=headers)
    return client.request(method, call.url, data=form or None, headers=headers)


def assert_allowed(response: Any) -> None:
    assert response.status_code in (200, 201, 303), response.text[:300]
    if response.status_code == 303:
        assert not response.headers["location"].startswith("/login")


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_its_routes(runtime: Runtime, role: Role) -> None:
    client = TestClient(create_app(runtime), follow_redirects=False)
    me = sign_in(client, runtime, role.value)
    make_user(runtime, "admin")  # someone to ask, and never the last Admin
    for (method, _path), permission in guarded_routes(runtime).items():
        response = send(client, method, CASES[(method, _path)](runtime, me))
        if permission in ROLE_PERMISSIONS[role]:
            assert_allowed(response)
        else:
            assert response.status_code == 403, (method, _path, response.status_code)


def test_anonymous_requests_get_401_or_the_sign_in_page(runtime: Runtime) -> None:
    client = TestClient(create_app(runtime), follow_redirects=False)
    me = make_user(runtime, "admin")
    for method, path in guarded_routes(runtime):
        response = send(client, method, CASES[(method, path)](runtime, me))
        if path.startswith("/api/"):
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"] == "Bearer"
        else:
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("scope", list(TokenScope))
@pytest.mark.parametrize("role", list(Role))
def test_api_tokens_get_their_role_bounded_by_their_scope(
    runtime: Runtime, role: Role, scope: TokenScope
) -> None:
    token = api_token(runtime, role.value, scope=scope.value)
    client = TestClient(
        create_app(runtime), follow_redirects=False, headers={"Authorization": f"Bearer {token}"}
    )
    someone = make_user(runtime, "admin")
    for (method, path), permission in guarded_routes(runtime).items():
        response = send(client, method, CASES[(method, path)](runtime, someone))
        if not path.startswith("/api/"):
            # Tokens are for the JSON API only: a page treats the request as anonymous.
            assert response.status_code == 303, path
        elif permission in permissions_of(role, scope):
            assert response.status_code == 200, (path, response.text)
        else:
            assert response.status_code == 403, path


def test_a_page_a_member_may_not_see_says_whom_to_ask(runtime: Runtime) -> None:
    client = TestClient(create_app(runtime))
    sign_in(client, runtime, "member", email="mia@example.com")
    make_user(runtime, "admin", email="ada@example.com")
    make_user(runtime, "auditor", email="otto@example.com")
    page = client.get("/")
    assert page.status_code == 403
    assert "You are a Member" in page.text
    assert "ada@example.com" in page.text
    assert "otto@example.com" not in page.text


def test_unsafe_requests_without_the_csrf_token_are_refused(runtime: Runtime) -> None:
    client = TestClient(create_app(runtime), follow_redirects=False)
    me = sign_in(client, runtime, "admin")
    make_user(runtime, "admin")
    for method, path in guarded_routes(runtime):
        if method == "GET":
            continue
        response = send(client, method, CASES[(method, path)](runtime, me), with_csrf=False)
        assert response.status_code == 403, path
        forged = CASES[(method, path)](runtime, me)
        forged.form["csrf_token"] = "forged"
        response = client.request(
            method, forged.url, data=forged.form, json=forged.json, headers={"X-CSRF-Token": "x"}
        )
        assert response.status_code == 403, path

"""Personal API tokens: shown once, stored hashed, expiring, revocable, bounded by the owner's role."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from aispend.auth.apitokens import issue_token
from aispend.auth.permissions import Role, TokenScope
from aispend.auth.users import remove_member, set_role
from aispend.runtime import Runtime
from aispend.store.schema import ApiToken
from aispend.web.app import create_app
from tests.auth.helpers import csrf
from tests.conftest import api_token, make_user, sign_in


def bearer(runtime: Runtime, token: str) -> TestClient:
    return TestClient(create_app(runtime), headers={"Authorization": f"Bearer {token}"})


def test_a_token_is_shown_once_and_stored_only_as_a_digest(runtime: Runtime) -> None:
    client = TestClient(create_app(runtime))
    sign_in(client, runtime, "auditor", email="aud@example.com")
    created = client.post(
        "/settings/tokens", data={"name": "sheet", "scope": "read", "days": "30", "csrf_token": csrf(client)}
    )
    assert created.status_code == 201
    secret = re.search(r'class="secret">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    assert secret.startswith("aispend_")

    listing = client.get("/settings/tokens").text
    assert secret not in listing
    assert secret[:12] in listing  # its recognisable prefix only
    with runtime.db.session() as session:
        token = session.scalars(select(ApiToken)).one()
        assert secret not in (token.token_hash, token.prefix)
        assert token.last_used_at is None

    assert bearer(runtime, secret).get("/api/v1/me").json()["email"] == "aud@example.com"
    with runtime.db.session() as session:
        assert session.scalars(select(ApiToken.last_used_at)).one() is not None


def test_revoked_expired_and_unknown_tokens_are_refused(runtime: Runtime) -> None:
    revoked, expired = api_token(runtime, "admin"), api_token(runtime, "admin")
    client = TestClient(create_app(runtime), follow_redirects=False)
    sign_in(client, runtime, "admin")
    with runtime.db.session() as session:
        tokens = session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
        tokens[1].expires_at = datetime.now(UTC) - timedelta(seconds=1)
        revoked_id = tokens[0].id
    # An Admin may revoke anyone's token in the organisation.
    response = client.post(f"/settings/tokens/{revoked_id}/revoke", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    for token in (revoked, expired, "aispend_not-a-token", ""):
        response = bearer(runtime, token).get("/api/v1/me")
        assert response.status_code == 401, token


def test_only_the_owner_or_an_admin_may_revoke(runtime: Runtime) -> None:
    someone_elses = api_token(runtime, "auditor")
    with runtime.db.session() as session:
        token_id = session.scalars(select(ApiToken.id)).one()
    client = TestClient(create_app(runtime))
    sign_in(client, runtime, "finance_admin")
    assert (
        client.post(f"/settings/tokens/{token_id}/revoke", data={"csrf_token": csrf(client)}).status_code
        == 404
    )
    assert bearer(runtime, someone_elses).get("/api/v1/me").status_code == 200


def test_a_tokens_power_follows_its_owners_role(runtime: Runtime) -> None:
    make_user(runtime, "admin", email="boss@example.com")
    user_id = make_user(runtime, "it_admin", email="it@example.com")
    with runtime.db.session() as session:
        _view, secret = issue_token(
            session, user_id=user_id, org_id=runtime.org_id, name="t", scope=TokenScope.full, days=1
        )
    client = bearer(runtime, secret)
    assert client.get("/api/v1/spend").status_code == 200
    with runtime.db.session() as session:
        set_role(session, org_id=runtime.org_id, email="it@example.com", role=Role.member)
    assert client.get("/api/v1/spend").status_code == 403
    with runtime.db.session() as session:
        remove_member(session, org_id=runtime.org_id, email="it@example.com")
    assert client.get("/api/v1/me").status_code == 401


def test_tokens_need_a_name_and_a_bounded_expiry(runtime: Runtime) -> None:
    client = TestClient(create_app(runtime))
    sign_in(client, runtime, "auditor")
    for form in ({"name": " ", "days": "5"}, {"name": "x", "days": "0"}, {"name": "x", "days": "400"}):
        response = client.post("/settings/tokens", data={**form, "scope": "read", "csrf_token": csrf(client)})
        assert response.status_code == 422, form
    with runtime.db.session() as session:
        assert session.scalars(select(ApiToken)).all() == []

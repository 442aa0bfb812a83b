"""Two organisations with data: nothing one can request returns anything of the other.

Each request of organisation B's Admin names organisation A's ids (users, tokens,
connections, organisation), through pages, the JSON API and API tokens; and the ORM
mechanism behind it is tested directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import aliased

from aispend import audit
from aispend.auth.tenancy import CrossOrganisationWriteError, org_session
from aispend.connections import connect_provider
from aispend.providers.anthropic.simulator import AnthropicSimulator, RunningSimulator
from aispend.runtime import Runtime
from aispend.store.schema import ApiToken, AuditEntry, Connection, Membership, Organisation, UsageFact
from aispend.sync.runner import sync_connection
from aispend.web.app import create_app
from tests.auth.helpers import csrf
from tests.conftest import api_token, make_user, sign_in

YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)
SINCE = YESTERDAY - timedelta(days=4)


@dataclass
class Org:
    id: int
    runtime: Runtime
    connection: str
    admin_email: str
    member_id: int
    token: str
    token_id: int


def _org(
    runtime: Runtime, org_id: int, tag: str, simulator: AnthropicSimulator, served: RunningSimulator
) -> Org:
    # A Runtime acting for ``org_id``: connections and syncs land in that organisation.
    acting = Runtime(runtime.settings)
    acting.org_id = org_id
    connect_provider(
        acting,
        provider="anthropic",
        name=f"conn-{tag}",
        key=simulator.org.settings.admin_key,
        base_url=served.base_url,
        min_request_interval=0,
    )
    sync_connection(acting, f"conn-{tag}", since=SINCE)
    make_user(acting, "admin", email=f"admin-{tag}@example.com", org_id=org_id)
    member = make_user(acting, "auditor", email=f"member-{tag}@example.com", org_id=org_id)
    token = api_token(acting, "admin", scope="full", org_id=org_id)
    with acting.db.session() as session:
        token_id = session.scalars(select(ApiToken.id).where(ApiToken.org_id == org_id)).one()
    return Org(org_id, acting, f"conn-{tag}", f"admin-{tag}@example.com", member, token, token_id)


@pytest.fixture
def orgs(
    runtime: Runtime, simulator: AnthropicSimulator, served: RunningSimulator
) -> Iterator[tuple[Org, Org]]:
    default = runtime.org_id  # the first organisation, created on first use
    with runtime.db.session() as session:
        other = Organisation(name="Other Ltd")
        session.add(other)
        session.flush()
        other_id = other.id
    a = _org(runtime, default, "a", simulator, served)
    b = _org(runtime, other_id, "b", simulator, served)
    yield a, b
    a.runtime.close()
    b.runtime.close()


def browser_of(org: Org) -> TestClient:
    client = TestClient(create_app(org.runtime), follow_redirects=False)
    sign_in(client, org.runtime, "admin", email=org.admin_email, org_id=org.id)
    return client


def test_organisation_b_sees_only_its_own_spend(orgs: tuple[Org, Org], simulator: AnthropicSimulator) -> None:
    a, b = orgs
    truth = simulator.org.total_cost_usd(SINCE, YESTERDAY)
    for client in (
        browser_of(b),
        TestClient(create_app(b.runtime), headers={"Authorization": f"Bearer {b.token}"}),
    ):
        body = client.get("/api/v1/spend", params={"since": SINCE.isoformat(), "by": "day"}).json()
        # Both organisations imported the same provider account: any leak would double it.
        assert Decimal(body["total"]["cost_usd"]) == truth
        assert client.get("/api/v1/spend", params={"connection": a.connection}).status_code == 404
        assert client.get("/api/v1/spend", params={"connection": b.connection}).status_code == 200
        assert client.get("/api/v1/me").json()["org_id"] == b.id


def test_organisation_b_cannot_reach_a_by_guessing_ids(orgs: tuple[Org, Org]) -> None:
    a, b = orgs
    client = browser_of(b)
    token = csrf(client)

    assert (
        client.put(
            f"/api/v1/users/{a.member_id}/role", json={"role": "admin"}, headers={"X-CSRF-Token": token}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/admin/users/{a.member_id}/role", data={"role": "admin", "csrf_token": token}
        ).status_code
        == 404
    )
    assert client.post(f"/admin/users/{a.member_id}/remove", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/settings/tokens/{a.token_id}/revoke", data={"csrf_token": token}).status_code == 404
    assert (
        client.post("/account/organisation", data={"org_id": str(a.id), "csrf_token": token}).status_code
        == 404
    )

    with a.runtime.db.session() as session:
        assert session.get_one(Membership, (a.member_id, a.id)).role == "auditor"
        assert session.get_one(ApiToken, a.token_id).revoked_at is None
    a_client = TestClient(create_app(a.runtime), headers={"Authorization": f"Bearer {a.token}"})
    assert a_client.get("/api/v1/me").json()["org_id"] == a.id


def test_organisation_b_lists_nothing_of_a(orgs: tuple[Org, Org]) -> None:
    a, b = orgs
    client = browser_of(b)
    api = TestClient(create_app(b.runtime), headers={"Authorization": f"Bearer {b.token}"})
    for response in (
        client.get("/api/v1/users"),
        client.get("/api/v1/audit", params={"limit": 1000}),
        client.get("/admin/users"),
        client.get("/admin/audit"),
        client.get("/settings/tokens"),
        client.get("/"),
        api.get("/api/v1/audit", params={"limit": 1000}),
        api.get("/api/v1/users"),
    ):
        assert response.status_code == 200
        for marker in (a.admin_email, "member-a@", a.connection):
            assert marker not in response.text, (response.url, marker)
    entries = client.get("/api/v1/audit", params={"limit": 1000}).json()
    assert entries
    assert {entry["org_id"] for entry in entries} == {b.id}
    assert f"api_token:{a.token_id}" not in {entry["target"] for entry in entries}


def test_an_organisations_session_reads_and_writes_only_its_rows(orgs: tuple[Org, Org]) -> None:
    a, b = orgs
    db = b.runtime.db
    with db.session() as session:
        a_connection = session.scalars(select(Connection).where(Connection.org_id == a.id)).one()
        total_facts = session.scalar(select(func.count()).select_from(UsageFact))

    with org_session(db, b.id) as session:
        # No filter anywhere below: the session adds it.
        assert set(session.scalars(select(UsageFact.org_id))) == {b.id}
        assert session.scalar(select(func.count()).select_from(UsageFact)) < total_facts
        assert session.get(Connection, a_connection.id) is None
        assert [c.name for c in session.scalars(select(Connection))] == [b.connection]
        other = aliased(Connection)
        assert set(session.scalars(select(other.org_id))) == {b.id}
        assert set(session.scalars(select(AuditEntry.org_id))) == {b.id}
        session.execute(update(Connection).values(last_error="touched"))
        session.execute(delete(ApiToken))

    # The same statements in another organisation's session get that organisation's filter.
    with org_session(db, a.id) as session:
        assert set(session.scalars(select(UsageFact.org_id))) == {a.id}
        assert session.get(Connection, a_connection.id) is not None

    with db.session() as session:
        assert session.get_one(Connection, a_connection.id).last_error is None
        assert session.get_one(ApiToken, a.token_id) is not None

    with pytest.raises(CrossOrganisationWriteError), org_session(db, b.id) as session:
        session.add(Membership(user_id=b.member_id, org_id=a.id, role="admin"))
    with pytest.raises(CrossOrganisationWriteError), org_session(db, b.id) as session:
        audit.record(session, org_id=a.id, action="test.forged")

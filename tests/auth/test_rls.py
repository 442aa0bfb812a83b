"""PostgreSQL row-level security: the second wall behind the ORM's organisation filter.

The tests connect as the ``postgres`` superuser, which bypasses row-level security, so
these checks run as a separate non-superuser role, as a deployment's application would.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from aispend.auth.tenancy import ORG_KEY
from aispend.runtime import Runtime
from aispend.store.schema import Organisation
from tests.conftest import POSTGRES_URL, add_connection

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL row-level security")
PROBE = "aispend_rls_probe"


def org_tables(runtime: Runtime) -> list[str]:
    with runtime.db.engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT table_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND column_name = 'org_id' ORDER BY table_name"
                )
            ).scalars()
        )


def test_every_table_with_an_org_id_has_a_forced_policy(runtime: Runtime) -> None:
    tables = org_tables(runtime)
    assert {"connections", "usage_facts", "cost_facts", "audit_log", "api_tokens"} <= set(tables)
    with runtime.db.engine.connect() as conn:
        for table in tables:
            enabled, forced = conn.execute(
                text("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = :t"),
                {"t": table},
            ).one()
            policies = conn.execute(
                text("SELECT policyname FROM pg_policies WHERE tablename = :t"), {"t": table}
            )
            assert (enabled, forced) == (True, True), table
            assert "org_isolation" in policies.scalars().all(), table


@pytest.fixture
def two_orgs(runtime: Runtime) -> tuple[int, int]:
    """Organisations A and B, each with a connection, a usage fact and an audit entry."""
    a = runtime.org_id
    with runtime.db.session() as session:
        other = Organisation(name="B")
        session.add(other)
        session.flush()
        b = other.id
    for org in (a, b):
        connection = add_connection(runtime, f"conn-{org}")
        with runtime.db.engine.begin() as conn:
            conn.execute(
                text("UPDATE connections SET org_id = :o WHERE id = :c"), {"o": org, "c": connection}
            )
            conn.execute(
                text("INSERT INTO usage_facts (org_id, connection_id, day) VALUES (:o, :c, :d)"),
                {"o": org, "c": connection, "d": date(2026, 1, 1)},
            )
            conn.execute(
                text("INSERT INTO audit_log (org_id, at, action) VALUES (:o, now(), 'test.seeded')"),
                {"o": org},
            )
    return a, b


@pytest.fixture
def probe_url(runtime: Runtime) -> str:
    """A login role that is no superuser, with ordinary rights on every table."""
    with runtime.db.engine.begin() as conn:
        # Roles are cluster-wide and test workers run side by side: create it under a lock.
        conn.execute(text("SELECT pg_advisory_xact_lock(70410)"))
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": PROBE}).scalar()
        if not exists:
            conn.execute(text(f"CREATE ROLE {PROBE} LOGIN NOSUPERUSER NOBYPASSRLS"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {PROBE}"))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {PROBE}"))
        conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {PROBE}"))
    return (
        make_url(runtime.settings.resolved_database_url)
        .set(username=PROBE)
        .render_as_string(hide_password=False)
    )


def test_raw_sql_without_the_organisation_filter_sees_only_its_organisation(
    runtime: Runtime, two_orgs: tuple[int, int], probe_url: str
) -> None:
    a, b = two_orgs
    engine = create_engine(probe_url)
    try:
        for org in (a, b):
            with engine.begin() as conn:
                conn.execute(text("SELECT set_config('app.org_id', :o, true)"), {"o": str(org)})
                for table in org_tables(runtime):
                    seen = set(conn.execute(text(f"SELECT DISTINCT org_id FROM {table}")).scalars())  # noqa: S608
                    assert seen <= {org}, table
                assert conn.execute(text("SELECT count(*) FROM usage_facts")).scalar() == 1
                assert conn.execute(text("UPDATE connections SET last_error = 'x'")).rowcount == 1
        with engine.connect() as conn:
            conn.execute(text("SELECT set_config('app.org_id', :o, true)"), {"o": str(b)})
            forged = text("INSERT INTO audit_log (org_id, at, action) VALUES (:a, now(), 'x.forged')")
            with pytest.raises(DBAPIError, match="row-level security"):
                conn.execute(forged, {"a": a})
    finally:
        engine.dispose()


def test_an_organisation_session_sets_the_wall_for_raw_sql_too(
    runtime: Runtime, two_orgs: tuple[int, int], probe_url: str
) -> None:
    a, b = two_orgs
    engine = create_engine(probe_url)
    try:
        for org in (a, b, a):  # the same pooled connection, one organisation per transaction
            with Session(engine) as session:
                session.info[ORG_KEY] = org
                names = session.execute(text("SELECT name FROM connections")).scalars().all()
                assert names == [f"conn-{org}"]
    finally:
        engine.dispose()

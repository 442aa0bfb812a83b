"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from aispend.runtime import Runtime
from aispend.store.db import MIGRATIONS, Database, create_db_engine, migrate
from aispend.store.schema import Base, CostFact


def test_migrations_match_the_models(runtime: Runtime) -> None:
    with runtime.db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def _heads() -> set[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return set(ScriptDirectory.from_config(config).get_heads())


def test_migrating_twice_changes_nothing(runtime: Runtime) -> None:
    migrate(runtime.db.engine)
    with runtime.db.engine.connect() as conn:
        assert set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) == _heads()


def test_cost_rows_of_the_first_schema_survive_the_upgrade(database_url: str) -> None:
    engine = create_db_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(text("INSERT INTO organisations (id, name, created_at) VALUES (1, 'o', '2026-01-01')"))
        conn.execute(
            text(
                "INSERT INTO connections (id, org_id, name, provider, provider_account_id,"
                " provider_account_name, status, options, key_fingerprint, created_at)"
                " VALUES (1, 1, 'c', 'anthropic', 'a', '', 'active', '{}', '', '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO cost_facts (org_id, connection_id, day, workspace_id, description, cost_type,"
                " model, token_type, service_tier, context_window, inference_geo, currency, amount_usd)"
                " VALUES (1, 1, '2026-01-02', '', 'd', 'tokens', 'm', 'input', '', '', '', 'USD', :amount)"
            ),
            {"amount": 1234567 if engine.dialect.name == "sqlite" else Decimal("0.001234567")},
        )
    migrate(engine)
    with Database(database_url).session() as session:
        fact = session.scalars(select(CostFact)).one()
        assert (fact.stream, fact.amount, fact.amount_usd) == (
            "cost",
            Decimal("0.001234567"),
            Decimal("0.001234567"),
        )
        assert fact.method == "reported"
    engine.dispose()


def test_sqlite_runs_with_wal_foreign_keys_and_secure_delete(runtime: Runtime) -> None:
    if runtime.db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with runtime.db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1

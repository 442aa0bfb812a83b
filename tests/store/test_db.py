"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from aispend.runtime import Runtime
from aispend.store.db import migrate
from aispend.store.schema import Base


def test_migrations_match_the_models(runtime: Runtime) -> None:
    with runtime.db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_migrating_twice_changes_nothing(runtime: Runtime) -> None:
    migrate(runtime.db.engine)
    with runtime.db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"


def test_sqlite_runs_with_wal_foreign_keys_and_secure_delete(runtime: Runtime) -> None:
    if runtime.db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with runtime.db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1

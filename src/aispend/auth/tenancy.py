"""Tenancy: one mechanism scopes every query of an organisation's session to that organisation.

A session that carries an organisation (:func:`org_session`) gets, on every ORM SELECT,
UPDATE and DELETE, the criterion ``org_id = <its organisation>`` on every mapped class
that has an ``org_id`` column, aliases included; and its flushes refuse any row of
another organisation. Routes therefore never filter by organisation by hand (the
queries that already do keep doing so: belt and braces).

On PostgreSQL the same session also sets ``app.org_id`` for its transaction, which the
row-level security policies of migration 0003 compare with every row's ``org_id``: a
query that bypasses the ORM (raw SQL) still sees only its organisation's rows.

Sessions without an organisation (background syncs, the CLI, the sign-in machinery that
looks a token up before knowing its organisation) are unrestricted.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction, with_loader_criteria

from aispend.store.db import Database
from aispend.store.schema import Base

__all__ = ["ORG_KEY", "CrossOrganisationWriteError", "org_scoped_classes", "org_session"]

ORG_KEY = "aispend_org_id"


class CrossOrganisationWriteError(Exception):
    """A session scoped to one organisation tried to write another's row."""


def org_scoped_classes() -> tuple[type[Any], ...]:
    """Every mapped class with an ``org_id`` column; read on each use, so later tables are covered."""
    return tuple(mapper.class_ for mapper in Base.registry.mappers if "org_id" in mapper.columns)


@contextmanager
def org_session(db: Database, org_id: int) -> Iterator[Session]:
    """A session (committed at the end of the block) that sees and writes only ``org_id``'s rows."""
    with db.session() as session:
        session.info[ORG_KEY] = org_id
        yield session


def _org_of(session: Session) -> int | None:
    org_id = session.info.get(ORG_KEY)
    return org_id if isinstance(org_id, int) else None


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    org_id = _org_of(state.session)
    if org_id is None or not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # loads of an already-scoped row
    state.statement = state.statement.options(*_criteria(org_id, org_scoped_classes()))


@functools.lru_cache(maxsize=256)
def _criteria(org_id: int, classes: tuple[type[Any], ...]) -> tuple[Any, ...]:
    """The organisation's criterion for each class, built once per organisation and class set.

    Reused options keep the statement cache warm: building them anew for every statement
    cost more than the queries of a small page. A new mapped class changes ``classes``.
    """
    return tuple(
        with_loader_criteria(cls, lambda cls: cls.org_id == org_id, include_aliases=True) for cls in classes
    )


@event.listens_for(Session, "before_flush")
def _refuse_other_organisations(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    org_id = _org_of(session)
    if org_id is None:
        return
    scoped = org_scoped_classes()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, scoped) and instance.org_id not in (org_id, None):
            raise CrossOrganisationWriteError(
                f"a session of organisation {org_id} cannot write a row of organisation {instance.org_id}"
            )


@event.listens_for(Session, "after_begin")
def _set_row_level_security(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    org_id = _org_of(session)
    if org_id is not None and connection.dialect.name == "postgresql":
        # is_local=true: the setting ends with the transaction, so a pooled connection never
        # carries one request's organisation into the next.
        connection.execute(text("SELECT set_config('app.org_id', :org, true)"), {"org": str(org_id)})

"""The daily schedule enqueues every active connection; one sync per connection at a time."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from aispend.runtime import Runtime
from aispend.store.schema import SyncRun
from aispend.sync.jobs import build_queue
from aispend.sync.locks import ConnectionBusyError, connection_lock
from aispend.sync.runner import sync_connection


def test_schedule_fires_at_the_configured_utc_time(runtime: Runtime) -> None:
    queue = build_queue(runtime)
    when = runtime.settings.schedule_time
    due = queue.huey.read_periodic(datetime(2026, 11, 26, when.hour, when.minute))  # noqa: DTZ001
    assert [task.name for task in due] == ["enqueue_due_syncs"]
    assert queue.huey.read_periodic(datetime(2026, 11, 26, (when.hour + 1) % 24, when.minute)) == []  # noqa: DTZ001


def test_enqueue_due_syncs_every_active_connection(runtime: Runtime, connected: str) -> None:
    queue = build_queue(runtime)
    queue.huey.immediate = True  # run tasks in this process, as soon as they are enqueued
    queue.enqueue_due()
    with runtime.db.session() as session:
        runs = session.scalars(select(SyncRun)).all()
    assert [run.status for run in runs] == ["succeeded"]
    assert runs[0].requests_made > 0
    assert runs[0].rows_written > 0


def test_one_sync_per_connection_at_a_time(runtime: Runtime, connected: str) -> None:
    queue = build_queue(runtime)
    queue.huey.immediate = True
    with runtime.db.session() as session:
        from aispend.store.schema import Connection

        connection_id = session.scalars(select(Connection.id)).one()
    with connection_lock(runtime.db, connection_id, runtime.settings.home / "locks"):
        with pytest.raises(ConnectionBusyError):
            sync_connection(runtime, connected)
        assert queue.sync(connected)() is None  # the queued job skips instead of waiting
    with runtime.db.session() as session:
        assert session.scalars(select(SyncRun)).all() == []

"""Background jobs on Huey: a daily schedule that enqueues every active connection's sync.

Huey keeps its queue in SQLite in ``AISPEND_HOME`` by default. The per-connection lock
lives in the sync engine (``sync.locks``), so a scheduled sync and a manual
``aispend sync`` never run the same connection at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from huey import Huey, SqliteHuey, crontab
from huey.api import TaskWrapper
from huey.consumer import Consumer

from aispend.connections import active_connection_names
from aispend.runtime import Runtime
from aispend.sync.locks import ConnectionBusyError
from aispend.sync.runner import SyncFailedError, sync_connection

__all__ = ["JobQueue", "build_queue"]

log = logging.getLogger(__name__)


@dataclass
class JobQueue:
    huey: Huey
    sync: TaskWrapper
    enqueue_due: TaskWrapper

    def consumer(self, workers: int = 2) -> Consumer:
        return self.huey.create_consumer(workers=workers, periodic=True, worker_type="thread")


def build_queue(runtime: Runtime) -> JobQueue:
    """The queue, its tasks and the daily schedule at ``AISPEND_SCHEDULE_TIME`` (UTC)."""
    huey = SqliteHuey("aispend", filename=str(runtime.settings.jobs_path), utc=True)
    when = runtime.settings.schedule_time

    @huey.task(name="sync_connection", retries=0)
    def sync(name: str) -> dict[str, int] | None:
        try:
            result = sync_connection(runtime, name)
        except ConnectionBusyError:
            log.info("%s is already syncing; skipped", name)
            return None
        except SyncFailedError as error:
            # Already recorded on the connection with its next step; nothing to retry blindly.
            log.error("sync of %s failed: %s", name, error)
            return None
        return {"requests": result.requests, "rows": result.rows}

    @huey.periodic_task(crontab(minute=str(when.minute), hour=str(when.hour)), name="enqueue_due_syncs")
    def enqueue_due() -> None:
        for name in active_connection_names(runtime):
            sync(name)

    return JobQueue(huey, sync, enqueue_due)

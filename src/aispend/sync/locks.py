"""One sync per connection at a time, across every process, released if the holder dies.

SQLite deployments run on one machine, so an exclusive ``flock`` on a file next to the
database serves; PostgreSQL deployments use a session advisory lock. Both vanish with
the process that holds them, so a killed sync never leaves a connection locked.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from aispend.store.db import Database

__all__ = ["ConnectionBusyError", "connection_lock"]

ADVISORY_NAMESPACE = 0x41495350  # "AISP": keeps our advisory locks apart from others'


class ConnectionBusyError(Exception):
    """Another process is syncing this connection right now."""


@contextmanager
def connection_lock(db: Database, connection_id: int, lock_dir: Path) -> Iterator[None]:
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            taken = conn.execute(
                text("SELECT pg_try_advisory_lock(:ns, :id)"), {"ns": ADVISORY_NAMESPACE, "id": connection_id}
            ).scalar()
            if not taken:
                raise ConnectionBusyError(f"connection {connection_id} is already being synced")
            try:
                yield
            finally:
                conn.execute(
                    text("SELECT pg_advisory_unlock(:ns, :id)"),
                    {"ns": ADVISORY_NAMESPACE, "id": connection_id},
                )
                conn.commit()
        return
    lock_dir.mkdir(parents=True, exist_ok=True)
    with (lock_dir / f"connection-{connection_id}.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConnectionBusyError(f"connection {connection_id} is already being synced") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

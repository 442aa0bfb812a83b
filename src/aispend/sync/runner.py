"""Runs one connection's sync: plan, fetch page by page, commit each page with its checkpoint.

Each page's facts, the recomputed cost split of its days, the run's counters and the
stream's checkpoint are committed in one transaction. A process killed at any moment
therefore leaves either the whole page or none of it, and the next run resumes at the
checkpoint: no gap, no duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy import update
from sqlalchemy.orm import Session
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from aispend import audit
from aispend.connections import REFRESH_OPTION, ConnectError, get_connection, open_connector
from aispend.model import OVERLAPPING_STREAMS
from aispend.pricing.priced import price_usage_days
from aispend.providers.base import (
    Connector,
    DayRecords,
    FatalProviderError,
    FetchedPage,
    ProviderError,
    RateLimitedError,
    RetriableProviderError,
    StreamSpec,
)
from aispend.redact import redact
from aispend.runtime import Runtime
from aispend.store.allocations import reallocate_days
from aispend.store.facts import replace_cost_day, replace_usage_day, upsert_directory
from aispend.store.schema import Connection, SyncRun, SyncState
from aispend.sync.locks import connection_lock
from aispend.sync.pacing import DEFAULT_RATES, Pacer, rates_for_interval
from aispend.sync.planner import Checkpoint, RestatedMonthsStream, Window, plan_window, window_chunks
from aispend.vault import VaultKeyError, VaultOpenError

__all__ = ["SyncFailedError", "SyncProgress", "SyncResult", "sync_connection"]

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BACKOFF = 300.0
INTERRUPTED = "The process stopped before the run finished; the next run resumed from its checkpoint."


class SyncFailedError(Exception):
    """The sync stopped; the message (already recorded on the connection) says why and what to do."""


class SyncProgress:
    """Receives progress; the CLI draws a bar from it. The default ignores everything."""

    def planned(self, requests: int) -> None:
        """The minimum number of requests this run needs (more if pages come back short)."""

    def request_done(self, stream: str, requests: int, rows: int) -> None:
        """``requests`` made so far; ``rows`` written so far."""


@dataclass
class SyncResult:
    connection: str
    requests: int = 0
    rows: int = 0
    windows: dict[str, tuple[date, date]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _today() -> date:
    return datetime.now(UTC).date()


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days)]


class _Run:
    """State of one sync run of one connection."""

    def __init__(
        self,
        runtime: Runtime,
        connection: Connection,
        connector: Connector,
        pacer: Pacer,
        progress: SyncProgress,
        run_id: int,
        today: date | None = None,
    ) -> None:
        self.runtime = runtime
        self.today = today or _today()
        self.connection = connection
        self.connector = connector
        self.pacer = pacer
        self.progress = progress
        self.run_id = run_id
        self.result = SyncResult(connection.name)
        settings = runtime.settings
        self.jitter = wait_random_exponential(multiplier=settings.retry_backoff_seconds, max=MAX_BACKOFF)
        self.retrying = Retrying(
            retry=retry_if_exception_type(RetriableProviderError),
            stop=stop_after_attempt(settings.retry_attempts),
            wait=self._wait,
            reraise=True,
            before_sleep=self._log_retry,
        )

    def _wait(self, state: RetryCallState) -> float:
        # Exponential backoff with full jitter, never shorter than what a 429 asked for.
        error = state.outcome.exception() if state.outcome else None
        delay = self.jitter(state)
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            delay = max(delay, min(error.retry_after, MAX_BACKOFF))
        return delay

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning("%s: attempt %d failed: %s", self.connection.name, state.attempt_number, error)

    def call(self, family: str, request: Callable[[], T]) -> T:
        """One provider request, paced and retried."""

        def attempt() -> T:
            self.pacer.acquire(family)
            self.result.requests += 1
            try:
                return request()
            except RateLimitedError as error:
                self.pacer.slow_down(family, error.retry_after)
                raise

        return self.retrying(attempt)

    def checkpoint(self, session: Session, stream: str) -> SyncState:
        state = session.get(SyncState, (self.connection.id, stream))
        if state is None:
            state = SyncState(connection_id=self.connection.id, stream=stream, org_id=self.connection.org_id)
            session.add(state)
        return state

    def sync_directory(self, stream: StreamSpec) -> None:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = self.call(stream.family, partial(self.connector.fetch, stream, _today(), _today(), cursor))
            with self.runtime.db.session() as session:
                rows = upsert_directory(
                    session,
                    org_id=self.connection.org_id,
                    connection_id=self.connection.id,
                    entries=page.directory,
                )
                self._count(session, rows)
            self.progress.request_done(stream.name, self.result.requests, self.result.rows)
            cursor = self._next(stream, page, seen)
            if cursor is None:
                return

    def sync_window(self, stream: StreamSpec, window: Window) -> None:
        self.result.windows[stream.name] = (window.start, window.end)
        if window.moves_checkpoint:
            with self.runtime.db.session() as session:
                state = self.checkpoint(session, stream.name)
                state.pending_until = window.end
                if state.backfill_from is None or window.start < state.backfill_from:
                    state.backfill_from = window.start
        for start, end in window_chunks(stream, window, self.today):
            if isinstance(stream, RestatedMonthsStream):
                self._replace_chunk(stream, window, start, end)
            else:
                self._sync_chunk(stream, window, start, end)
        if window.moves_checkpoint:
            with self.runtime.db.session() as session:
                state = self.checkpoint(session, stream.name)
                state.pending_until = None
                state.updated_at = datetime.now(UTC)

    def _sync_chunk(self, stream: StreamSpec, window: Window, start: date, end: date) -> None:
        cursor: str | None = None
        seen: set[str] = set()
        replaced: set[date] = set()
        while True:
            page = self.call(stream.family, partial(self.connector.fetch, stream, start, end, cursor))
            cursor = self._next(stream, page, seen)
            if cursor is None:
                # The API returns empty buckets, but a day it leaves out is just as empty:
                # clear it too, or a restated-to-zero day would keep its old rows.
                on_page = replaced | {day_records.day for day_records in page.days}
                page.days += [DayRecords(day) for day in _days(start, end) if day not in on_page]
            with self.runtime.db.session() as session:
                days = self._write(session, stream, page, replaced)
                if page.data_refreshed_at is not None:
                    self._note_refresh(session, stream.name, page.data_refreshed_at)
                # A day may continue on the next page; only days before the last are surely whole.
                through = end if cursor is None else max(days, default=None)
                if window.moves_checkpoint and through is not None:
                    state = self.checkpoint(session, stream.name)
                    if state.complete_through is None or through > state.complete_through:
                        state.complete_through = through
                    state.updated_at = datetime.now(UTC)
            self.progress.request_done(stream.name, self.result.requests, self.result.rows)
            if cursor is None:
                return

    def _replace_chunk(self, stream: StreamSpec, window: Window, start: date, end: date) -> None:
        """Fetch every page of ``[start, end)``, then make the chunk exactly that in one transaction.

        Nothing is written until the last page has arrived, so a run that fails mid-chunk
        leaves the previous data of every day of the chunk in place. Pages hold whole days
        (the connector's promise); a day the pages leave out is cleared.
        """
        cursor: str | None = None
        seen: set[str] = set()
        chunk = {day: DayRecords(day) for day in _days(start, end)}
        while True:
            page = self.call(stream.family, partial(self.connector.fetch, stream, start, end, cursor))
            for day_records in page.days:
                if day_records.day not in chunk:
                    raise ValueError(f"{stream.name}: a page for {start}..{end} holds {day_records.day}")
                chunk[day_records.day].usage += day_records.usage
                chunk[day_records.day].cost += day_records.cost
            self.progress.request_done(stream.name, self.result.requests, self.result.rows)
            cursor = self._next(stream, page, seen)
            if cursor is None:
                break
        with self.runtime.db.session() as session:
            self._write(session, stream, FetchedPage(days=list(chunk.values())), set())
            if window.moves_checkpoint:
                state = self.checkpoint(session, stream.name)
                if state.complete_through is None or end > state.complete_through:
                    state.complete_through = end
                state.updated_at = datetime.now(UTC)
        self.progress.request_done(stream.name, self.result.requests, self.result.rows)

    def _write(
        self, session: Session, stream: StreamSpec, page: FetchedPage, replaced: set[date]
    ) -> list[date]:
        org_id, connection_id = self.connection.org_id, self.connection.id
        rows = 0
        for day_records in page.days:
            day = day_records.day
            first_sight = day not in replaced
            replaced.add(day)
            if stream.kind == "cost":
                rows += replace_cost_day(
                    session,
                    org_id=org_id,
                    connection_id=connection_id,
                    stream=stream.name,
                    day=day,
                    records=day_records.cost,
                    clear_absent=first_sight,
                )
            else:
                rows += replace_usage_day(
                    session,
                    org_id=org_id,
                    connection_id=connection_id,
                    stream=stream.name,
                    day=day,
                    records=day_records.usage,
                    clear_absent=first_sight,
                )
        days = [d.day for d in page.days]
        if stream.kind == "cost" or (stream.kind == "usage" and stream.name not in OVERLAPPING_STREAMS):
            reallocate_days(
                session,
                org_id=org_id,
                connection_id=connection_id,
                days=days,
                provider=self.connection.provider,
                billed_tiers=self.connector.billed_tiers,
                keys_reported=self.connector.costs_by_key,
            )
        if stream.kind == "usage":
            # List and effective price of the written usage, in this page's transaction.
            price_usage_days(
                session,
                org_id=org_id,
                connection_id=connection_id,
                provider=self.connection.provider,
                days=days,
                stream=stream.name,
            )
        self._count(session, rows)
        return days

    def _note_refresh(self, session: Session, stream: str, refreshed_at: datetime) -> None:
        """Keep each stream's latest provider refresh time on the connection, in this page's transaction."""
        stored = session.get(Connection, self.connection.id)
        assert stored is not None
        known_marks = stored.options.get(REFRESH_OPTION)
        marks = dict(known_marks) if isinstance(known_marks, dict) else {}
        known = marks.get(stream)
        if known is None or datetime.fromisoformat(str(known)) < refreshed_at:
            marks[stream] = refreshed_at.astimezone(UTC).isoformat()
            # A new dict, so the JSON column sees the change.
            stored.options = {**stored.options, REFRESH_OPTION: marks}

    def _count(self, session: Session, rows: int) -> None:
        self.result.rows += rows
        run = session.get(SyncRun, self.run_id)
        assert run is not None
        run.requests_made = self.result.requests
        run.rows_written = self.result.rows

    def _next(self, stream: StreamSpec, page: FetchedPage, seen: set[str]) -> str | None:
        cursor = page.next_cursor
        if cursor is not None:
            if cursor in seen:
                raise FatalProviderError(
                    f"The provider returned the same page cursor twice while reading {stream.name}; "
                    "following it would loop forever, so the sync stopped. Data already imported is intact.",
                    next_step="Run the sync again later; if it repeats, report it to the provider.",
                )
            seen.add(cursor)
        return cursor


def _pacer(runtime: Runtime, connection: Connection, connector: Connector) -> Pacer:
    """Published default rates, or the connection's own ``--min-request-interval`` (0: unpaced)."""
    interval = connection.options.get("min_request_interval")
    if interval is None:
        rates = DEFAULT_RATES.get(connection.provider, {})
    else:
        seconds = float(str(interval))
        families = {stream.family for stream in connector.streams()}
        rates = {family: rates_for_interval(seconds) for family in families} if seconds > 0 else {}
    key = f"{connection.provider}:{connection.provider_account_id}"
    return Pacer(key, rates, runtime.settings.pacing_path)


def _plan(
    runtime: Runtime,
    connection_id: int,
    connector: Connector,
    today: date,
    since: date | None,
    until: date | None,
) -> list[tuple[StreamSpec, Window | None]]:
    """Each stream with the window it fetches this run (None: a directory list, fetched whole)."""
    plan: list[tuple[StreamSpec, Window | None]] = []
    with runtime.db.session() as session:
        for stream in connector.streams():
            state = session.get(SyncState, (connection_id, stream.name))
            checkpoint = (
                Checkpoint(state.backfill_from, state.complete_through, state.pending_until)
                if state
                else Checkpoint()
            )
            window = plan_window(
                stream,
                checkpoint,
                today,
                backfill_days=runtime.settings.backfill_days,
                since=since,
                until=until,
            )
            if stream.kind == "directory" or window is not None:
                plan.append((stream, window))
    return plan


def _record_failure(runtime: Runtime, connection: Connection, run_id: int, error: Exception) -> str:
    message = redact(str(error))
    with runtime.db.session() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        run.status = "failed"
        run.finished_at = datetime.now(UTC)
        run.error = message
        stored = session.get(Connection, connection.id)
        assert stored is not None
        stored.status = "error"
        stored.last_error = message
        stored.last_error_at = run.finished_at
        audit.record(
            session,
            org_id=connection.org_id,
            action="sync.failed",
            target=f"connection:{connection.name}",
            after={"sync_run_id": run_id, "error": message},
        )
    return message


def sync_connection(
    runtime: Runtime,
    name: str,
    *,
    since: date | None = None,
    until: date | None = None,
    progress: SyncProgress | None = None,
    today: date | None = None,
) -> SyncResult:
    """Sync one connection to completion in this process. Raises :class:`SyncFailedError`."""
    progress = progress or SyncProgress()
    today = today or _today()
    with runtime.db.session() as session:
        connection = get_connection(session, runtime.org_id, name)
        if connection.status == "disconnected":
            raise SyncFailedError(
                f"Connection {name!r} is disconnected; its data stays, but it no longer syncs."
            )
    lock_dir = runtime.settings.home / "locks"
    with connection_lock(runtime.db, connection.id, lock_dir), runtime.http_client() as http:
        with runtime.db.session() as session:
            # Holding the lock, any run still marked running was killed mid-way.
            session.execute(
                update(SyncRun)
                .where(
                    SyncRun.org_id == connection.org_id,
                    SyncRun.connection_id == connection.id,
                    SyncRun.status == "running",
                )
                .values(status="interrupted", finished_at=datetime.now(UTC), error=INTERRUPTED)
            )
            run = SyncRun(org_id=connection.org_id, connection_id=connection.id)
            session.add(run)
            session.flush()
            run_id = run.id
        pacer: Pacer | None = None
        try:
            connector = open_connector(runtime, connection, http)
            pacer = _pacer(runtime, connection, connector)
            sync = _Run(runtime, connection, connector, pacer, progress, run_id, today=today)
            plan = _plan(runtime, connection.id, connector, today, since, until)
            progress.planned(
                sum(
                    1 if window is None else len(window_chunks(stream, window, today))
                    for stream, window in plan
                )
            )
            for stream, window in plan:
                try:
                    if window is None:
                        sync.sync_directory(stream)
                    else:
                        sync.sync_window(stream, window)
                except FatalProviderError as error:
                    if not (stream.optional and error.status == 404):
                        raise
                    log.warning("%s: %s is not available (%s); skipped", name, stream.name, error)
                    sync.result.skipped.append(stream.name)
        except (ProviderError, ConnectError, VaultKeyError, VaultOpenError) as error:
            raise SyncFailedError(_record_failure(runtime, connection, run_id, error)) from None
        except Exception as error:
            _record_failure(runtime, connection, run_id, error)
            raise
        finally:
            if pacer is not None:
                pacer.close()
        with runtime.db.session() as session:
            finished = datetime.now(UTC)
            stored_run = session.get(SyncRun, run_id)
            assert stored_run is not None
            stored_run.status = "succeeded"
            stored_run.finished_at = finished
            stored = session.get(Connection, connection.id)
            assert stored is not None
            stored.status = "active"
            stored.last_sync_at = finished
            stored.last_error = None
        log.info("synced %s: %d requests, %d rows", name, sync.result.requests, sync.result.rows)
        return sync.result

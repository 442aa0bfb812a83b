"""Which days each stream fetches on a run.

Rules (tested in tests/sync/test_planner.py):
- A stream never synced backfills ``backfill_days`` (or from ``--since``) up to yesterday; a
  backfill that stopped before its first page keeps the start it was given.
- A stream that stopped mid-window resumes at its checkpoint, without re-reading.
- Otherwise a run re-reads the trailing ``refetch_days`` before the checkpoint (providers
  restate recent days) and continues to yesterday: T-1 plus the lag window.
- ``--until`` makes a bounded window that never moves the checkpoint; ``--since`` alone
  moves it only when the window joins the imported period.
- Days are whole UTC days and windows are half-open ``[start, end)``; today is never
  fetched because it is not over.
- A :class:`RestatedMonthsStream` (a billing export that restates whole months) re-reads,
  on every run, from the first day of the previous month (of the month before that during a
  month's first ``grace_days`` days), or from its checkpoint if that is earlier; its window is
  cut into calendar months before that point and one chunk from there on, and the runner
  replaces each chunk atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from aispend.providers.base import StreamSpec

__all__ = [
    "Checkpoint",
    "RestatedMonthsStream",
    "Window",
    "plan_window",
    "restated_from",
    "split_window",
    "window_chunks",
]


@dataclass(frozen=True, slots=True)
class RestatedMonthsStream(StreamSpec):
    """A stream whose provider restates whole months and has no row id to upsert on.

    A billing export appends late rows to the current and previous invoice month, so every
    run re-reads ``restated_months`` months (one more during the first ``grace_days`` days of
    a month, while the month before is still being closed) and the runner replaces each chunk
    of the window atomically: all its pages are fetched first, then written, and the days
    they no longer hold cleared, in one transaction. A failed run leaves the previous data in
    place. ``days_per_request`` is not used: chunks are calendar months (see
    :func:`window_chunks`).
    """

    restated_months: int = 2
    grace_days: int = 5


def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def restated_from(stream: RestatedMonthsStream, today: date) -> date:
    """The first day a run of ``stream`` on ``today`` re-reads."""
    back = stream.restated_months - 1 + (1 if today.day <= stream.grace_days else 0)
    return _month_start(today, back)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    backfill_from: date | None = None
    complete_through: date | None = None
    pending_until: date | None = None


@dataclass(frozen=True, slots=True)
class Window:
    start: date
    end: date
    moves_checkpoint: bool

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def plan_window(
    stream: StreamSpec,
    checkpoint: Checkpoint,
    today: date,
    *,
    backfill_days: int,
    since: date | None = None,
    until: date | None = None,
) -> Window | None:
    """The window ``stream`` should fetch on this run, or None when there is nothing to do."""
    if stream.kind == "directory":
        return None
    through = checkpoint.complete_through
    if until is not None:
        start = since or checkpoint.backfill_from or today - timedelta(days=backfill_days)
        window = Window(start, min(until + timedelta(days=1), today), moves_checkpoint=False)
    elif since is not None:
        joins = through is None or since <= through
        window = Window(since, today, moves_checkpoint=joins)
    elif through is None:
        # A first backfill that stopped before its first page keeps the start it was given.
        start = checkpoint.backfill_from or today - timedelta(days=backfill_days)
        window = Window(start, today, moves_checkpoint=True)
    elif isinstance(stream, RestatedMonthsStream):
        # The restated months every run; an earlier checkpoint is a backfill that stopped.
        window = Window(min(through, restated_from(stream, today)), today, moves_checkpoint=True)
    elif checkpoint.pending_until is not None and checkpoint.pending_until > through:
        window = Window(through, today, moves_checkpoint=True)
    else:
        start = min(through, today) - timedelta(days=stream.refetch_days)
        window = Window(start, today, moves_checkpoint=True)
    return window if window.start < window.end else None


def split_window(window: Window, days_per_request: int) -> list[tuple[date, date]]:
    """Cut a window into request-sized chunks, oldest first."""
    if days_per_request < 1:
        raise ValueError(f"days_per_request must be at least 1, not {days_per_request}")
    step = timedelta(days=days_per_request)
    chunks = []
    start = window.start
    while start < window.end:
        end = min(start + step, window.end)
        chunks.append((start, end))
        start = end
    return chunks


def window_chunks(stream: StreamSpec, window: Window, today: date) -> list[tuple[date, date]]:
    """The chunks a window is fetched (and, for a restated stream, replaced) in, oldest first.

    A :class:`RestatedMonthsStream` goes a calendar month at a time up to the restated
    months, which are one chunk: a backfill that stops resumes at a month boundary, and the
    months a run re-reads are replaced together. Other streams: request-sized chunks.
    """
    if not isinstance(stream, RestatedMonthsStream):
        return split_window(window, stream.days_per_request)
    restated = min(max(window.start, restated_from(stream, today)), window.end)
    chunks = []
    start = window.start
    while start < restated:
        end = min(_month_start(start, -1), restated)
        chunks.append((start, end))
        start = end
    if start < window.end:
        chunks.append((start, window.end))
    return chunks

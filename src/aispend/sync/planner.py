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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from aispend.providers.base import StreamSpec

__all__ = ["Checkpoint", "Window", "plan_window", "split_window"]


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

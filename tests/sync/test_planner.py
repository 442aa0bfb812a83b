"""Every rule in the docstring of ``aispend.sync.planner``, one test (or more) each."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aispend.providers.base import StreamSpec
from aispend.sync.planner import Checkpoint, Window, plan_window, split_window

TODAY = date(2026, 3, 2)
BACKFILL = 40
MESSAGES = StreamSpec("messages", "usage", "usage", 31, refetch_days=3)
CLAUDE_CODE = StreamSpec("claude_code", "usage", "claude_code", 1, refetch_days=2)
DIRECTORY = StreamSpec("workspaces", "directory", "directory", 0)


def days(n: int) -> timedelta:
    return timedelta(days=n)


def plan(
    checkpoint: Checkpoint,
    *,
    stream: StreamSpec = MESSAGES,
    since: date | None = None,
    until: date | None = None,
    today: date = TODAY,
) -> Window | None:
    return plan_window(stream, checkpoint, today, backfill_days=BACKFILL, since=since, until=until)


# --- First backfill ----------------------------------------------------------------------


def test_first_sync_backfills_backfill_days_up_to_yesterday() -> None:
    window = plan(Checkpoint())

    assert window == Window(TODAY - days(BACKFILL), TODAY, moves_checkpoint=True)
    assert window.days == BACKFILL


def test_first_sync_with_since_starts_there_and_moves_the_checkpoint() -> None:
    since = date(2025, 1, 1)

    assert plan(Checkpoint(), since=since) == Window(since, TODAY, moves_checkpoint=True)


# --- Resume ------------------------------------------------------------------------------


def test_interrupted_window_resumes_at_the_checkpoint_without_lag() -> None:
    through = TODAY - days(20)
    checkpoint = Checkpoint(
        backfill_from=TODAY - days(BACKFILL), complete_through=through, pending_until=TODAY
    )

    assert plan(checkpoint) == Window(through, TODAY, moves_checkpoint=True)


def test_resume_of_a_window_from_an_earlier_day_continues_to_yesterday() -> None:
    through = TODAY - days(20)
    checkpoint = Checkpoint(complete_through=through, pending_until=TODAY - days(5))

    assert plan(checkpoint) == Window(through, TODAY, moves_checkpoint=True)


def test_pending_window_already_complete_is_a_daily_run() -> None:
    through = TODAY - days(1)
    checkpoint = Checkpoint(complete_through=through, pending_until=through)

    assert plan(checkpoint) == Window(through - days(3), TODAY, moves_checkpoint=True)


# Regression: the resume branch used max(pending_until, today) as its end.
def test_resume_never_fetches_today_even_if_pending_until_is_later() -> None:
    through = TODAY - days(4)
    window = plan(Checkpoint(complete_through=through, pending_until=TODAY + days(2)))

    assert window == Window(through, TODAY, moves_checkpoint=True)


# --- Daily runs --------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [MESSAGES, CLAUDE_CODE], ids=lambda s: s.name)
def test_daily_run_rereads_the_lag_window(stream: StreamSpec) -> None:
    through = TODAY - days(1)

    window = plan(Checkpoint(backfill_from=date(2025, 1, 1), complete_through=through), stream=stream)

    assert window == Window(through - days(stream.refetch_days), TODAY, moves_checkpoint=True)


def test_daily_run_after_a_gap_of_days_covers_the_gap_and_the_lag() -> None:
    through = TODAY - days(10)

    window = plan(Checkpoint(complete_through=through))

    assert window == Window(TODAY - days(13), TODAY, moves_checkpoint=True)
    assert window.days == 13


def test_daily_run_with_a_checkpoint_past_today_still_ends_at_today() -> None:
    window = plan(Checkpoint(complete_through=TODAY + days(5)))

    assert window == Window(TODAY - days(3), TODAY, moves_checkpoint=True)


def test_up_to_date_stream_without_lag_has_nothing_to_do() -> None:
    no_lag = StreamSpec("messages", "usage", "usage", 31, refetch_days=0)

    assert plan(Checkpoint(complete_through=TODAY), stream=no_lag) is None


# --- --since and --until ------------------------------------------------------------------


@pytest.mark.parametrize("since", [date(2025, 6, 1), date(2026, 2, 1)], ids=["before", "at"])
def test_since_that_joins_the_imported_period_moves_the_checkpoint(since: date) -> None:
    checkpoint = Checkpoint(backfill_from=date(2026, 1, 1), complete_through=date(2026, 2, 1))

    assert plan(checkpoint, since=since) == Window(since, TODAY, moves_checkpoint=True)


def test_since_after_a_gap_does_not_move_the_checkpoint() -> None:
    checkpoint = Checkpoint(backfill_from=date(2026, 1, 1), complete_through=date(2026, 2, 1))
    since = date(2026, 2, 2)

    assert plan(checkpoint, since=since) == Window(since, TODAY, moves_checkpoint=False)


def test_until_makes_a_bounded_inclusive_window_that_never_moves() -> None:
    checkpoint = Checkpoint(complete_through=date(2026, 1, 1))

    window = plan(checkpoint, since=date(2025, 12, 1), until=date(2025, 12, 31))

    assert window == Window(date(2025, 12, 1), date(2026, 1, 1), moves_checkpoint=False)
    assert window.days == 31


def test_until_is_capped_at_today() -> None:
    for until in (TODAY - days(1), TODAY, TODAY + days(30)):
        window = plan(Checkpoint(), since=date(2026, 2, 1), until=until)
        assert window == Window(date(2026, 2, 1), TODAY, moves_checkpoint=False)


def test_until_without_since_starts_at_the_backfill_start() -> None:
    backfilled = Checkpoint(backfill_from=date(2025, 5, 5), complete_through=date(2026, 3, 1))

    assert plan(backfilled, until=date(2025, 6, 30)) == Window(
        date(2025, 5, 5), date(2025, 7, 1), moves_checkpoint=False
    )
    assert plan(Checkpoint(), until=TODAY - days(10)) == Window(
        TODAY - days(BACKFILL), TODAY - days(9), moves_checkpoint=False
    )


# --- Streams and windows with nothing to do ----------------------------------------------


@pytest.mark.parametrize(
    "checkpoint", [Checkpoint(), Checkpoint(complete_through=date(2026, 1, 1), pending_until=TODAY)]
)
def test_directory_streams_have_no_window(checkpoint: Checkpoint) -> None:
    assert plan(checkpoint, stream=DIRECTORY) is None
    assert plan(checkpoint, stream=DIRECTORY, since=date(2025, 1, 1)) is None
    assert plan(checkpoint, stream=DIRECTORY, since=date(2025, 1, 1), until=date(2025, 2, 1)) is None


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (TODAY, None),
        (TODAY + days(3), None),
        (date(2026, 2, 10), date(2026, 2, 9)),
        (TODAY, TODAY + days(3)),
    ],
)
def test_empty_windows_are_none(since: date, until: date | None) -> None:
    assert plan(Checkpoint(), since=since, until=until) is None


checkpoint_days = st.dates(min_value=TODAY - days(800), max_value=TODAY)


@given(
    backfill_from=st.none() | checkpoint_days,
    through=st.none() | checkpoint_days,
    pending=st.none() | checkpoint_days,
    since=st.none() | st.dates(min_value=TODAY - days(800), max_value=TODAY + days(5)),
    until=st.none() | st.dates(min_value=TODAY - days(800), max_value=TODAY + days(5)),
)
def test_today_is_never_fetched_and_bounded_windows_never_move(
    backfill_from: date | None,
    through: date | None,
    pending: date | None,
    since: date | None,
    until: date | None,
) -> None:
    window = plan(Checkpoint(backfill_from, through, pending), since=since, until=until)

    if window is None:
        return
    assert window.start < window.end <= TODAY
    if until is not None:
        assert not window.moves_checkpoint
        assert window.end <= until + days(1)
    if since is not None:
        assert window.start == since


# --- split_window ------------------------------------------------------------------------


def test_a_year_in_31_day_chunks() -> None:
    start = date(2025, 3, 2)
    window = Window(start, start + days(365), moves_checkpoint=True)

    chunks = split_window(window, 31)

    assert len(chunks) == 12
    assert all((end - begin).days == 31 for begin, end in chunks[:-1])
    assert (chunks[-1][1] - chunks[-1][0]).days == 365 - 11 * 31
    assert chunks[0][0] == window.start
    assert chunks[-1][1] == window.end
    assert all(chunks[i][1] == chunks[i + 1][0] for i in range(len(chunks) - 1))


def test_one_day_chunks() -> None:
    start = date(2026, 2, 27)

    chunks = split_window(Window(start, start + days(3), moves_checkpoint=False), 1)

    assert chunks == [
        (date(2026, 2, 27), date(2026, 2, 28)),
        (date(2026, 2, 28), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 3, 2)),
    ]


def test_empty_window_splits_into_nothing() -> None:
    assert split_window(Window(TODAY, TODAY, moves_checkpoint=True), 31) == []


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    length=st.integers(min_value=0, max_value=1200),
    size=st.integers(min_value=1, max_value=60),
)
def test_split_window_covers_the_window_exactly(start: date, length: int, size: int) -> None:
    window = Window(start, start + days(length), moves_checkpoint=True)

    chunks = split_window(window, size)

    covered = [begin + days(i) for begin, end in chunks for i in range((end - begin).days)]
    assert covered == [start + days(i) for i in range(length)]  # contiguous, no gap, no overlap
    assert all(0 < (end - begin).days <= size for begin, end in chunks)
    assert all((end - begin).days == size for begin, end in chunks[:-1])
    assert len(chunks) == -(-length // size)


def test_interrupted_first_backfill_keeps_its_start() -> None:
    today = date(2026, 11, 26)
    stream = StreamSpec("messages", "usage", "usage", 31)
    checkpoint = Checkpoint(backfill_from=date(2026, 1, 1), complete_through=None, pending_until=today)
    window = plan_window(stream, checkpoint, today, backfill_days=30)
    assert window == Window(date(2026, 1, 1), today, moves_checkpoint=True)


def test_split_window_refuses_a_zero_chunk() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        split_window(Window(date(2026, 1, 1), date(2026, 1, 5), True), 0)

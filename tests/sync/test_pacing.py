"""The request pacer: spacing from rates, slow-downs after a 429, and a budget shared across processes.

Rate-limited waits use real time (pyrate-limiter sleeps on its own), with generous
bounds; slow-downs use an injected clock and sleep and are exact.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aispend.sync.pacing import DEFAULT_RATES, MAX_SLOWDOWN_SECONDS, Pacer, rates_for_interval


class FakeTime:
    """A monotonic clock that only moves when the pacer sleeps."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def unpaced(fake: FakeTime) -> Iterator[Pacer]:
    pacer = Pacer("anthropic:org-1", {}, None, sleep=fake.sleep, clock=fake.clock)
    yield pacer
    pacer.close()


def test_rates_for_interval_is_one_request_per_interval() -> None:
    (rate,) = rates_for_interval(0.2)
    assert (rate.limit, rate.interval) == (1, 200)
    assert rates_for_interval(0)[0].interval == 1


def test_default_rates_cover_every_anthropic_family() -> None:
    assert set(DEFAULT_RATES["anthropic"]) == {"usage", "cost", "claude_code", "directory"}


def test_rate_spaces_requests(tmp_path: Path) -> None:
    pacer = Pacer("anthropic:org-1", {"usage": rates_for_interval(0.2)}, tmp_path / "pacing.db")
    try:
        started = time.monotonic()
        for _ in range(3):
            pacer.acquire("usage")
        elapsed = time.monotonic() - started
    finally:
        pacer.close()

    assert elapsed >= 0.35
    assert elapsed < 5.0


def test_without_rates_nothing_waits(unpaced: Pacer, fake: FakeTime) -> None:
    started = time.monotonic()
    for _ in range(20):
        unpaced.acquire("usage")
        unpaced.acquire("directory")

    assert fake.sleeps == []
    assert time.monotonic() - started < 2.0


def test_slow_down_holds_the_family_for_retry_after(unpaced: Pacer, fake: FakeTime) -> None:
    unpaced.acquire("usage")
    unpaced.slow_down("usage", 0.3)
    before = fake.now

    unpaced.acquire("usage")

    assert fake.now - before >= 0.3
    assert fake.sleeps, "the pacer must sleep rather than return early"


def test_slow_down_widens_later_spacing_and_doubles(unpaced: Pacer, fake: FakeTime) -> None:
    unpaced.slow_down("usage", 0.3)
    unpaced.acquire("usage")
    after_hold = fake.now
    unpaced.acquire("usage")
    first_spacing = fake.now - after_hold

    unpaced.slow_down("usage", 0.3)
    unpaced.acquire("usage")
    held = fake.now
    unpaced.acquire("usage")
    second_spacing = fake.now - held

    assert first_spacing == pytest.approx(0.5)  # at least half a second after a 429
    assert second_spacing == pytest.approx(1.0)  # doubled for the rest of the run


def test_slow_down_without_retry_after_holds_one_second(unpaced: Pacer, fake: FakeTime) -> None:
    unpaced.slow_down("cost", None)
    before = fake.now

    unpaced.acquire("cost")

    assert fake.now - before == pytest.approx(1.0)


def test_slow_down_spacing_is_capped(unpaced: Pacer, fake: FakeTime) -> None:
    for _ in range(20):
        unpaced.slow_down("usage", 100.0)
    unpaced.acquire("usage")
    start = fake.now

    unpaced.acquire("usage")

    assert fake.now - start == pytest.approx(MAX_SLOWDOWN_SECONDS)


def test_slow_down_of_one_family_leaves_others_alone(unpaced: Pacer, fake: FakeTime) -> None:
    unpaced.slow_down("usage", 30.0)

    unpaced.acquire("directory")
    unpaced.acquire("cost")

    assert fake.sleeps == []


def test_two_pacers_on_one_state_file_share_the_budget(tmp_path: Path) -> None:
    state = tmp_path / "pacing.db"
    rates = {"usage": rates_for_interval(0.4)}
    first = Pacer("anthropic:org-1", rates, state)
    second = Pacer("anthropic:org-1", rates, state)
    try:
        first.acquire("usage")
        started = time.monotonic()
        second.acquire("usage")
        waited = time.monotonic() - started
    finally:
        first.close()
        second.close()

    assert waited >= 0.3
    assert waited < 5.0


def test_pacers_of_different_accounts_do_not_share(tmp_path: Path) -> None:
    state = tmp_path / "pacing.db"
    rates = {"usage": rates_for_interval(10.0)}
    first = Pacer("anthropic:org-1", rates, state)
    other = Pacer("anthropic:org-2", rates, state)
    try:
        first.acquire("usage")
        started = time.monotonic()
        other.acquire("usage")
        waited = time.monotonic() - started
    finally:
        first.close()
        other.close()

    # Sharing would mean a ten-second wait.
    assert waited < 5.0

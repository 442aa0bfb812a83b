"""Retry timing of the sync engine, without a network."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from tenacity import RetryCallState

from aispend.providers.base import RateLimitedError, RetriableProviderError
from aispend.runtime import Runtime
from aispend.sync.runner import MAX_BACKOFF, SyncProgress, _Run


def wait_after(runtime: Runtime, error: Exception) -> float:
    run = _Run(runtime, SimpleNamespace(name="t"), None, None, SyncProgress(), 0)  # type: ignore[arg-type]
    state = RetryCallState(run.retrying, None, (), {})
    state.set_exception((type(error), error, None))
    return run._wait(state)


@pytest.mark.parametrize(("asked", "waited"), [(30.0, 30.0), (10_000.0, MAX_BACKOFF)])
def test_a_429_waits_what_the_provider_asked_up_to_the_cap(
    runtime: Runtime, asked: float, waited: float
) -> None:
    assert wait_after(runtime, RateLimitedError("slow down", retry_after=asked)) == waited


def test_other_retries_back_off_briefly(runtime: Runtime) -> None:
    # settings.retry_backoff_seconds is 0.01: the first wait is at most that.
    assert wait_after(runtime, RetriableProviderError("500")) <= 0.01
    assert wait_after(runtime, RateLimitedError("slow down", retry_after=None)) <= 0.01

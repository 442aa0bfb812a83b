"""Request pacing shared by every process that calls the same provider account.

Limits are keyed by provider account and endpoint family, and kept in a SQLite file
in ``AISPEND_HOME`` (file-locked), so a CLI sync, a worker and a second worker never
add up to more than the provider allows. On a 429 the pacer also holds the family
back for the provider's ``retry-after`` and doubles the spacing for the rest of the run.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from pyrate_limiter import Duration, Limiter, Rate, SQLiteBucket

__all__ = ["DEFAULT_RATES", "Pacer", "rates_for_interval"]

# Anthropic publishes no hard limit for usage and cost; its guidance is "poll once a
# minute sustained, short bursts for paging are fine". 15 requests in any 15 minutes
# is one a minute on average and lets a 365-day backfill (12 pages each) page at once.
# Other Admin endpoints share a published 100 requests/minute; we take half.
# OpenAI publishes no limit for its Admin usage, costs and list endpoints: two requests a
# second (a hundred a minute at most) is gentle, and 429s slow us further with Retry-After.
_OPENAI = [Rate(2, Duration.SECOND), Rate(100, Duration.MINUTE)]
DEFAULT_RATES: Mapping[str, Mapping[str, list[Rate]]] = {
    "anthropic": {
        "usage": [Rate(15, Duration.MINUTE * 15)],
        "cost": [Rate(15, Duration.MINUTE * 15)],
        "claude_code": [Rate(50, Duration.MINUTE)],
        "directory": [Rate(50, Duration.MINUTE)],
    },
    "openai": {"usage": _OPENAI, "cost": _OPENAI, "directory": _OPENAI},
    # Claude Enterprise publishes 60 requests a minute per organisation for the Analytics
    # API and, apart, for the Spend Limits API (aispend limits).
    "claude_enterprise": {
        "analytics": [Rate(60, Duration.MINUTE)],
        "spend_limits": [Rate(60, Duration.MINUTE)],
    },
    # Codex Analytics publishes no limit; the same 60 a minute, and 429s slow us further.
    "chatgpt_enterprise": {"analytics": [Rate(60, Duration.MINUTE)]},
}
MAX_SLOWDOWN_SECONDS = 300.0


def rates_for_interval(seconds: float) -> list[Rate]:
    """At most one request every ``seconds`` (the ``--min-request-interval`` option)."""
    return [Rate(1, max(1, round(seconds * 1000)))]


class Pacer:
    """Blocks before each request until the family's budget allows it.

    ``rates`` maps family to pyrate-limiter rates; a family missing from it (or an
    empty list) is not paced, which is what simulators and proxies want.
    """

    def __init__(
        self,
        account_key: str,
        rates: Mapping[str, list[Rate]],
        state_path: Path | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._account_key = account_key
        self._rates = rates
        self._state_path = state_path
        self._sleep = sleep
        self._clock = clock
        self._limiters: dict[str, Limiter] = {}
        self._not_before: dict[str, float] = {}
        self._extra_spacing: dict[str, float] = {}
        self._last_request: dict[str, float] = {}
        self._lock = threading.Lock()

    def _limiter(self, family: str) -> Limiter | None:
        rates = self._rates.get(family)
        if not rates:
            return None
        with self._lock:
            limiter = self._limiters.get(family)
            if limiter is None:
                digest = hashlib.sha256(f"{self._account_key}:{family}".encode()).hexdigest()[:24]
                if self._state_path is None:
                    bucket = SQLiteBucket.init_from_file(rates, table=f"pace_{digest}")
                else:
                    self._state_path.parent.mkdir(parents=True, exist_ok=True)
                    bucket = SQLiteBucket.init_from_file(
                        rates, table=f"pace_{digest}", db_path=str(self._state_path), use_file_lock=True
                    )
                limiter = self._limiters[family] = Limiter(bucket)
            return limiter

    def acquire(self, family: str) -> None:
        """Wait until a request of ``family`` may be sent."""
        now = self._clock()
        wait = self._not_before.get(family, 0.0) - now
        spacing = self._extra_spacing.get(family, 0.0)
        if spacing:
            wait = max(wait, self._last_request.get(family, -spacing) + spacing - now)
        if wait > 0:
            self._sleep(wait)
        limiter = self._limiter(family)
        if limiter is not None:
            limiter.try_acquire(family, blocking=True)
        self._last_request[family] = self._clock()

    def slow_down(self, family: str, retry_after: float | None) -> None:
        """Honour a 429: hold the family for ``retry_after`` and space later requests wider."""
        hold = retry_after if retry_after is not None else 1.0
        self._not_before[family] = max(self._not_before.get(family, 0.0), self._clock() + hold)
        previous = self._extra_spacing.get(family, 0.0)
        self._extra_spacing[family] = min(MAX_SLOWDOWN_SECONDS, max(hold, previous * 2, 0.5))

    def close(self) -> None:
        for limiter in self._limiters.values():
            limiter.close()
        self._limiters.clear()

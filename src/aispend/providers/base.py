"""The contract every provider connector fulfils, and the errors it raises.

A connector speaks one provider's HTTP API and turns each response into normalised
records. It never decides when to sync, how fast to go or whether to retry: the sync
engine does, around every call. So each ``Connector`` method makes **exactly one**
HTTP request, which lets the engine pace, retry and count requests uniformly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

from aispend.model import CostRecord, DirectoryEntry, UsageRecord

__all__ = [
    "Connector",
    "DayRecords",
    "FatalProviderError",
    "FetchedPage",
    "ProviderAccount",
    "ProviderError",
    "RateLimitedError",
    "RetriableProviderError",
    "StreamSpec",
]


class ProviderError(Exception):
    """A provider call failed. ``next_step`` tells a person what to do about it."""

    def __init__(self, message: str, *, next_step: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.next_step = next_step
        self.status = status

    def __str__(self) -> str:
        return f"{self.message} {self.next_step}".strip()


class RetriableProviderError(ProviderError):
    """Transient: a timeout, a 5xx, a truncated body. Worth retrying with backoff."""


class RateLimitedError(RetriableProviderError):
    """HTTP 429. ``retry_after`` is the provider's requested wait in seconds, if it sent one."""

    def __init__(self, message: str, *, retry_after: float | None, next_step: str = "") -> None:
        super().__init__(message, next_step=next_step, status=429)
        self.retry_after = retry_after


class FatalProviderError(ProviderError):
    """Retrying cannot help (bad key, missing permission, malformed request, repeated cursor)."""


@dataclass(frozen=True, slots=True)
class ProviderAccount:
    """The provider-side organisation a credential belongs to.

    ``scope_ids`` are the sub-accounts the credential sees (OpenAI projects, Google Cloud
    projects), for providers whose API names no organisation: two connections whose scopes
    overlap would count the same spend twice.
    """

    id: str
    name: str
    scope_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """One report or list a connector can import.

    ``days_per_request`` is the widest window one request may cover (the API's page
    limit in days); ``0`` marks a directory stream, which has no time window.
    ``refetch_days`` is how many trailing days the provider may still restate.
    ``family`` keys the request pacer together with the provider account.
    An ``optional`` stream that answers 404 is skipped with a warning instead of
    failing the sync: not every organisation has every report.
    """

    name: str
    kind: Literal["usage", "cost", "directory"]
    family: str
    days_per_request: int
    refetch_days: int = 3
    optional: bool = False


@dataclass(slots=True)
class DayRecords:
    """Everything a page says about one day. An empty list means the day is empty."""

    day: date
    usage: list[UsageRecord] = field(default_factory=list)
    cost: list[CostRecord] = field(default_factory=list)


@dataclass(slots=True)
class FetchedPage:
    """One parsed response. ``next_cursor`` is None when the request window is exhausted.

    ``data_refreshed_at`` is the provider's own statement of how fresh the data behind the
    page is (Claude Enterprise analytics), kept on the connection as "data complete through".
    """

    days: list[DayRecords] = field(default_factory=list)
    directory: list[DirectoryEntry] = field(default_factory=list)
    next_cursor: str | None = None
    data_refreshed_at: datetime | None = None


class Connector(Protocol):
    """What the sync engine needs from a provider. Each call is one HTTP request.

    ``billed_tiers`` are the service tiers (besides batch) that the provider's cost report
    bills as lines of their own, so allocation matches their usage only to those lines.
    ``costs_by_key`` says the cost report names each line's API key, so a line without one
    is spend without a key (Playground, storage) rather than spend to spread over keys.
    """

    provider: str
    billed_tiers: frozenset[str]
    costs_by_key: bool

    def identify(self) -> ProviderAccount:
        """Check the credential and return the provider organisation it belongs to."""
        ...

    def streams(self) -> Sequence[StreamSpec]:
        """The streams this connector imports, in the order they should run."""
        ...

    def fetch(self, stream: StreamSpec, start: date, end: date, cursor: str | None) -> FetchedPage:
        """Fetch one page of ``stream`` for days ``[start, end)`` (ignored by directory streams)."""
        ...

"""Seeded synthetic Anthropic organisation behind the Admin API simulator.

Everything here is a pure function of :class:`SimulatorSettings`: the directory (workspaces,
API keys, users) is built once, and each day of usage is generated lazily from a
``random.Random`` seeded with ``(seed, day, restatement version)``, so any day can be
produced on its own and in any order. Cost rows are derived from usage at the list prices
of ``LIST_PRICES`` (reference §7), so the simulated cost report agrees with the usage report
to the sixth decimal place of a cent. The ground-truth accessors at the bottom are what
tests and benchmarks compare a connector's output against.

The pieces live in sibling modules: :mod:`.simprices` (prices and cost arithmetic),
:mod:`.simrows` (record shapes), :mod:`.simdirectory` (users, workspaces, keys),
:mod:`.simusage` (usage generator) and :mod:`.simclaudecode` (Claude Code records). This
module ties them into one organisation and re-exports the names callers import from here.

None of them imports anything from the rest of ``aispend``: they are the stand-in the
connector is tested against, so they must not share the connector's assumptions.
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any, NamedTuple

from aispend.providers.anthropic.simclaudecode import generate_claude_code
from aispend.providers.anthropic.simdirectory import build_directory
from aispend.providers.anthropic.simprices import (
    CENT_QUANTUM,
    LIST_PRICES,
    NO_SHAPE,
    TOKEN_TYPES,
    ModelPrice,
    cost_description,
    price_per_mtok,
    price_usage,
)
from aispend.providers.anthropic.simrows import CostRow, UsageRow
from aispend.providers.anthropic.simusage import KeyProfile, generate_usage

__all__ = [
    "CENT_QUANTUM",
    "LIST_PRICES",
    "TOKEN_TYPES",
    "CostRow",
    "ModelPrice",
    "SimulatedOrganisation",
    "SimulatorSettings",
    "UsageRow",
    "cost_description",
    "price_per_mtok",
]

DEFAULT_SEED = 7


def _derived_admin_key(seed: int) -> str:
    digest = hashlib.sha512(f"aispend-simulator-admin-key:{seed}".encode()).digest()
    # Real admin keys are url-safe base64 ending in "AA"; 78 + 2 keeps the tail at 80 chars.
    return "sk-ant-admin01-" + base64.urlsafe_b64encode(digest).decode("ascii")[:78] + "AA"


def _derived_org_id(seed: int) -> str:
    digest = hashlib.sha256(f"aispend-simulator-org:{seed}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


@dataclass(frozen=True)
class SimulatorSettings:
    """Knobs of one simulated organisation; equal settings always give equal data.

    The admin key and organisation id default to values derived from the default seed; they
    stay put when only ``seed`` changes, so a demo's saved credentials keep working.
    """

    seed: int = DEFAULT_SEED
    today: date | None = None
    history_days: int = 400
    admin_key: str = _derived_admin_key(DEFAULT_SEED)
    organization_id: str = _derived_org_id(DEFAULT_SEED)
    organization_name: str = "Acme Robotics (simulated)"
    min_request_interval: float = 0.0
    timeout_seconds: float = 5.0


class _Day(NamedTuple):
    version: int
    usage: list[UsageRow]
    cost: list[CostRow]


class SimulatedOrganisation:
    """A deterministic organisation: directory objects plus lazily generated daily data."""

    def __init__(self, settings: SimulatorSettings | None = None) -> None:
        self.settings = settings or SimulatorSettings()
        # Fixed at construction so a long-running demo does not shift data under its clients.
        self.today: date = self.settings.today or datetime.now(UTC).date()
        self.first_day: date = self.today - timedelta(days=self.settings.history_days)
        self._versions: dict[date, int] = {}
        self._days: dict[date, _Day] = {}
        self._claude_code: dict[date, list[dict[str, Any]]] = {}
        self._lock = threading.RLock()
        directory = build_directory(
            random.Random(f"{self.settings.seed}:directory"), self.first_day, self.today
        )
        self.workspaces: list[dict[str, Any]] = directory.workspaces
        self.api_keys: list[dict[str, Any]] = directory.api_keys
        self.users: list[dict[str, Any]] = directory.users
        self._profiles: list[KeyProfile] = directory.profiles

    # ------------------------------------------------------------------ generation

    def _generate_cost(self, day: date, usage: list[UsageRow]) -> list[CostRow]:
        out = price_usage(day, usage)
        # Code execution has no usage counterpart, so it is drawn apart from the usage stream
        # and survives restatements unchanged.
        rng = random.Random(f"{self.settings.seed}:code-execution:{day.toordinal()}")
        if rng.random() < 0.04:
            hours = Decimal(rng.randrange(2_000, 90_000)) / 1000  # container-hours beyond the free ones
            amount = (hours * 5).quantize(CENT_QUANTUM)
            ws_id = self.workspaces[3]["id"]  # Data Platform runs the notebooks
            out.append(CostRow(day, ws_id, "Code Execution Usage", "code_execution", *NO_SHAPE, amount))
        out.sort(key=lambda c: (c.workspace_id or "", c.description))
        return out

    def _day(self, day: date) -> _Day:
        with self._lock:
            version = self._versions.get(day, 0)
            cached = self._days.get(day)
            if cached is not None and cached.version == version:
                return cached
            if not self.first_day <= day < self.today:
                built = _Day(version, [], [])
            else:
                usage = generate_usage(self.settings.seed, day, version, self.today, self._profiles)
                built = _Day(version, usage, self._generate_cost(day, usage))
            self._days[day] = built
            return built

    # ------------------------------------------------------------------ accessors

    def usage_records(self, day: date) -> list[UsageRow]:
        """Finest-grain usage of one day as immutable tuples (shared; do not mutate the list)."""
        return self._day(day).usage

    def cost_records(self, day: date) -> list[CostRow]:
        """Finest-grain cost rows (one per workspace and description) of one day."""
        return self._day(day).cost

    def usage_rows(self, day: date) -> list[dict[str, Any]]:
        """Finest-grain usage of one day: one dict per (workspace, key, model, tier, ...)."""
        return [row._asdict() for row in self.usage_records(day)]

    def cost_rows(self, day: date) -> list[dict[str, Any]]:
        """Cost of one day grouped by workspace_id and description, amounts in cents."""
        return [row._asdict() for row in self.cost_records(day)]

    def claude_code_records(self, day: date) -> list[dict[str, Any]]:
        """API-shaped Claude Code analytics records of one day, in serving order."""
        with self._lock:
            if day not in self._claude_code:
                self._claude_code[day] = (
                    generate_claude_code(self.settings.seed, day, self.users, self.settings.organization_id)
                    if self.first_day <= day < self.today
                    else []
                )
            return self._claude_code[day]

    def restate(self, days: int = 3) -> None:
        """Revise the last ``days`` complete days, as the real API does with late data."""
        with self._lock:
            for back in range(1, days + 1):
                day = self.today - timedelta(days=back)
                self._versions[day] = self._versions.get(day, 0) + 1
                self._days.pop(day, None)

    # ------------------------------------------------------------------ ground truth

    def _range(self, since: date, until: date) -> Iterator[date]:
        day = max(since, self.first_day)
        last = min(until, self.today - timedelta(days=1))
        while day <= last:
            yield day
            day += timedelta(days=1)

    def total_cost_usd(self, since: date, until: date) -> Decimal:
        """Exact dollars billed over the inclusive day range."""
        cents = sum(
            (c.amount_cents for d in self._range(since, until) for c in self.cost_records(d)), Decimal(0)
        )
        with localcontext() as ctx:
            ctx.prec = 50
            return cents / 100

    def cost_usd_by(self, dim: str, since: date, until: date) -> dict[str | None, Decimal]:
        """Exact dollars per workspace_id/model/day (ISO string)/description/cost_type."""
        pick = _dimension(dim, ("workspace_id", "model", "day", "description", "cost_type"))
        cents: dict[str | None, Decimal] = defaultdict(Decimal)
        for day in self._range(since, until):
            for row in self.cost_records(day):
                cents[pick(row)] += row.amount_cents
        with localcontext() as ctx:
            ctx.prec = 50
            return {k: v / 100 for k, v in cents.items()}

    def tokens_by(self, dim: str, since: date, until: date) -> dict[str | None, dict[str, int]]:
        """Token totals per workspace_id/model/day (ISO string)/api_key_id, our field names."""
        pick = _dimension(dim, ("workspace_id", "model", "day", "api_key_id"))
        out: dict[str | None, dict[str, int]] = {}
        for day in self._range(since, until):
            for row in self.usage_records(day):
                acc = out.setdefault(pick(row), dict.fromkeys(_TOKEN_TOTALS, 0))
                acc["input_tokens"] += row.uncached_input_tokens
                acc["cache_write_tokens"] += row.cache_creation_5m + row.cache_creation_1h
                acc["cache_read_tokens"] += row.cache_read_input_tokens
                acc["output_tokens"] += row.output_tokens
                acc["web_search_requests"] += row.web_search_requests
        return out


_TOKEN_TOTALS = (
    "input_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "output_tokens",
    "web_search_requests",
)


def _dimension(dim: str, allowed: tuple[str, ...]) -> Callable[[Any], str | None]:
    if dim not in allowed:
        raise ValueError(f"dim must be one of {', '.join(allowed)}; got {dim!r}")
    if dim == "day":
        return lambda row: str(row.day.isoformat())

    def pick(row: Any) -> str | None:
        value: str | None = getattr(row, dim)
        return value

    return pick

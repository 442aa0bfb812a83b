"""Seeded synthetic OpenAI organisation behind the Admin API simulator.

Everything here is a pure function of :class:`OpenAISimulatorSettings`: the directory
(projects, users, service accounts, keys) is built once, and each day of usage is
generated lazily from a ``random.Random`` seeded with ``(seed, day, restatement
version)``, so any day can be produced on its own and in any order. Cost components are
derived from that usage at the list prices of :mod:`.simprices`, so the simulated costs
endpoint agrees with the usage endpoints exactly. The ground-truth accessors at the bottom
are what tests and benchmarks compare a connector's output against; their day ranges are
inclusive and their dollars exact ``Decimal``.

The pieces live in sibling modules: :mod:`.simprices` (prices), :mod:`.simrows` (record
shapes, the endpoint table), :mod:`.simdirectory` (directory and traffic profiles),
:mod:`.simusage` (usage generator) and :mod:`.simcosts` (pricing, line items). None of them
imports anything from the rest of ``aispend``: they are the stand-in the connector is
tested against, so they must not share the connector's assumptions.
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from aispend.providers.openai.simcosts import no_model_project, price_day
from aispend.providers.openai.simdirectory import build_directory
from aispend.providers.openai.simrows import ENDPOINTS, CostComponent, Dim, UsageRow
from aispend.providers.openai.simusage import generate_usage

__all__ = ["OpenAISimulatorSettings", "SimulatedOrganisation"]

DEFAULT_SEED = 7


def _derived_admin_key(seed: int) -> str:
    digest = hashlib.sha512(f"aispend-openai-simulator-admin-key:{seed}".encode()).digest()
    return "sk-admin-" + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class OpenAISimulatorSettings:
    """Knobs of one simulated organisation; equal settings always give equal data.

    The admin key defaults to one derived from the default seed; it stays put when only
    ``seed`` changes, so a demo's saved credentials keep working. ``min_request_interval``
    is the pace per endpoint family (faster requests get a 429); ``timeout_seconds`` is how
    long an injected ``timeout`` fault stalls.
    """

    seed: int = DEFAULT_SEED
    today: date | None = None
    history_days: int = 400
    admin_key: str = _derived_admin_key(DEFAULT_SEED)
    organization_name: str = "Acme Robotics (simulated)"
    min_request_interval: float = 0.0
    timeout_seconds: float = 5.0


class _Day(NamedTuple):
    version: int
    usage: dict[str, list[UsageRow]]
    costs: list[CostComponent]


# ground-truth token field -> (endpoint, stored counts it sums)
_TOKEN_SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "completions": {
        "input_tokens": ("input_text_tokens", "input_audio_tokens", "input_image_tokens"),
        "cache_write_tokens": ("input_cache_write_tokens",),
        "cache_read_tokens": (
            "input_cached_text_tokens",
            "input_cached_audio_tokens",
            "input_cached_image_tokens",
        ),
        "output_tokens": ("output_text_tokens", "output_audio_tokens", "output_image_tokens"),
        "requests": ("num_model_requests",),
    },
    "embeddings": {"input_tokens": ("input_tokens",), "requests": ("num_model_requests",)},
    "moderations": {"input_tokens": ("input_tokens",), "requests": ("num_model_requests",)},
}
TOKEN_TOTALS = ("input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens", "requests")
# quantity unit -> the (endpoint, count) pairs it adds up
QUANTITY_SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "images": (("images", "images"),),
    "characters": (("audio_speeches", "characters"),),
    "seconds": (("audio_transcriptions", "seconds"),),
    "byte_days": (("vector_stores", "usage_bytes"),),
    "sessions": (("code_interpreter_sessions", "num_sessions"),),
    "calls": (("file_search_calls", "num_requests"), ("web_search_calls", "num_requests")),
}
_COST_DIMS = ("project_id", "api_key_id", "user_id", "model", "line_item", "day")
_TOKEN_DIMS = ("project_id", "api_key_id", "user_id", "model", "day", "service_tier", "batch")


class SimulatedOrganisation:
    """A deterministic organisation: directory objects plus lazily generated daily data."""

    def __init__(self, settings: OpenAISimulatorSettings | None = None) -> None:
        self.settings = settings or OpenAISimulatorSettings()
        # Fixed at construction so a long-running demo does not shift data under its clients.
        self.today: date = self.settings.today or datetime.now(UTC).date()
        self.first_day: date = self.today - timedelta(days=self.settings.history_days)
        self._versions: dict[date, int] = {}
        self._days: dict[date, _Day] = {}
        self._lock = threading.RLock()
        directory = build_directory(
            random.Random(f"{self.settings.seed}:directory"),
            self.first_day,
            self.today,
            self.settings.admin_key,
        )
        self.projects: list[dict[str, Any]] = directory.projects
        self.users: list[dict[str, Any]] = directory.users
        self.project_users: dict[str, list[dict[str, Any]]] = directory.project_users
        self.service_accounts: dict[str, list[dict[str, Any]]] = directory.service_accounts
        self.api_keys: dict[str, list[dict[str, Any]]] = directory.api_keys
        self.admin_keys: list[dict[str, Any]] = directory.admin_keys
        self._directory = directory

    # ------------------------------------------------------------------ generation

    def _day(self, day: date) -> _Day:
        with self._lock:
            version = self._versions.get(day, 0)
            cached = self._days.get(day)
            if cached is not None and cached.version == version:
                return cached
            if not self.first_day <= day < self.today:
                built = _Day(version, {name: [] for name in ENDPOINTS}, [])
            else:
                seed = self.settings.seed
                usage = generate_usage(
                    seed, day, version, self.today, self._directory.keys, self._directory.project_traffic
                )
                built = _Day(version, usage, price_day(day, usage, no_model_project(seed, day, usage)))
            self._days[day] = built
            return built

    # ------------------------------------------------------------------ accessors

    def usage_records(self, endpoint: str, day: date) -> list[UsageRow]:
        """Finest-grain rows of one usage endpoint on one day (shared; do not mutate)."""
        return self._day(day).usage[endpoint]

    def cost_records(self, day: date) -> list[CostComponent]:
        """Priced components of one day, one per (project, key, user, model, line item)."""
        return self._day(day).costs

    def usage_rows(self, endpoint: str, day: date) -> list[dict[str, Any]]:
        """Finest-grain rows of one endpoint on one day as dicts of group keys and stored counts."""
        spec = ENDPOINTS[endpoint]
        return [
            {"day": row.day, **dict(zip(spec.dims, row.dims, strict=True)), **spec.render(row.counts)}
            for row in self.usage_records(endpoint, day)
        ]

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
        return sum((c.amount for d in self._range(since, until) for c in self.cost_records(d)), Decimal(0))

    def cost_usd_by(self, dim: str, since: date, until: date) -> dict[str | None, Decimal]:
        """Exact dollars per project_id, api_key_id, user_id, model, line_item or day (ISO string).

        ``model`` is the model whose usage was priced, also behind the model-less
        ``"input_tokens"`` lines, and ``""`` for tools, sessions and storage. Costs without
        an API key or user (storage, sessions, Playground) count under None.
        """
        _check(dim, _COST_DIMS)
        out: dict[str | None, Decimal] = defaultdict(Decimal)
        for day in self._range(since, until):
            for c in self.cost_records(day):
                out[day.isoformat() if dim == "day" else getattr(c, dim)] += c.amount
        return dict(out)

    def tokens_by(self, dim: str, since: date, until: date) -> dict[Dim, dict[str, int]]:
        """Token totals of completions, embeddings and moderations, in our field names.

        ``dim`` is project_id, api_key_id, user_id, model, day (ISO string), service_tier or
        batch; embeddings and moderations have no tier or batch flag and count under None.
        ``input_tokens`` is uncached input, ``cache_read_tokens`` the cached input of every
        modality and ``requests`` the model requests.
        """
        _check(dim, _TOKEN_DIMS)
        out: dict[Dim, dict[str, int]] = {}
        for day in self._range(since, until):
            for endpoint, sources in _TOKEN_SOURCES.items():
                spec = ENDPOINTS[endpoint]
                indexes = {total: [spec.counts.index(f) for f in fields] for total, fields in sources.items()}
                for row in self.usage_records(endpoint, day):
                    acc = out.setdefault(_pick(dim, spec.dims, row), dict.fromkeys(TOKEN_TOTALS, 0))
                    for total, where in indexes.items():
                        acc[total] += sum(row.counts[i] for i in where)
        return out

    def quantity_by(self, unit: str, dim: str, since: date, until: date) -> dict[Dim, int]:
        """Totals of a non-token unit per project_id, api_key_id, user_id, model or day.

        ``unit`` is images, characters, seconds, byte_days (vector-store bytes summed over
        days), sessions or calls (file-search plus web-search calls). Rows whose endpoint has
        no such dimension (storage per user, say) count under None.
        """
        if unit not in QUANTITY_SOURCES:
            raise ValueError(f"unit must be one of {', '.join(QUANTITY_SOURCES)}; got {unit!r}")
        _check(dim, ("project_id", "api_key_id", "user_id", "model", "day"))
        out: dict[Dim, int] = defaultdict(int)
        for day in self._range(since, until):
            for endpoint, field in QUANTITY_SOURCES[unit]:
                spec = ENDPOINTS[endpoint]
                index = spec.counts.index(field)
                for row in self.usage_records(endpoint, day):
                    out[_pick(dim, spec.dims, row)] += row.counts[index]
        return dict(out)


def _check(dim: str, allowed: tuple[str, ...]) -> None:
    if dim not in allowed:
        raise ValueError(f"dim must be one of {', '.join(allowed)}; got {dim!r}")


def _pick(dim: str, dims: tuple[str, ...], row: UsageRow) -> Dim:
    if dim == "day":
        return row.day.isoformat()
    return row.dims[dims.index(dim)] if dim in dims else None

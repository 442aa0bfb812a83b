"""Seeded synthetic Anthropic organisation behind the Admin API simulator.

Everything here is a pure function of :class:`SimulatorSettings`: the directory (workspaces,
API keys, users) is built once, and each day of usage is generated lazily from a
``random.Random`` seeded with ``(seed, day, restatement version)``, so any day can be
produced on its own and in any order. Cost rows are derived from usage at the list prices
of ``LIST_PRICES`` (reference §7), so the simulated cost report agrees with the usage report
to the sixth decimal place of a cent. The ground-truth accessors at the bottom are what
tests and benchmarks compare a connector's output against.

This module deliberately imports nothing from the rest of ``aispend``: it is the stand-in
the connector is tested against, so it must not share the connector's assumptions.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import random
import string
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any, NamedTuple, cast

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
CENT_QUANTUM = Decimal("0.000001")


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


# --------------------------------------------------------------------------- prices


@dataclass(frozen=True)
class ModelPrice:
    """List prices in USD per million tokens (reference §7)."""

    model: str
    display_name: str
    input: Decimal
    output: Decimal
    geo_selectable: bool  # 4.6+ models: inference_geo "global"/"us" instead of "not_available"
    long_context_input: Decimal | None = None
    long_context_output: Decimal | None = None


LIST_PRICES: dict[str, ModelPrice] = {
    p.model: p
    for p in (
        ModelPrice("claude-opus-4-6", "Claude Opus 4.6", Decimal(5), Decimal(25), True),
        ModelPrice("claude-sonnet-4-6", "Claude Sonnet 4.6", Decimal(3), Decimal(15), True),
        ModelPrice(
            "claude-sonnet-4-5-20250929",
            "Claude Sonnet 4.5",
            Decimal(3),
            Decimal(15),
            False,
            long_context_input=Decimal(6),
            long_context_output=Decimal("22.50"),
        ),
        ModelPrice("claude-haiku-4-5-20251001", "Claude Haiku 4.5", Decimal(1), Decimal(5), False),
        ModelPrice("claude-opus-4-1-20250805", "Claude Opus 4.1", Decimal(15), Decimal(75), False),
    )
}

# (cost-report token_type, usage-row field, description suffix)
TOKEN_TYPES: tuple[tuple[str, str, str], ...] = (
    ("uncached_input_tokens", "uncached_input_tokens", "Input Tokens"),
    ("output_tokens", "output_tokens", "Output Tokens"),
    ("cache_creation.ephemeral_5m_input_tokens", "cache_creation_5m", "Input Tokens, Cache Write"),
    (
        "cache_creation.ephemeral_1h_input_tokens",
        "cache_creation_1h",
        "Input Tokens, Cache Write (1h)",
    ),
    ("cache_read_input_tokens", "cache_read_input_tokens", "Input Tokens, Cache Hit"),
)
_INPUT_MULTIPLIER = {
    "uncached_input_tokens": Decimal(1),
    "cache_creation.ephemeral_5m_input_tokens": Decimal("1.25"),
    "cache_creation.ephemeral_1h_input_tokens": Decimal(2),
    "cache_read_input_tokens": Decimal("0.1"),
}


@functools.cache
def price_per_mtok(
    model: str, token_type: str, service_tier: str, context_window: str, inference_geo: str
) -> Decimal:
    """Effective USD per million tokens after every stacking multiplier."""
    info = LIST_PRICES[model]
    base_in, base_out = info.input, info.output
    if context_window == "200k-1M" and info.long_context_input and info.long_context_output:
        base_in, base_out = info.long_context_input, info.long_context_output
    price = base_out if token_type == "output_tokens" else base_in * _INPUT_MULTIPLIER[token_type]
    if service_tier == "batch":
        price *= Decimal("0.5")
    if inference_geo == "us":
        price *= Decimal("1.1")
    return price


@functools.cache
def _cents_per_token(model: str, token_type: str, tier: str, ctx: str, geo: str) -> Decimal:
    return price_per_mtok(model, token_type, tier, ctx, geo).scaleb(-4)  # $/MTok -> cents/token, exact


@functools.cache
def cost_description(
    model: str, token_type: str, service_tier: str, context_window: str, inference_geo: str
) -> str:
    """Billing line name; qualifiers keep every priced combination on its own line."""
    suffix = next(s for t, _, s in TOKEN_TYPES if t == token_type)
    text = f"{LIST_PRICES[model].display_name} Usage - {suffix}"
    if service_tier == "batch":
        text += ", Batch"
    if context_window == "200k-1M":
        text += ", Long Context"
    if inference_geo == "us":
        text += ", US"
    return text


# --------------------------------------------------------------------------- rows


class UsageRow(NamedTuple):
    day: date
    workspace_id: str | None
    api_key_id: str | None
    model: str
    service_tier: str
    context_window: str
    inference_geo: str
    uncached_input_tokens: int
    cache_creation_5m: int
    cache_creation_1h: int
    cache_read_input_tokens: int
    output_tokens: int
    web_search_requests: int


_TOKEN_INDEX: tuple[tuple[str, int], ...] = tuple(
    (token_type, UsageRow._fields.index(field)) for token_type, field, _ in TOKEN_TYPES
)


class CostRow(NamedTuple):
    day: date
    workspace_id: str | None
    description: str
    cost_type: str
    model: str | None
    token_type: str | None
    service_tier: str | None
    context_window: str | None
    inference_geo: str | None
    amount_cents: Decimal


# --------------------------------------------------------------------------- directory

_MODEL_CODES = dict(zip(("o6", "s6", "s5", "h5", "o1"), LIST_PRICES, strict=True))
# name, colour, days before today it was archived (None = live), default geo
_WORKSPACES: tuple[tuple[str, str, int | None, str], ...] = (
    ("Production", "#6C5BB9", None, "global"),
    ("Research", "#C5705D", 60, "global"),
    ("Support Bot", "#3D8B7A", None, "us"),
    ("Data Platform", "#D4A03C", None, "global"),
)
# name, workspace (0 = Default), status, "model:weight,...", $/day at unit growth,
# flags (b batch, u US geo, w web search, h 1h cache, l long context),
# created (days before history start if >= 0, else days before today), stopped (days before today)
_KEYS: tuple[tuple[str, int, str, str, float, str, int, int | None], ...] = (
    ("prod-api-gateway", 1, "active", "o6:5,s6:3,h5:2,s5:1", 330, "buw", 40, None),
    ("prod-batch-summaries", 1, "active", "s6:6,h5:4,o6:1", 180, "bu", 35, None),
    ("prod-agents", 1, "active", "o6:6,s6:4,h5:1", 220, "buwh", 20, None),
    ("prod-search-assistant", 1, "active", "s6:7,h5:3,s5:2", 110, "bwl", 12, None),
    ("prod-legacy-sonnet", 1, "active", "s5:8,o1:2,h5:1", 90, "bl", 60, None),
    ("claude-code-ci", 1, "active", "o6:4,s6:6,h5:2", 60, "h", 5, None),
    ("prod-old-worker", 1, "inactive", "s5:6,h5:4", 40, "b", 70, 100),
    ("default-key", 0, "active", "s6:6,h5:4,o6:1", 45, "b", 80, None),
    ("local-dev", 0, "active", "o6:3,s5:4,h5:3,s6:2", 20, "w", 50, None),
    ("ci-smoke-tests", 0, "active", "h5:10,s6:1", 8, "", 45, None),
    ("research-evals", 2, "archived", "o6:4,o1:3,s5:3", 120, "bl", 30, 60),
    ("research-notebooks", 2, "archived", "o1:5,s6:5", 60, "h", 25, 60),
    ("research-sandbox", 2, "archived", "h5:10,s6:2", 15, "", 25, 60),
    ("support-triage", 3, "active", "h5:7,s6:3,s5:1", 110, "bu", 15, None),
    ("support-replies", 3, "active", "s6:8,h5:2,o6:1", 90, "uwl", 15, None),
    ("support-kb-sync", 3, "active", "s5:10,h5:2", 35, "bl", 10, None),
    ("support-staging", 3, "inactive", "h5:10,s6:2", 10, "", 10, 30),
    ("data-etl-classify", 4, "active", "h5:6,s6:4,s5:2", 100, "b", 8, None),
    ("data-extraction", 4, "active", "s5:5,o6:5,h5:2", 70, "blh", -150, None),
    ("data-reporting", 4, "active", "s6:10,h5:2", 25, "w", -90, None),
    ("data-backfill-2025", 4, "archived", "o1:6,s5:4", 45, "b", 30, 200),
)
# Console/Workbench traffic: about 2% of the organisation's usage, no API key.
_CONSOLE = ("s6:5,o6:3,h5:2", 36.0)
_USERS: tuple[tuple[str, str], ...] = (
    ("Maya Okafor", "admin"),
    ("Daniel Lindqvist", "admin"),
    ("Priya Raman", "developer"),
    ("Tomás Herrera", "developer"),
    ("Hannah Weiss", "developer"),
    ("Kenji Watanabe", "developer"),
    ("Amara Nwosu", "claude_code_user"),
    ("Lucas Moreau", "claude_code_user"),
    ("Grace Chen", "billing"),
    ("Oliver Brandt", "user"),
)
_NO_SHAPE = (None, None, None, None, None)  # model and token fields of a non-token cost
_SCALE = 0.9  # dollars-per-day calibration: weekday totals land in the low thousands
_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class _KeyProfile:
    api_key_id: str | None
    workspace_id: str | None
    models: tuple[tuple[str, float], ...]
    budget: float
    flags: str
    first_day: date
    stop_day: date | None
    ratios: tuple[float, float, float, float]  # output, cache read, 5m write, 1h write per input


def _stamp(day: date, seconds: int) -> str:
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_models(spec: str) -> tuple[tuple[str, float], ...]:
    pairs = [part.split(":") for part in spec.split(",")]
    total = sum(float(w) for _, w in pairs)
    return tuple((_MODEL_CODES[code], float(w) / total) for code, w in pairs)


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
        self.workspaces: list[dict[str, Any]] = []
        self.api_keys: list[dict[str, Any]] = []
        self.users: list[dict[str, Any]] = []
        self._profiles: list[_KeyProfile] = []
        self._build_directory(random.Random(f"{self.settings.seed}:directory"))

    # ------------------------------------------------------------------ directory

    def _build_directory(self, rng: random.Random) -> None:
        def ident(prefix: str) -> str:
            return prefix + "01" + "".join(rng.choice(_ID_ALPHABET) for _ in range(22))

        origin = self.first_day - timedelta(days=30)
        for i, (name, role) in enumerate(_USERS):
            email = name.lower().replace("á", "a").replace(" ", ".") + "@acme-robotics.example"
            self.users.append(
                {
                    "id": ident("user_"),
                    "type": "user",
                    "email": email,
                    "name": name,
                    "role": role,
                    "added_at": _stamp(origin - timedelta(days=60 - 5 * i), 3600 * 9 + i),
                }
            )
        workspace_ids: list[str | None] = [None]
        for i, (name, colour, archived_age, geo) in enumerate(_WORKSPACES):
            ws_id = ident("wrkspc_")
            workspace_ids.append(ws_id)
            archived = None if archived_age is None else self.today - timedelta(days=archived_age)
            self.workspaces.append(
                {
                    "id": ws_id,
                    "type": "workspace",
                    "name": name,
                    "created_at": _stamp(origin - timedelta(days=50 - 7 * i), 36000 + 97 * i),
                    "archived_at": None if archived is None else _stamp(archived, 3600 * 15),
                    "display_color": colour,
                    "tags": {},
                    "data_residency": {
                        "allowed_inference_geos": "unrestricted",
                        "default_inference_geo": geo,
                        "workspace_geo": "us",
                    },
                    "compartment_id": None,
                    "external_key_id": None,
                }
            )
        creators = [u for u in self.users if u["role"] in ("admin", "developer")]
        for i, (name, ws, status, models, budget, flags, created, stopped) in enumerate(_KEYS):
            key_id = ident("apikey_")
            first = (
                self.first_day - timedelta(days=created)
                if created >= 0
                else self.today + timedelta(days=created)
            )
            stop = None if stopped is None else self.today - timedelta(days=stopped)
            creator = creators[i % len(creators)]
            hint = "".join(rng.choice(_ID_ALPHABET) for _ in range(5))
            self.api_keys.append(
                {
                    "id": key_id,
                    "type": "api_key",
                    "name": name,
                    "status": status,
                    "created_at": _stamp(first, 3600 * 8 + 61 * i),
                    "expires_at": None,
                    "created_by": {"id": creator["id"], "type": "user"},
                    "partial_key_hint": f"sk-ant-api03-{hint[:3]}...{hint[3:]}AA",
                    "principal": {"id": creator["id"], "type": "user"},
                    "workspace_id": workspace_ids[ws],
                }
            )
            ratios = _ratios(rng, flags)
            prof = _KeyProfile(
                key_id, workspace_ids[ws], _parse_models(models), budget * _SCALE, flags, first, stop, ratios
            )
            self._profiles.append(prof)
        console = _KeyProfile(
            None,
            None,
            _parse_models(_CONSOLE[0]),
            _CONSOLE[1] * _SCALE,
            "",
            self.first_day,
            None,
            _ratios(rng, ""),
        )
        self._profiles.append(console)
        self.api_keys.sort(key=lambda k: (k["created_at"], k["id"]))

    # ------------------------------------------------------------------ generation

    def _day_factor(self, day: date) -> float:
        age = (self.today - day).days
        growth = 1.6 - 0.6 * age / 365  # +60% over the last year, linear
        if age == 20:
            return 4.0 * growth  # the incident day the demo's anomaly view should catch
        return growth * (0.4 if day.weekday() >= 5 else 1.0)

    def _generate_usage(self, day: date, version: int) -> list[UsageRow]:
        seed = self.settings.seed
        rng = random.Random(f"{seed}:{day.toordinal()}:0")
        factor = self._day_factor(day)
        presence = 0.8 if day.weekday() >= 5 else 0.95
        rows: list[UsageRow] = []
        for prof in self._profiles:
            if day < prof.first_day or (prof.stop_day is not None and day >= prof.stop_day):
                continue
            key_budget = prof.budget * factor * rng.uniform(0.8, 1.2)
            for model, weight in prof.models:
                for tier, ctx, geo, share in _row_shapes(model, prof.flags):
                    if rng.random() > presence:
                        continue
                    dollars = key_budget * weight * share * rng.uniform(0.85, 1.15)
                    rows.append(_usage_row(rng, day, prof, (model, tier, ctx, geo), dollars))
        for k in range(1, version + 1):
            rows = self._restated(random.Random(f"{seed}:{day.toordinal()}:{k}"), rows)
        return rows

    @staticmethod
    def _restated(rng: random.Random, rows: list[UsageRow]) -> list[UsageRow]:
        """A late correction: every group grows a few percent and one group disappears."""
        if not rows:
            return rows
        dropped = rng.randrange(len(rows))
        out: list[UsageRow] = []
        for i, row in enumerate(rows):
            if i == dropped:
                continue
            grow = rng.uniform(1.04, 1.10)
            out.append(UsageRow(*row[:7], *(int(v * grow) for v in row[7:])))
        return out

    def _generate_cost(self, day: date, usage: list[UsageRow]) -> list[CostRow]:
        tokens: dict[tuple[str | None, str, str, str, str, str], int] = defaultdict(int)
        searches: dict[str | None, int] = defaultdict(int)
        for row in usage:
            shape = (row.workspace_id, row.model, row.service_tier, row.context_window, row.inference_geo)
            for token_type, index in _TOKEN_INDEX:
                value = cast(int, row[index])
                if value:
                    tokens[(*shape, token_type)] += value
            if row.web_search_requests:
                searches[row.workspace_id] += row.web_search_requests
        out: list[CostRow] = []
        with localcontext() as ctx:
            ctx.prec = 50
            for (ws, model, tier, cw, geo, token_type), count in tokens.items():
                cents = count * _cents_per_token(model, token_type, tier, cw, geo)
                amount = cents.quantize(CENT_QUANTUM, rounding=ROUND_HALF_EVEN)
                description = cost_description(model, token_type, tier, cw, geo)
                out.append(CostRow(day, ws, description, "tokens", model, token_type, tier, cw, geo, amount))
        for ws, count in searches.items():
            # $10 per 1,000 searches is exactly one cent per search.
            amount = Decimal(count).quantize(CENT_QUANTUM)
            out.append(CostRow(day, ws, "Web Search Usage", "web_search", *_NO_SHAPE, amount))
        # Code execution has no usage counterpart, so it is drawn apart from the usage stream
        # and survives restatements unchanged.
        rng = random.Random(f"{self.settings.seed}:code-execution:{day.toordinal()}")
        if rng.random() < 0.04:
            hours = Decimal(rng.randrange(2_000, 90_000)) / 1000  # container-hours beyond the free ones
            amount = (hours * 5).quantize(CENT_QUANTUM)
            ws_id = self.workspaces[3]["id"]  # Data Platform runs the notebooks
            out.append(CostRow(day, ws_id, "Code Execution Usage", "code_execution", *_NO_SHAPE, amount))
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
                usage = self._generate_usage(day, version)
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
                    self._generate_claude_code(day) if self.first_day <= day < self.today else []
                )
            return self._claude_code[day]

    def _generate_claude_code(self, day: date) -> list[dict[str, Any]]:
        rng = random.Random(f"{self.settings.seed}:claude-code:{day.toordinal()}")
        coders = [u for u in self.users if u["role"] in ("admin", "developer", "claude_code_user")]
        weekend = day.weekday() >= 5
        chosen = rng.sample(coders, rng.randint(1, 3) if weekend else rng.randint(5, 7))
        actors: list[tuple[dict[str, Any], bool]] = [
            ({"type": "user_actor", "email_address": u["email"]}, False) for u in chosen
        ]
        if not weekend and rng.random() < 0.5:
            actors.append(({"type": "user_actor", "email_address": chosen[0]["email"]}, True))
        actors.append(({"type": "api_actor", "api_key_name": "claude-code-ci"}, False))
        records = [self._claude_code_record(rng, day, actor, remote) for actor, remote in actors]
        records.sort(
            key=lambda r: (
                r["actor"]["type"] != "user_actor",
                r["actor"].get("email_address") or r["actor"]["api_key_name"],
                r["is_remote"],
            )
        )
        return records

    def _claude_code_record(
        self, rng: random.Random, day: date, actor: dict[str, Any], remote: bool
    ) -> dict[str, Any]:
        breakdown = []
        for model in rng.sample(
            ["claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5-20251001"], rng.randint(1, 2)
        ):
            info = LIST_PRICES[model]
            tokens = {
                "input": rng.randint(20_000, 900_000),
                "output": rng.randint(5_000, 200_000),
                "cache_read": rng.randint(50_000, 5_000_000),
                "cache_creation": rng.randint(5_000, 400_000),
            }
            dollars = (
                tokens["input"] * info.input
                + tokens["output"] * info.output
                + tokens["cache_read"] * info.input * Decimal("0.1")
                + tokens["cache_creation"] * info.input * Decimal("1.25")
            ) / 1_000_000
            breakdown.append(
                {
                    "model": model,
                    "tokens": tokens,
                    "estimated_cost": {
                        "amount": int((dollars * 100).to_integral_value(ROUND_HALF_EVEN)),
                        "currency": "USD",
                    },
                }
            )
        sessions = rng.randint(1, 25)
        return {
            "date": f"{day.isoformat()}T00:00:00Z",
            "actor": actor,
            "organization_id": self.settings.organization_id,
            "customer_type": "api",
            "subscription_type": None,
            "terminal_type": "web"
            if remote
            else rng.choice(["vscode", "iTerm.app", "tmux", "ghostty", "cursor"]),
            "is_remote": remote,
            "core_metrics": {
                "num_sessions": sessions,
                "lines_of_code": {
                    "added": rng.randint(0, 60) * sessions,
                    "removed": rng.randint(0, 25) * sessions,
                },
                "commits_by_claude_code": rng.randint(0, sessions),
                "pull_requests_by_claude_code": rng.randint(0, max(1, sessions // 5)),
            },
            "tool_actions": {
                tool: {"accepted": rng.randint(0, 4 * sessions), "rejected": rng.randint(0, 4)}
                for tool in ("edit_tool", "multi_edit_tool", "notebook_edit_tool", "write_tool")
            },
            "model_breakdown": breakdown,
        }

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


def _ratios(rng: random.Random, flags: str) -> tuple[float, float, float, float]:
    """A key's habits: output, cache read, 5m write and 1h write tokens per uncached input token."""
    one_hour = rng.uniform(0.02, 0.1) if "h" in flags else 0.0
    return rng.uniform(0.12, 0.35), rng.uniform(0.5, 5.0), rng.uniform(0.05, 0.3), one_hour


_Shape = tuple[str, str, str, str]  # model, service tier, context window, inference geo


@functools.cache
def _row_shapes(model: str, flags: str) -> tuple[tuple[str, str, str, float], ...]:
    """The (tier, context window, geo, budget share) combinations a key spreads a model over."""
    info = LIST_PRICES[model]
    tiers = [("standard", 0.6), ("batch", 0.4)] if "b" in flags else [("standard", 1.0)]
    ctxs = (
        [("0-200k", 0.75), ("200k-1M", 0.25)]
        if "l" in flags and model.startswith("claude-sonnet")
        else [("0-200k", 1.0)]
    )
    if not info.geo_selectable:
        geos = [("not_available", 1.0)]
    elif "u" in flags:
        geos = [("us", 0.7), ("global", 0.3)]
    else:
        geos = [("global", 1.0)]
    return tuple((t, c, g, ts * cs * gs) for t, ts in tiers for c, cs in ctxs for g, gs in geos)


_UNIT_PRICES: dict[tuple[str, str, str, str], tuple[float, ...]] = {}


def _unit_prices(model: str, tier: str, ctx: str, geo: str) -> tuple[float, ...]:
    """Float dollars per token in TOKEN_TYPES order; only used to size token counts."""
    key = (model, tier, ctx, geo)
    if key not in _UNIT_PRICES:
        _UNIT_PRICES[key] = tuple(
            float(price_per_mtok(model, t, tier, ctx, geo)) / 1e6 for t, _, _ in TOKEN_TYPES
        )
    return _UNIT_PRICES[key]


def _usage_row(rng: random.Random, day: date, prof: _KeyProfile, shape: _Shape, dollars: float) -> UsageRow:
    """One finest-grain row whose list-price cost is about ``dollars``."""
    model, tier, ctx, geo = shape
    uniform = rng.uniform
    r_out, r_read, r_5m, r_1h = prof.ratios
    r_out, r_read = r_out * uniform(0.8, 1.2), r_read * uniform(0.8, 1.2)
    r_5m, r_1h = r_5m * uniform(0.8, 1.2), r_1h * uniform(0.8, 1.2)
    if ctx == "200k-1M":
        r_out *= 0.3  # huge prompts, short answers
    p_in, p_out, p_5m, p_1h, p_read = _unit_prices(model, tier, ctx, geo)
    unit = p_in + p_out * r_out + p_5m * r_5m + p_1h * r_1h + p_read * r_read
    uncached = max(1, int(dollars / unit))
    tokens = (int(uncached * r_5m), int(uncached * r_1h), int(uncached * r_read), int(uncached * r_out))
    searches = int(dollars * uniform(1.0, 3.0)) if "w" in prof.flags and tier == "standard" else 0
    return UsageRow(day, prof.workspace_id, prof.api_key_id, *shape, uncached, *tokens, searches)


def _dimension(dim: str, allowed: tuple[str, ...]) -> Callable[[Any], str | None]:
    if dim not in allowed:
        raise ValueError(f"dim must be one of {', '.join(allowed)}; got {dim!r}")
    if dim == "day":
        return lambda row: str(row.day.isoformat())

    def pick(row: Any) -> str | None:
        value: str | None = getattr(row, dim)
        return value

    return pick

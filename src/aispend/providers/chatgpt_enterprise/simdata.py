"""Seeded synthetic ChatGPT Enterprise workspace behind the Codex Analytics simulator.

Fifty-odd people use Codex from a few clients (CLI, IDE extension, desktop app, web, cloud
tasks) with a few models; each (person, day) is one :class:`CodexDay` of per-client
threads, turns, credits and text tokens, per-model credits, and sometimes credits no client
explains. Code reviews are per day. Everything is a pure function of the seed and the day,
and the ground truth at the bottom sums the same objects the routes serve.

The response shape is not public (reference openai.md §5.1), so the routes render each row
in one of several :data:`SHAPES`; ``mixed`` (the default) rotates through all of them.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

__all__ = [
    "CLIENTS",
    "SHAPES",
    "ClientUse",
    "CodexDay",
    "CodexSettings",
    "CodexWorkspace",
    "ModelUse",
    "ReviewDay",
]

CLIENTS = ("CODEX_CLI", "CODEX_IDE_EXTENSION", "CODEX_DESKTOP_APP", "CODEX_WEB", "CODEX_CLOUD_TASKS")
MODELS = ("gpt-5-codex", "gpt-5.1-codex-max", "gpt-5.1-codex-mini")
SHAPES = ("documented", "actor", "flat", "totals_only", "strings")
CREDIT = Decimal("0.01")


@dataclass(frozen=True)
class CodexSettings:
    """Knobs of one simulated workspace; equal settings give equal data."""

    seed: int = 5
    today: date | None = None
    history_days: int = 120
    people: int = 56
    workspace_id: str = "ws_6f1c2b7e9d"
    key: str = "sk-proj-codexanalytics" + "x" * 40 + "Q1"
    unscoped_key: str = "sk-proj-unscoped" + "y" * 46 + "Z9"
    other_org_key: str = "sk-proj-otherorg" + "z" * 46 + "W7"
    shape: str = "mixed"
    rate_limit: tuple[int, float] = (60, 60.0)
    timeout_seconds: float = 5.0


@dataclass(frozen=True)
class ClientUse:
    client_id: str
    threads: int
    turns: int
    credits: Decimal
    uncached: int
    cached: int
    output: int


@dataclass(frozen=True)
class ModelUse:
    model: str
    credits: Decimal
    speed: str | None


@dataclass(frozen=True)
class CodexDay:
    """One person's Codex use on one day. ``extra_credits`` belong to no client."""

    day: date
    user_id: str
    email: str
    clients: tuple[ClientUse, ...]
    models: tuple[ModelUse, ...]
    extra_credits: Decimal = Decimal(0)

    @property
    def credits(self) -> Decimal:
        return sum((c.credits for c in self.clients), Decimal(0)) + self.extra_credits


@dataclass(frozen=True)
class ReviewDay:
    day: date
    pull_request_reviews: int
    comments: dict[str, int]  # per priority: p0, p1, p2
    replies: int
    reactions: dict[str, int]  # upvotes, downvotes, other
    responses: dict[str, int] = field(default_factory=dict)


def _person(n: int) -> tuple[str, str]:
    user_id = "user-" + hashlib.sha256(f"codex:{n}".encode()).hexdigest()[:16]
    email = f"dev{n:02d}@acme.example"
    if n % 7 == 3:  # as typed into the directory
        email = f"Dev{n:02d}@ACME.example"
    return user_id, email


class CodexWorkspace:
    """A deterministic workspace of Codex users and their days."""

    def __init__(self, settings: CodexSettings | None = None) -> None:
        self.settings = settings or CodexSettings()
        self.today: date = self.settings.today or datetime.now(UTC).date()
        self.first_day = self.today - timedelta(days=self.settings.history_days)
        self.people = [_person(n) for n in range(self.settings.people)]
        self._days: dict[date, list[CodexDay]] = {}
        self._lock = threading.Lock()

    def _generate(self, day: date) -> list[CodexDay]:
        rng = random.Random(f"{self.settings.seed}:{day.toordinal()}")
        weekday = day.weekday() < 5
        out = []
        for n, (user_id, email) in enumerate(self.people):
            if rng.random() > (0.6 if weekday else 0.15):
                continue
            clients = []
            for client in rng.sample(CLIENTS, rng.randint(1, 3)):
                turns = rng.randint(1, 60)
                uncached = turns * rng.randint(2_000, 9_000)
                clients.append(
                    ClientUse(
                        client_id=client,
                        threads=rng.randint(1, max(1, turns // 6)),
                        turns=turns,
                        credits=(Decimal(turns) * Decimal(rng.uniform(0.2, 1.4))).quantize(CREDIT),
                        uncached=uncached,
                        cached=uncached * rng.randint(2, 8),
                        output=uncached // rng.randint(4, 10),
                    )
                )
            total = sum((c.credits for c in clients), Decimal(0))
            extra = (Decimal(rng.randint(1, 400)) * CREDIT) if n % 13 == 0 else Decimal(0)
            chosen = rng.sample(MODELS, rng.randint(1, 2))
            first_share = (total + extra) if len(chosen) == 1 else ((total + extra) * 3 / 5).quantize(CREDIT)
            speeds = ("priority" if rng.random() < 0.1 else "standard") if n % 2 else None
            models = [ModelUse(chosen[0], first_share, speeds)]
            if len(chosen) == 2:
                models.append(ModelUse(chosen[1], total + extra - first_share, speeds))
            out.append(CodexDay(day, user_id, email, tuple(clients), tuple(models), extra))
        return out

    def days_of(self, day: date) -> list[CodexDay]:
        if not self.first_day <= day < self.today:
            return []
        with self._lock:
            if day not in self._days:
                self._days[day] = self._generate(day)
            return self._days[day]

    def shape_of(self, use: CodexDay) -> str:
        """How the route renders this row: the configured shape, or one of all when ``mixed``."""
        shape = self.settings.shape
        if shape == "mixed":
            digest = hashlib.sha256(f"{use.user_id}:{use.day}".encode()).digest()
            shape = SHAPES[digest[0] % len(SHAPES)]
        # Without totals, credits no client explains could not be shown at all.
        return "documented" if shape == "flat" and use.extra_credits else shape

    def reviews_of(self, day: date) -> ReviewDay | None:
        if not self.first_day <= day < self.today:
            return None
        rng = random.Random(f"{self.settings.seed}:reviews:{day.toordinal()}")
        reviews = rng.randint(0, 40)
        comments = {"p0": rng.randint(0, 3), "p1": rng.randint(0, reviews), "p2": rng.randint(0, 2 * reviews)}
        reactions = {
            "upvotes": rng.randint(0, 20),
            "downvotes": rng.randint(0, 5),
            "other": rng.randint(0, 3),
        }
        responses = {"engaged": rng.randint(0, 30), "replied": rng.randint(0, 10)}
        return ReviewDay(day, reviews, comments, rng.randint(0, 15), reactions, responses)

    # ------------------------------------------------------------------ ground truth

    def _range(self, since: date, until: date) -> list[date]:
        first, last = max(since, self.first_day), min(until, self.today - timedelta(days=1))
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def credits_by(self, pick: Callable[[CodexDay], str], since: date, until: date) -> dict[str, Decimal]:
        """Credits per ``pick(person-day)`` over the inclusive range."""
        out: dict[str, Decimal] = defaultdict(Decimal)
        for day in self._range(since, until):
            for use in self.days_of(day):
                out[pick(use)] += use.credits
        return dict(out)

    def credits_by_client(self, since: date, until: date) -> dict[str, Decimal]:
        """Credits per client id; ``""`` for credits no client explains."""
        out: dict[str, Decimal] = defaultdict(Decimal)
        for day in self._range(since, until):
            for use in self.days_of(day):
                if self.shape_of(use) == "totals_only":
                    out[""] += use.credits
                    continue
                for client in use.clients:
                    out[client.client_id] += client.credits
                if use.extra_credits:
                    out[""] += use.extra_credits
        return dict(out)

    def credits_by_model(self, since: date, until: date) -> dict[str, Decimal]:
        """Credits per model, of the rows that break credits down by model."""
        out: dict[str, Decimal] = defaultdict(Decimal)
        for day in self._range(since, until):
            for use in self.days_of(day):
                if self.shape_of(use) == "totals_only":
                    continue
                for model in use.models:
                    out[model.model] += model.credits
        return dict(out)

    def review_totals(self, since: date, until: date) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for day in self._range(since, until):
            review = self.reviews_of(day)
            if review is not None:
                out["pull_request_reviews"] += review.pull_request_reviews
                for priority, count in review.comments.items():
                    out[f"comments_{priority}"] += count
        return dict(out)

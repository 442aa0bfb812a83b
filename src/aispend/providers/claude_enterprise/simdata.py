"""Seeded synthetic Claude Enterprise organisation behind the simulator.

Sixty-odd people (a few deleted, some e-mails in mixed case) in RBAC groups and seat tiers,
each using a few products (chat, Claude Code, Cowork, Claude in Chrome, Office agent) with a
few models, plus API-key automation traffic that belongs to no person. Each day's finest
rows (:class:`Line`: one person, product, model, context window, geo, speed and hour) are
generated lazily from ``random.Random((seed, day, version))``; cost lines are priced from
them at list prices with the organisation's discount, in fractional cents, so the cost
report, the per-user reports and the ground truth at the bottom all sum the same tuples.

Nothing here imports the connector: the simulator must not share its assumptions.
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

__all__ = [
    "DATA_START",
    "READ_ANALYTICS",
    "READ_LIMITS",
    "WRITE_LIMITS",
    "CostLine",
    "EnterpriseSettings",
    "Line",
    "Person",
    "SimulatedEnterprise",
    "derived_key",
]

DATA_START = date(2026, 1, 1)
READ_ANALYTICS, READ_LIMITS, WRITE_LIMITS = "read:analytics", "read:spend_limits", "write:spend_limits"
CENT_QUANTUM = Decimal("0.000001")
DISCOUNT = Decimal("0.9")  # the organisation's contract: 10% off list
# model -> (input, output) USD per million tokens at list price
PRICES = {
    "claude-opus-4-6": (Decimal(5), Decimal(25)),
    "claude-sonnet-4-6": (Decimal(3), Decimal(15)),
    "claude-haiku-4-5": (Decimal(1), Decimal(5)),
}
# product -> models its people use
PRODUCT_MODELS = {
    "chat": ("claude-opus-4-6", "claude-sonnet-4-6"),
    "claude_code": ("claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5"),
    "cowork": ("claude-sonnet-4-6",),
    "claude_in_chrome": ("claude-haiku-4-5", "claude-sonnet-4-6"),
    "office_agent": ("claude-sonnet-4-6",),
}
GROUPS = ("grp_engineering", "grp_research", "grp_sales", "grp_finance", "grp_interns")
TOKEN_KINDS = (
    # (token_type, multiplier of the input or output price, priced as output?)
    ("uncached_input_tokens", Decimal(1), False),
    ("cache_creation.ephemeral_5m_input_tokens", Decimal("1.25"), False),
    ("cache_creation.ephemeral_1h_input_tokens", Decimal(2), False),
    ("cache_read_input_tokens", Decimal("0.1"), False),
    ("output_tokens", Decimal(1), True),
)
FIRST = ("Ada", "Ben", "Chloé", "Dev", "Eva", "Femi", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lena")
LAST = ("Okafor", "Smith", "Nakamura", "García", "Müller", "Rossi", "Chen", "Dubois", "Singh", "Berg")


def derived_key(seed: int, scopes: str) -> str:
    """A stable Enterprise key (``sk-ant-api01-…``) for a seed and a set of scopes."""
    digest = hashlib.sha512(f"aispend-claude-enterprise:{seed}:{scopes}".encode()).digest()
    return "sk-ant-api01-" + base64.urlsafe_b64encode(digest).decode("ascii")[:78] + "AA"


def _org_id(seed: int) -> str:
    return str(
        uuid.UUID(bytes=hashlib.sha256(f"aispend-claude-enterprise-org:{seed}".encode()).digest()[:16])
    )


@dataclass(frozen=True)
class EnterpriseSettings:
    """Knobs of one simulated organisation; equal settings give equal data.

    ``keys`` maps each accepted key to its scopes (by default: all three scopes, read-only,
    and analytics only). ``rate_limit`` is (requests, seconds) per organisation and family,
    the published 60 a minute; ``group_cap`` is how many groups a bucket keeps.
    """

    seed: int = 11
    today: date | None = None
    history_days: int = 120
    people: int = 64
    rate_limit: tuple[int, float] = (60, 60.0)
    group_cap: int = 100
    usage_credits: bool = True
    timeout_seconds: float = 5.0
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def full_key(self) -> str:
        return derived_key(self.seed, "all")

    @property
    def read_only_key(self) -> str:
        return derived_key(self.seed, "read")

    @property
    def analytics_key(self) -> str:
        return derived_key(self.seed, "analytics")

    def scopes(self) -> dict[str, tuple[str, ...]]:
        return self.keys or {
            self.full_key: (READ_ANALYTICS, READ_LIMITS, WRITE_LIMITS),
            self.read_only_key: (READ_ANALYTICS, READ_LIMITS),
            self.analytics_key: (READ_ANALYTICS,),
        }


class Person(NamedTuple):
    user_id: str
    email: str
    name: str
    seat_tier: str
    groups: tuple[str, ...]
    deleted_on: date | None
    products: tuple[str, ...]
    intensity: float


class Line(NamedTuple):
    """Token counts of one finest-grain group in one hour. ``user_id`` None: API-key traffic."""

    day: date
    hour: int
    user_id: str | None
    product: str | None
    model: str
    context_window: str
    inference_geo: str
    speed: str
    uncached_input_tokens: int
    cache_creation_5m: int
    cache_creation_1h: int
    cache_read_input_tokens: int
    output_tokens: int
    web_search_requests: int
    requests: int

    @property
    def tokens(self) -> int:
        """Every token: uncached input, cache writes and reads, output."""
        return (
            self.uncached_input_tokens
            + self.cache_creation_5m
            + self.cache_creation_1h
            + self.cache_read_input_tokens
            + self.output_tokens
        )


class CostLine(NamedTuple):
    """Cents billed for one kind of cost of one finest-grain group, after discount and at list."""

    day: date
    hour: int
    user_id: str | None
    product: str | None
    model: str | None
    context_window: str | None
    inference_geo: str | None
    speed: str | None
    cost_type: str
    token_type: str | None
    amount: Decimal
    list_amount: Decimal


def _people(rng: random.Random, count: int, first_day: date, today: date) -> list[Person]:
    people = []
    for n in range(count):
        first, last = FIRST[n % len(FIRST)], LAST[(n * 7 + n // len(FIRST)) % len(LAST)]
        local = f"{first}.{last}{n}".lower().replace("é", "e").replace("ü", "u").replace("í", "i")
        email = f"{local}@acme.example"
        if n % 9 == 4:  # the directory keeps what people typed
            email = f"{first}.{last}{n}@Acme.example".replace("é", "e").replace("ü", "u").replace("í", "i")
        groups = (GROUPS[n % 4],) if n % 11 else (GROUPS[n % 4], GROUPS[4])
        deleted_on = (
            first_day + timedelta(days=(today - first_day).days * (n % 5 + 1) // 7) if n % 16 == 5 else None
        )
        products = tuple(rng.sample(sorted(PRODUCT_MODELS), rng.randint(1, 3)))
        people.append(
            Person(
                user_id=f"user_01{hashlib.sha256(f'{n}'.encode()).hexdigest()[:20]}",
                email=email,
                name=f"{first} {last}",
                seat_tier="enterprise_premium" if n % 6 == 0 else "enterprise_standard",
                groups=groups,
                deleted_on=deleted_on,
                products=products,
                intensity=rng.uniform(0.3, 1.6),
            )
        )
    return people


def _line(rng: random.Random, day: date, user_id: str | None, product: str | None, scale: float) -> Line:
    model = rng.choice(PRODUCT_MODELS[product] if product else ("claude-sonnet-4-6",))
    long_context = model != "claude-haiku-4-5" and rng.random() < 0.06
    base = int(rng.lognormvariate(11, 0.8) * scale)
    return Line(
        day=day,
        hour=rng.randrange(24),
        user_id=user_id,
        product=product,
        model=model,
        context_window="200k-1M" if long_context else "0-200k",
        inference_geo="us" if rng.random() < 0.05 else "global",
        speed="fast" if model == "claude-opus-4-6" and rng.random() < 0.08 else "standard",
        uncached_input_tokens=base,
        cache_creation_5m=base // rng.randint(3, 9),
        cache_creation_1h=base // 20 if rng.random() < 0.3 else 0,
        cache_read_input_tokens=base * rng.randint(1, 6),
        output_tokens=base // rng.randint(3, 8),
        web_search_requests=rng.randint(1, 12) if product == "chat" and rng.random() < 0.3 else 0,
        requests=max(1, base // 4000),
    )


def price(line: Line) -> list[CostLine]:
    """The cost lines of one usage line, in cents: list price, then the discount."""
    price_in, price_out = PRICES[line.model]
    factor = Decimal(1)
    if line.context_window == "200k-1M":
        factor *= 2
    if line.inference_geo == "us":
        factor *= Decimal("1.1")
    if line.speed == "fast":
        factor *= 6
    counts = (
        line.uncached_input_tokens,
        line.cache_creation_5m,
        line.cache_creation_1h,
        line.cache_read_input_tokens,
        line.output_tokens,
    )
    out = []
    shape = (line.day, line.hour, line.user_id, line.product, line.model, line.context_window)
    for (token_type, multiplier, is_output), count in zip(TOKEN_KINDS, counts, strict=True):
        if count:
            list_cents = (
                count * (price_out if is_output else price_in) * multiplier * factor / 10_000
            ).quantize(CENT_QUANTUM)
            amount = (list_cents * DISCOUNT).quantize(CENT_QUANTUM)
            out.append(
                CostLine(*shape, line.inference_geo, line.speed, "tokens", token_type, amount, list_cents)
            )
    if line.web_search_requests:
        cents = Decimal(line.web_search_requests)  # $10 per thousand searches
        out.append(
            CostLine(
                line.day, line.hour, line.user_id, line.product, None, None, None, None, "web_search", None,
                (cents * DISCOUNT).quantize(CENT_QUANTUM), cents,
            )
        )  # fmt: skip
    return out


class _Day(NamedTuple):
    version: int
    lines: list[Line]
    cost: list[CostLine]


class SimulatedEnterprise:
    """A deterministic organisation: people, groups and lazily generated daily lines."""

    def __init__(self, settings: EnterpriseSettings | None = None) -> None:
        self.settings = settings or EnterpriseSettings()
        self.today: date = self.settings.today or datetime.now(UTC).date()
        self.first_day: date = max(DATA_START, self.today - timedelta(days=self.settings.history_days))
        self.organization_id = _org_id(self.settings.seed)
        self.people = _people(
            random.Random(f"{self.settings.seed}:people"), self.settings.people, self.first_day, self.today
        )
        self.by_id = {p.user_id: p for p in self.people}
        self._versions: dict[date, int] = {}
        self._days: dict[date, _Day] = {}
        self._lock = threading.RLock()

    def _generate(self, day: date, version: int) -> _Day:
        rng = random.Random(f"{self.settings.seed}:{day.toordinal()}:{version}")
        weekday = 1.0 if day.weekday() < 5 else 0.25
        lines: list[Line] = []
        for person in self.people:
            if person.deleted_on is not None and day >= person.deleted_on:
                continue
            for product in person.products:
                if rng.random() < 0.55 * weekday * min(1.0, person.intensity):
                    for _ in range(rng.randint(1, 2)):
                        lines.append(_line(rng, day, person.user_id, product, person.intensity))
        for _ in range(rng.randint(1, 3)):  # CI pipelines on an API key: no person behind them
            lines.append(_line(rng, day, None, "claude_code", 2.0))
        cost = [c for line in lines for c in price(line)]
        if rng.random() < 0.3:  # sandboxes: code execution with no product, model or person
            cents = Decimal(rng.randrange(500, 40_000)) / 1000
            cost.append(
                CostLine(day, 12, None, None, None, None, None, None, "code_execution", None, cents, cents)
            )
        return _Day(version, lines, cost)

    def _day(self, day: date) -> _Day:
        with self._lock:
            version = self._versions.get(day, 0)
            cached = self._days.get(day)
            if cached is None or cached.version != version:
                inside = self.first_day <= day < self.today
                cached = self._generate(day, version) if inside else _Day(version, [], [])
                self._days[day] = cached
            return cached

    def lines(self, day: date) -> list[Line]:
        return self._day(day).lines

    def cost_lines(self, day: date) -> list[CostLine]:
        return self._day(day).cost

    def restate(self, *days_ago: int) -> None:
        """Revise the given days (counted back from today), as the API does for 30 days."""
        with self._lock:
            for back in days_ago:
                day = self.today - timedelta(days=back)
                self._versions[day] = self._versions.get(day, 0) + 1

    def is_deleted(self, person: Person) -> bool:
        return person.deleted_on is not None and person.deleted_on <= self.today

    # ------------------------------------------------------------------ ground truth

    def days(self, since: date, until: date) -> list[date]:
        """Days with data in the inclusive range."""
        first, last = max(since, self.first_day), min(until, self.today - timedelta(days=1))
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def cost_usd_by(
        self, pick: Callable[[CostLine], str | None], since: date, until: date
    ) -> dict[str | None, Decimal]:
        """Exact dollars after discount per ``pick(line)`` over the inclusive range."""
        cents: dict[str | None, Decimal] = defaultdict(Decimal)
        for day in self.days(since, until):
            for line in self.cost_lines(day):
                cents[pick(line)] += line.amount
        return {key: value / 100 for key, value in cents.items()}

    def user_cost_usd(self, since: date, until: date) -> dict[str, Decimal]:
        """Exact dollars per person (lower-cased e-mail), seat traffic only."""
        by_id = self.cost_usd_by(lambda line: line.user_id, since, until)
        return {self.by_id[uid].email.lower(): usd for uid, usd in by_id.items() if uid is not None}

    def tokens_by(
        self, pick: Callable[[Line], str | None], since: date, until: date
    ) -> dict[str | None, int]:
        """Total tokens (input, cache writes and reads, output) per ``pick(line)``."""
        totals: dict[str | None, int] = defaultdict(int)
        for day in self.days(since, until):
            for line in self.lines(day):
                totals[pick(line)] += line.tokens
        return dict(totals)

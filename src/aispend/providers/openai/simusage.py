"""Seeded generator of one day's finest-grain usage across the ten usage endpoints.

Every source of traffic has a :class:`Traffic` profile: a project API key, or a user in
the Playground (no key), with the models it calls, the dollars a day it spends on
completions, its token habits and flags naming what else it does. Projects add their
own, key-less usage: vector-store storage and code-interpreter sessions
(:class:`ProjectTraffic`). :func:`generate_usage` turns the profiles into one day of
:class:`~.simrows.UsageRow` per endpoint from a ``random.Random`` seeded with
``(seed, day)``, then replays ``version`` restatements on top, so any day and any revision
of it can be produced on its own and in any order.

Flags: ``b`` batch, ``x`` flex, ``p`` priority, ``v`` image inputs, ``w`` web search, ``k``
file search, ``e``/``E`` small/large embeddings, ``m`` moderations, ``i`` images, ``s``
speech, ``t`` transcription.

Two readings the reference leaves open, chosen here: usage from a service-account key
carries ``user_id`` null, and Batch API usage is ``batch: true`` with ``service_tier``
``"default"`` (the tiers apply to synchronous requests only).
"""

from __future__ import annotations

import functools
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from aispend.providers.openai.simprices import REASONING, price_per_mtok
from aispend.providers.openai.simrows import COMPLETION_COUNTS, COMPLETION_KINDS, ENDPOINTS, Dim, UsageRow

__all__ = ["ProjectTraffic", "Traffic", "generate_usage", "habits"]

_MIB = 1 << 20


@dataclass(frozen=True)
class Traffic:
    """How one API key (``api_key_id`` None: a user in the Playground) spends."""

    project_id: str
    api_key_id: str | None
    user_id: str | None
    models: tuple[tuple[str, float], ...]
    budget: float  # completions dollars a day at unit growth
    flags: str
    first_day: date
    stop_day: date | None
    ratios: tuple[float, float, float, float]  # output, cached, cache-write, image per text input


@dataclass(frozen=True)
class ProjectTraffic:
    """A project's own usage: its vector stores and its code-interpreter sessions."""

    project_id: str
    vector_stores: tuple[tuple[str, date, int, int], ...]  # id, created, MiB then, MiB/day growth
    sessions: float  # code-interpreter sessions a weekday at unit growth
    first_day: date
    stop_day: date | None


def habits(rng: random.Random) -> tuple[float, float, float, float]:
    """A key's token habits: output, cached, cache-write and image tokens per uncached text token."""
    return rng.uniform(0.1, 0.4), rng.uniform(0.3, 3.0), rng.uniform(0.0, 0.08), rng.uniform(0.05, 0.3)


def _stored_mib(created: date, mib: int, growth: int, day: date) -> int:
    """MiB a vector store holds on ``day``: grows linearly, kept to whole 4 MiB blocks.

    Whole 4 MiB blocks keep GiB-day prices exact at ten decimal places.
    """
    size = mib + growth * (day - created).days
    return size - size % 4


# model -> (first day it existed, what the same traffic used before, None: nothing)
_RELEASED: dict[str, tuple[date, str | None]] = {
    "gpt-4.1-2025-04-14": (date(2025, 4, 14), "gpt-4o-2024-08-06"),
    "gpt-4.1-mini-2025-04-14": (date(2025, 4, 14), "gpt-4o-mini-2024-07-18"),
    "o3-2025-04-16": (date(2025, 4, 16), "gpt-4o-2024-08-06"),
    "o4-mini-2025-04-16": (date(2025, 4, 16), "gpt-4o-mini-2024-07-18"),
    "gpt-5-2025-08-07": (date(2025, 8, 7), "gpt-4.1-2025-04-14"),
    "gpt-5-mini-2025-08-07": (date(2025, 8, 7), "gpt-4.1-mini-2025-04-14"),
    "gpt-realtime-2025-08-28": (date(2025, 8, 28), None),
    "gpt-image-1": (date(2025, 4, 23), None),
}
_FLEX = frozenset({"o3-2025-04-16", "o4-mini-2025-04-16", "gpt-5-2025-08-07", "gpt-5-mini-2025-08-07"})
_SPECIAL = frozenset({"gpt-realtime-2025-08-28", "gpt-image-1"})  # no batch or tiers
# Search context sizes and their shares: reasoning models mostly keep the default.
_SEARCH_LEVELS = {
    False: (("low", 0.3), ("medium", 0.5), ("high", 0.2)),
    True: (("medium", 0.8), ("high", 0.2)),
}


def _model_on(model: str, day: date) -> str | None:
    while model in _RELEASED and day < _RELEASED[model][0]:
        successor = _RELEASED[model][1]
        if successor is None:
            return None
        model = successor
    return model


def _day_factor(day: date, today: date) -> float:
    age = (today - day).days
    growth = 1.5 - 0.5 * age / 365  # +50% over the last year, linear
    if age == 20:
        return 4.0 * growth  # the incident day the demo's anomaly view should catch
    return growth * (0.35 if day.weekday() >= 5 else 1.0)


def _tiers(model: str, flags: str) -> tuple[tuple[bool, str, float], ...]:
    """The (batch, service tier, budget share) combinations a key spreads a model over."""
    if model in _SPECIAL:
        return ((False, "default", 1.0),)
    shapes = [(False, "default", 1.0)]
    for flag, shape in (("b", (True, "default", 0.4)), ("p", (False, "priority", 0.2))):
        if flag in flags:
            shapes.append(shape)
    if "x" in flags and model in _FLEX:
        shapes.append((False, "flex", 0.35))
    total = sum(s for _, _, s in shapes)
    return tuple((b, t, s / total) for b, t, s in shapes)


class _Rows:
    """Finest rows of one day under construction; equal group keys add up."""

    def __init__(self) -> None:
        self.sums: dict[str, dict[tuple[Dim, ...], list[int]]] = defaultdict(dict)

    def add(self, endpoint: str, dims: dict[str, Dim], counts: tuple[int, ...]) -> None:
        spec = ENDPOINTS[endpoint]
        key = tuple(dims[d] for d in spec.dims)
        acc = self.sums[endpoint].setdefault(key, [0] * len(spec.counts))
        for i, value in enumerate(counts):
            acc[i] += value

    def rows(self, day: date) -> dict[str, list[UsageRow]]:
        out: dict[str, list[UsageRow]] = {}
        for name in ENDPOINTS:
            sums = self.sums.get(name, {})
            keys = sorted(sums, key=lambda k: tuple((v is not None, str(v)) for v in k))
            out[name] = [UsageRow(day, k, tuple(sums[k])) for k in keys if any(sums[k])]
        return out


def generate_usage(
    seed: int,
    day: date,
    version: int,
    today: date,
    keys: list[Traffic],
    projects: list[ProjectTraffic],
) -> dict[str, list[UsageRow]]:
    """Usage of ``day`` as revised ``version`` times, per endpoint; a pure function of its arguments."""
    rng = random.Random(f"{seed}:{day.toordinal()}:0")
    factor = _day_factor(day, today)
    presence = 0.8 if day.weekday() >= 5 else 0.95
    rows = _Rows()
    stores: dict[str, list[str]] = {
        proj.project_id: [vs for vs, created, _, _ in proj.vector_stores if created <= day]
        for proj in projects
    }
    for prof in keys:
        if day < prof.first_day or (prof.stop_day is not None and day >= prof.stop_day):
            continue
        who: dict[str, Dim] = {
            "project_id": prof.project_id,
            "user_id": prof.user_id,
            "api_key_id": prof.api_key_id,
        }
        budget = prof.budget * factor * rng.uniform(0.8, 1.2)
        for listed, weight in prof.models:
            model = _model_on(listed, day)
            if model is None:
                continue
            for batch, tier, share in _tiers(model, prof.flags):
                if rng.random() > presence:
                    continue
                dollars = budget * weight * share * rng.uniform(0.85, 1.15)
                counts = _completion(rng, model, batch, tier, day, prof, dollars)
                rows.add("completions", {**who, "model": model, "batch": batch, "service_tier": tier}, counts)
        _extras(rng, day, prof, factor, who, rows)
        if "k" in prof.flags:
            for store in stores.get(prof.project_id, ()):
                searches = int(prof.budget * factor * rng.uniform(0.5, 2.0))
                rows.add("file_search_calls", {**who, "vector_store_id": store}, (searches,))
    for proj in projects:
        _project_usage(rng, day, proj, factor, rows)
    out = rows.rows(day)
    # Each revision has its own stream, so revision k is the same whichever version is asked.
    for k in range(1, version + 1):
        out = _restated(random.Random(f"{seed}:{day.toordinal()}:{k}"), out)
    return out


@functools.cache
def _unit_price(model: str, kind: str, tier: str, day: date) -> float:
    """Float dollars per token; only used to size token counts, never to bill."""
    return float(price_per_mtok(model, kind, tier, day)) / 1e6


def _completion(
    rng: random.Random, model: str, batch: bool, tier: str, day: date, prof: Traffic, dollars: float
) -> tuple[int, ...]:
    """Counts (``COMPLETION_COUNTS`` order) of one row whose list-price cost is about ``dollars``."""
    r_out, r_cached, r_write, r_image = (r * rng.uniform(0.8, 1.2) for r in prof.ratios)
    ratios = dict.fromkeys(COMPLETION_COUNTS, 0.0)
    ratios.update(input_text_tokens=1.0, input_cached_text_tokens=r_cached)
    if model == "gpt-image-1":
        ratios.update(input_image_tokens=r_image, output_image_tokens=r_out * 0.5)
    else:
        ratios.update(output_text_tokens=r_out, input_cache_write_tokens=r_write)
        if "v" in prof.flags:
            ratios.update(input_image_tokens=r_image, input_cached_image_tokens=r_image * r_cached * 0.5)
    if model == "gpt-realtime-2025-08-28":
        ratios.update(
            input_audio_tokens=1.5, input_cached_audio_tokens=1.5 * r_cached, output_audio_tokens=r_out * 2
        )
    price_tier = "batch" if batch else tier
    unit = sum(r * _unit_price(model, COMPLETION_KINDS[f], price_tier, day) for f, r in ratios.items() if r)
    base = max(1, int(dollars / unit))
    tokens = {f: int(base * r) for f, r in ratios.items()}
    prompt = tokens["input_text_tokens"] + tokens["input_cached_text_tokens"]
    tokens["num_model_requests"] = max(1, int(prompt / rng.uniform(600, 4000)))
    return tuple(tokens[f] for f in COMPLETION_COUNTS)


def _extras(
    rng: random.Random, day: date, prof: Traffic, factor: float, who: dict[str, Dim], rows: _Rows
) -> None:
    """A key's usage outside completions, as its flags say."""
    flags, u = prof.flags, rng.uniform
    for flag, model in (("e", "text-embedding-3-small"), ("E", "text-embedding-3-large")):
        if flag in flags:
            tokens = int(u(2e6, 2e7) * factor)
            rows.add("embeddings", {**who, "model": model}, (tokens, max(1, int(tokens / u(300, 3000)))))
    if "m" in flags:
        tokens = int(u(2e5, 2e6) * factor)
        rows.add(
            "moderations",
            {**who, "model": "omni-moderation-2024-09-26"},
            (tokens, max(1, int(tokens / u(100, 400)))),
        )
    if "i" in flags:
        for model, size, source, mean, per_request in (
            ("dall-e-3", "1024x1024", "image.generation", 40, 1),
            ("dall-e-3", "1024x1792", "image.generation", 15, 1),
            ("dall-e-2", "512x512", "image.edit", 10, 1),
            ("dall-e-2", "256x256", "image.variation", 8, 2),
        ):
            images = int(mean * factor * u(0.5, 1.5))
            if not images:
                continue
            dims: dict[str, Dim] = {**who, "model": model, "size": size, "source": source}
            rows.add("images", dims, (images, max(1, images // per_request)))
    if "s" in flags:
        chars = int(u(1e5, 6e5) * factor)
        rows.add("audio_speeches", {**who, "model": "tts-1"}, (chars, max(1, int(chars / u(200, 1200)))))
    if "t" in flags:
        seconds = int(u(2e3, 2e4) * factor)
        rows.add(
            "audio_transcriptions",
            {**who, "model": "whisper-1"},
            (seconds, max(1, int(seconds / u(30, 300)))),
        )
    if "w" in flags:
        for listed, weight in prof.models[:2]:
            searcher = _model_on(listed, day)
            if searcher is None or searcher in _SPECIAL:
                continue
            levels = _SEARCH_LEVELS[searcher.startswith(REASONING)]
            for level, share in levels:
                model_requests = int(prof.budget * weight * share * factor * u(0.3, 0.9))
                searches = int(model_requests * u(1.0, 2.5))
                rows.add(
                    "web_search_calls",
                    {**who, "model": searcher, "context_level": level},
                    (model_requests, searches),
                )


def _project_usage(rng: random.Random, day: date, proj: ProjectTraffic, factor: float, rows: _Rows) -> None:
    """A project's key-less usage: what its vector stores hold and its code-interpreter sessions."""
    if day < proj.first_day or (proj.stop_day is not None and day >= proj.stop_day):
        return
    stored = sum(
        _stored_mib(created, mib, growth, day)
        for _, created, mib, growth in proj.vector_stores
        if day >= created
    )
    if stored:
        rows.add("vector_stores", {"project_id": proj.project_id}, (stored * _MIB,))
    if proj.sessions:
        sessions = int(proj.sessions * factor * rng.uniform(0.5, 1.5))
        rows.add("code_interpreter_sessions", {"project_id": proj.project_id}, (sessions,))


def _restated(rng: random.Random, rows: dict[str, list[UsageRow]]) -> dict[str, list[UsageRow]]:
    """A late correction: metered rows grow a few percent and one completions row disappears.

    Vector-store storage is a snapshot, not metered traffic, so it stays as it was.
    """
    out: dict[str, list[UsageRow]] = {}
    for name, day_rows in rows.items():
        if ENDPOINTS[name].gauge or not day_rows:
            out[name] = day_rows
            continue
        dropped = rng.randrange(len(day_rows)) if name == "completions" else -1
        out[name] = [
            UsageRow(row.day, row.dims, tuple(int(v * rng.uniform(1.04, 1.10)) for v in row.counts))
            for i, row in enumerate(day_rows)
            if i != dropped
        ]
    return out

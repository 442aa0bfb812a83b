"""The simulated costs are the usage at list prices, exactly, and the ground truth agrees.

Prices are written out again here from reference §6 (and the simulator's marked
*plausible* figures) rather than imported, so a wrong price in ``simprices`` cannot make
these tests agree with it.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from aispend.providers.openai.simdata import OpenAISimulatorSettings
from aispend.providers.openai.simprices import price_per_mtok
from aispend.providers.openai.simulator import OpenAISimulator
from tests.providers.openai.test_simulator import COSTS, TODAY, USAGE, Api, day_of, results, window

M = Decimal(1_000_000)
# model -> input, cached input, output (USD per 1M tokens)
TEXT: dict[str, tuple[str, str, str]] = {
    "gpt-4o-2024-08-06": ("2.50", "1.25", "10"),
    "gpt-4o-mini-2024-07-18": ("0.15", "0.075", "0.60"),
    "gpt-4.1-2025-04-14": ("2.00", "0.50", "8"),
    "gpt-4.1-mini-2025-04-14": ("0.40", "0.10", "1.60"),
    "o4-mini-2025-04-16": ("1.10", "0.275", "4.40"),
    "gpt-5-2025-08-07": ("1.25", "0.125", "10"),
    "gpt-5-mini-2025-08-07": ("0.25", "0.025", "2"),
    "gpt-realtime-2025-08-28": ("4", "0.40", "16"),
    "gpt-image-1": ("5", "1.25", "0"),
}
O3_CUT = date(2025, 6, 10)
EXTRA = {  # kind -> model -> price, where it is not the text input price
    "audio input": {"gpt-realtime-2025-08-28": "32"},
    "audio output": {"gpt-realtime-2025-08-28": "64"},
    "image input": {"gpt-image-1": "10"},
    "image output": {"gpt-image-1": "40"},
}
TIER = {"default": Decimal(1), "batch": Decimal("0.5"), "flex": Decimal("0.5"), "priority": Decimal(2)}
EMBEDDING = {"text-embedding-3-small": Decimal("0.02"), "text-embedding-3-large": Decimal("0.13")}
IMAGE = {
    ("dall-e-3", "1024x1024"): Decimal("0.04"),
    ("dall-e-3", "1024x1792"): Decimal("0.08"),
    ("dall-e-2", "512x512"): Decimal("0.018"),
    ("dall-e-2", "256x256"): Decimal("0.016"),
}
SEARCH = {"low": Decimal("0.025"), "medium": Decimal("0.0275"), "high": Decimal("0.03")}
FIELDS = {  # token kind -> usage result field
    "input": "input_text_tokens",
    "cached input": "input_cached_tokens",
    "cache write input": "input_cache_write_tokens",
    "output": "output_text_tokens",
    "audio input": "input_audio_tokens",
    "audio output": "output_audio_tokens",
    "image input": "input_image_tokens",
    "image output": "output_image_tokens",
}
MODEL_LESS = {"input": "input_tokens", "cached input": "cached_input_tokens", "output": "output_tokens"}
# project, key, user, model, line item, token kind (None: not tokens)
Key = tuple[str, str | None, str | None, str, str, str | None]


def per_mtok(model: str, kind: str, day: date) -> Decimal:
    if model == "o3-2025-04-16":
        inp, cached, out = ("10.00", "2.50", "40") if day < O3_CUT else ("2.00", "0.50", "8")
    else:
        inp, cached, out = TEXT[model]
    special = EXTRA.get(kind, {}).get(model)
    if special is not None:
        return Decimal(special)
    return Decimal({"cached input": cached, "output": out}.get(kind, inp))


def expected_costs(api: Api, day: date) -> dict[Key, Decimal]:
    """Every line's dollars on ``day`` by model and user, priced independently of the simulator."""
    org = api.sim.org
    out: dict[Key, Decimal] = defaultdict(Decimal)
    for r in org.usage_rows("completions", day):
        tier = "batch" if r["batch"] else r["service_tier"]
        for kind, field in FIELDS.items():
            if r[field]:
                line = f"{r['model']}, {kind}" if tier == "default" else f"{r['model']}, {tier} {kind}"
                price = per_mtok(r["model"], kind, day) * TIER[tier]
                key: Key = (r["project_id"], r["api_key_id"], r["user_id"], r["model"], line, kind)
                out[key] += r[field] * price / M
    for r in org.usage_rows("embeddings", day):
        key = (r["project_id"], r["api_key_id"], r["user_id"], r["model"], f"{r['model']}, input", None)
        out[key] += r["input_tokens"] * EMBEDDING[r["model"]] / M
    for r in org.usage_rows("images", day):
        key = (r["project_id"], r["api_key_id"], r["user_id"], r["model"], f"{r['model']}, images", None)
        out[key] += r["images"] * IMAGE[(r["model"], r["size"])]
    for r in org.usage_rows("audio_speeches", day):
        key = (r["project_id"], r["api_key_id"], r["user_id"], r["model"], f"{r['model']}, characters", None)
        out[key] += r["characters"] * Decimal(15) / M
    for r in org.usage_rows("audio_transcriptions", day):
        key = (r["project_id"], r["api_key_id"], r["user_id"], r["model"], f"{r['model']}, seconds", None)
        out[key] += r["seconds"] * Decimal("0.006") / 60
    for r in org.usage_rows("web_search_calls", day):
        flat = r["model"].startswith(("o3", "o4", "gpt-5"))
        line = "web search tool calls" if flat else f"web search tool calls, {r['context_level']} context"
        price = Decimal("0.01") if flat else SEARCH[r["context_level"]]
        out[(r["project_id"], r["api_key_id"], r["user_id"], "", line, None)] += r["num_requests"] * price
    for r in org.usage_rows("file_search_calls", day):
        key = (r["project_id"], r["api_key_id"], r["user_id"], "", "file search tool calls", None)
        out[key] += r["num_requests"] * Decimal("0.0025")
    for r in org.usage_rows("code_interpreter_sessions", day):
        out[(r["project_id"], None, None, "", "code interpreter sessions", None)] += r[
            "num_sessions"
        ] * Decimal("0.03")
    for r in org.usage_rows("vector_stores", day):
        out[(r["project_id"], None, None, "", "vector store storage", None)] += (
            r["usage_bytes"] * Decimal("0.10") / 2**30
        )
    return dict(out)


def model_less_days(api: Api) -> list[date]:
    org = api.sim.org
    days = [org.first_day + timedelta(days=i) for i in range((TODAY - org.first_day).days)]
    return [d for d in days if any(c.line_item in MODEL_LESS.values() for c in org.cost_records(d))]


@pytest.fixture(scope="module")
def api() -> Api:
    return Api(OpenAISimulator(OpenAISimulatorSettings(today=TODAY)))


def served(key: Key, merged: set[str]) -> str:
    """The line item a component is billed under: model-less on its project's merged days."""
    project, _, _, _, line, kind = key
    return MODEL_LESS[kind] if project in merged and kind in MODEL_LESS else line


def check_costs_match_usage(api: Api, since: date, until: date) -> None:
    """Served lines per project and key equal their usage priced here, and nothing is missing."""
    params = window(since, until) + [("group_by", g) for g in ("project_id", "api_key_id", "line_item")]
    for bucket in api.walk(COSTS, params):
        day = day_of(bucket["start_time"])
        merged = {c.project_id for c in api.sim.org.cost_records(day) if c.line_item in MODEL_LESS.values()}
        want: dict[tuple[str, str | None, str], Decimal] = defaultdict(Decimal)
        for key, amount in expected_costs(api, day).items():
            want[(key[0], key[1], served(key, merged))] += amount
        got = {
            (r["project_id"], r["api_key_id"], r["line_item"]): Decimal(str(r["amount"]["value"]))
            for r in bucket["results"]
        }
        assert got == dict(want), day


def test_price_table_regressions() -> None:
    day = date(2026, 1, 5)
    assert price_per_mtok("gpt-4o-mini-2024-07-18", "cached input", "batch", day) == Decimal("0.0375")
    assert price_per_mtok("gpt-5-2025-08-07", "output", "priority", day) == Decimal(20)
    assert price_per_mtok("gpt-5-mini-2025-08-07", "input", "flex", day) == Decimal("0.125")
    assert price_per_mtok("o4-mini-2025-04-16", "cache write input", "default", day) == Decimal("1.10")
    assert price_per_mtok("gpt-4.1-2025-04-14", "image input", "default", day) == Decimal(2)
    assert price_per_mtok("o3-2025-04-16", "input", "default", date(2025, 6, 9)) == Decimal(10)
    assert price_per_mtok("o3-2025-04-16", "input", "default", O3_CUT) == Decimal(2)
    with pytest.raises(ValueError, match="audio"):
        price_per_mtok("gpt-4o-2024-08-06", "audio input", "default", day)
    for model in TEXT:
        for kind in FIELDS:
            try:
                listed = price_per_mtok(model, kind, "default", day)
            except ValueError:
                continue
            assert listed == per_mtok(model, kind, day), (model, kind)


def test_costs_equal_usage_at_list_prices(api: Api) -> None:
    check_costs_match_usage(api, TODAY - timedelta(days=21), TODAY - timedelta(days=1))
    check_costs_match_usage(api, O3_CUT - timedelta(days=3), O3_CUT + timedelta(days=2))  # o3's price cut
    merged = model_less_days(api)
    assert 15 <= len(merged) <= 60  # about one day in twelve
    for day in merged[:3]:
        check_costs_match_usage(api, day, day)


def test_model_less_lines_replace_a_whole_kind_of_one_project(api: Api) -> None:
    day = model_less_days(api)[0]
    records = api.sim.org.cost_records(day)
    (project,) = {c.project_id for c in records if c.line_item in MODEL_LESS.values()}
    mine = [c for c in records if c.project_id == project]
    assert {c.line_item for c in mine} >= set(MODEL_LESS.values())
    merged_kind = re.compile(r", (?:(?:batch|flex|priority) )?(?:input|cached input|output)$")
    completions = {*TEXT, "o3-2025-04-16"}
    assert not any(merged_kind.search(c.line_item) for c in mine if c.model in completions)
    assert all(c.model in completions for c in mine if c.line_item in MODEL_LESS.values())
    others = [c for c in records if c.project_id != project]
    assert any(c.line_item.endswith(", input") for c in others)


def test_costs_agree_with_the_ground_truth_at_every_grouping(api: Api) -> None:
    org = api.sim.org
    since, until = TODAY - timedelta(days=45), TODAY - timedelta(days=1)
    total = org.total_cost_usd(since, until)
    for groups in (
        (),
        ("project_id",),
        ("line_item",),
        ("api_key_id",),
        ("project_id", "api_key_id", "line_item"),
    ):
        buckets = list(api.walk(COSTS, window(since, until, 180) + [("group_by", g) for g in groups]))
        assert len(buckets) == 45
        rows = [r for b in buckets for r in b["results"]]
        assert sum(Decimal(str(r["amount"]["value"])) for r in rows) == total, groups
        for r in rows:
            assert r["amount"]["currency"] == "usd"
            for field in ("project_id", "line_item", "api_key_id"):
                if field not in groups:
                    assert r[field] is None
            assert (r["quantity"] is None) == ("line_item" not in groups)
            if "line_item" not in groups:
                assert r["quantity_unit"] is None
        for dim in groups:
            served: dict[str | None, Decimal] = defaultdict(Decimal)
            for r in rows:
                served[r[dim]] += Decimal(str(r["amount"]["value"]))
            assert dict(served) == org.cost_usd_by(dim, since, until), dim
        if not groups:
            by_day = {
                day_of(b["start_time"]).isoformat(): Decimal(str(b["results"][0]["amount"]["value"]))
                for b in buckets
            }
            assert by_day == org.cost_usd_by("day", since, until)
    for dim in ("project_id", "api_key_id", "user_id", "model", "line_item", "day"):
        assert sum(org.cost_usd_by(dim, since, until).values()) == total, dim


def test_cost_per_user_and_model_is_their_priced_usage(api: Api) -> None:
    org = api.sim.org
    since, until = TODAY - timedelta(days=10), TODAY - timedelta(days=1)
    by_user: dict[str | None, Decimal] = defaultdict(Decimal)
    by_model: dict[str, Decimal] = defaultdict(Decimal)
    for day in (since + timedelta(days=i) for i in range(10)):
        for key, amount in expected_costs(api, day).items():
            by_user[key[2]] += amount
            by_model[key[3]] += amount
    assert org.cost_usd_by("user_id", since, until) == dict(by_user)
    assert org.cost_usd_by("model", since, until) == dict(by_model)
    assert None in by_user  # service accounts, storage and sessions have no user
    assert "" in by_model  # tools, sessions and storage have no model


def test_amounts_are_exact_json_numbers_and_quantities_follow_line_items(api: Api) -> None:
    since, until = TODAY - timedelta(days=4), TODAY - timedelta(days=1)
    response = api.get(COSTS, [*window(since, until), ("group_by", "line_item"), ("group_by", "api_key_id")])
    values = re.findall(r'"value":([^,}]+)', response.text)
    assert values
    assert all(re.fullmatch(r"\d+(\.\d{1,10})?", v) for v in values)  # plain numbers, <= 10 places
    body = json.loads(response.text, parse_float=Decimal)
    rows = [r for b in body["data"] for r in b["results"]]
    assert sum(r["amount"]["value"] for r in rows) == api.sim.org.total_cost_usd(since, until)
    units = {r["line_item"]: r["quantity_unit"] for r in rows}
    assert units["vector store storage"] == "gibibyte_hours"
    assert units["code interpreter sessions"] is None
    assert units["dall-e-3, images"] == "images"
    assert units["tts-1, characters"] == "characters"
    assert units["whisper-1, seconds"] == "duration_seconds"
    assert all(unit == "tokens" for line, unit in units.items() if line.startswith("gpt-"))
    keyless = {r["line_item"] for r in rows if r["api_key_id"] is None}
    assert {"vector store storage", "code interpreter sessions"} <= keyless
    assert not any(
        r["api_key_id"] is not None
        for r in rows
        if r["line_item"] in ("vector store storage", "code interpreter sessions")
    )
    images = sum(r["quantity"] for r in rows if r["line_item"].endswith(", images"))
    assert images == sum(api.sim.org.quantity_by("images", "day", since, until).values())


def test_token_and_quantity_truth_match_the_usage_endpoints(api: Api) -> None:
    org = api.sim.org
    since, until = TODAY - timedelta(days=12), TODAY - timedelta(days=1)
    base = window(since, until)
    for dim in ("model", "project_id", "user_id", "api_key_id"):
        truth = org.tokens_by(dim, since, until)
        served: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for r in results(api, f"{USAGE}/completions", [*base, ("group_by", dim)]):
            acc = served[r[dim]]
            acc["input_tokens"] += r["input_uncached_tokens"]
            acc["cache_write_tokens"] += r["input_cache_write_tokens"]
            acc["cache_read_tokens"] += r["input_cached_tokens"]
            acc["output_tokens"] += r["output_tokens"]
            acc["requests"] += r["num_model_requests"]
        for endpoint in ("embeddings", "moderations"):
            for r in results(api, f"{USAGE}/{endpoint}", [*base, ("group_by", dim)]):
                served[r[dim]]["input_tokens"] += r["input_tokens"]
                served[r[dim]]["requests"] += r["num_model_requests"]
        assert {k: {f: n for f, n in v.items() if n} for k, v in served.items()} == {
            k: {f: n for f, n in v.items() if n} for k, v in truth.items()
        }, dim
    tiers = org.tokens_by("service_tier", since, until)
    assert set(tiers) == {"default", "flex", "priority", None}
    assert set(org.tokens_by("batch", since, until)) == {True, False, None}
    for unit, endpoint, field in (
        ("images", "images", "images"),
        ("characters", "audio_speeches", "characters"),
        ("seconds", "audio_transcriptions", "seconds"),
        ("byte_days", "vector_stores", "usage_bytes"),
        ("sessions", "code_interpreter_sessions", "num_sessions"),
    ):
        served_total: dict[Any, int] = defaultdict(int)
        for r in results(api, f"{USAGE}/{endpoint}", [*base, ("group_by", "project_id")]):
            served_total[r["project_id"]] += r[field]
        assert org.quantity_by(unit, "project_id", since, until) == dict(served_total), unit
    calls: dict[Any, int] = defaultdict(int)
    for endpoint in ("file_search_calls", "web_search_calls"):
        for r in results(api, f"{USAGE}/{endpoint}", [*base, ("group_by", "api_key_id")]):
            calls[r["api_key_id"]] += r["num_requests"]
    assert org.quantity_by("calls", "api_key_id", since, until) == dict(calls)
    with pytest.raises(ValueError, match="unit"):
        org.quantity_by("tokens", "day", since, until)
    with pytest.raises(ValueError, match="dim"):
        org.cost_usd_by("colour", since, until)

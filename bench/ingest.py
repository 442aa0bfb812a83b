"""Benchmark: how fast aispend's real write path stores usage facts, against raw sqlite3.

Builds N synthetic ``UsageRecord`` objects (default 500,000: about 1,370 a day over 365 days,
with varied model, workspace, API key, service tier, context window and geo), then times:

1. aispend, first import: ``replace_usage_day`` per day, one session (transaction) per day,
   exactly as the sync writes a page, into a fresh migrated SQLite database.
2. aispend, second import of the same rows (the idempotent re-import path).
3. raw ``sqlite3.executemany`` of the same rows (plain ints, strings, ISO dates) with the same
   upsert statement, into a fresh database built by the same migrations, same pragmas, one
   transaction per day; then its second pass; and, for reference, a plain INSERT.

Run: ``python bench/ingest.py [--facts 500000] [--days 365] [--profile] [--json]``.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import math
import pstats
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from aispend.model import UsageRecord
from aispend.store.db import Database
from aispend.store.facts import replace_usage_day
from aispend.store.schema import USAGE_DIMENSIONS, USAGE_MEASURES, Connection
from aispend.store.types import MONEY_SCALE, to_stored_money
from machine import machine_info, print_machine  # bench/ is on sys.path when run as a script

TARGET_FACTS_PER_S = 100_000
TARGET_SHARE_OF_RAW = 0.40
STREAM = "messages"
FIRST_DAY = date(2025, 1, 1)
MODELS = (
    "claude-opus-4-6",
    "claude-sonnet-4-6",
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-1-20250805",
    "claude-3-5-haiku-20241022",
)
TIERS = ("standard", "batch", "priority")
CONTEXTS = ("0-200k", "200k-1M")
GEOS = ("global", "us", "not_available")
WORKSPACE_COUNT = 6  # plus the Default workspace ("")
# Column order of the raw path; the values are what aispend binds (dates as ISO text, money as units).
COLUMNS = ("org_id", "connection_id", "day", *USAGE_DIMENSIONS, *USAGE_MEASURES)
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=30000",
)
Day = tuple[date, list[UsageRecord]]
RawDay = list[tuple[Any, ...]]


# --------------------------------------------------------------------------- synthetic facts


def _ident(rng: random.Random, prefix: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789"
    return prefix + "01" + "".join(rng.choice(alphabet) for _ in range(22))


def build_days(facts: int, days: int, seed: int) -> list[Day]:
    """``facts`` distinct usage records spread evenly over ``days`` days, with realistic dims."""
    rng = random.Random(seed)
    per_day = math.ceil(facts / days)
    shapes = len(MODELS) * len(TIERS) * len(CONTEXTS) * len(GEOS)
    # Enough API keys that a day's rows are a sparse sample of (key, model, tier, context, geo).
    key_count = max(60, math.ceil(per_day * 3 / shapes))
    workspaces = ["", *(_ident(rng, "wrkspc_") for _ in range(WORKSPACE_COUNT))]
    keys = [("", "")] + [
        (_ident(rng, "apikey_"), workspaces[rng.randrange(len(workspaces))]) for _ in range(key_count - 1)
    ]
    combos = key_count * shapes
    out: list[Day] = []
    base, extra = divmod(facts, days)
    for index in range(days):
        day = FIRST_DAY + timedelta(days=index)
        count = base + (1 if index < extra else 0)
        records: list[UsageRecord] = []
        for combo in rng.sample(range(combos), count):
            combo, geo = divmod(combo, len(GEOS))
            combo, context = divmod(combo, len(CONTEXTS))
            combo, tier = divmod(combo, len(TIERS))
            key, model = divmod(combo, len(MODELS))
            api_key_id, workspace_id = keys[key]
            uncached = rng.randint(1, 5_000_000)
            records.append(
                UsageRecord(
                    day=day,
                    stream=STREAM,
                    model=MODELS[model],
                    workspace_id=workspace_id,
                    api_key_id=api_key_id,
                    service_tier=TIERS[tier],
                    context_window=CONTEXTS[context],
                    inference_geo=GEOS[geo],
                    input_tokens=uncached,
                    cache_write_5m_tokens=rng.randint(0, uncached // 3),
                    cache_write_1h_tokens=rng.randint(0, uncached // 20) if rng.random() < 0.3 else 0,
                    cache_read_tokens=rng.randint(0, uncached * 5),
                    output_tokens=rng.randint(1, max(1, uncached // 3)),
                    web_search_requests=rng.randint(0, 400) if rng.random() < 0.15 else 0,
                )
            )
        out.append((day, records))
    return out


def money_units(value: Decimal) -> int:
    return int(to_stored_money(value).scaleb(MONEY_SCALE))


def raw_rows(days: list[Day], org_id: int, connection_id: int) -> list[RawDay]:
    """The same rows as plain Python values in ``COLUMNS`` order (money as stored units)."""
    names = (*USAGE_DIMENSIONS, *USAGE_MEASURES)
    out: list[RawDay] = []
    for day, records in days:
        iso = day.isoformat()
        out.append(
            [(org_id, connection_id, iso, *(_plain(getattr(r, name)) for name in names)) for r in records]
        )
    return out


def _plain(value: object) -> object:
    """A value as sqlite3 binds it: money (``Decimal``) as integer billionths, the rest as is."""
    return money_units(value) if isinstance(value, Decimal) else value


# --------------------------------------------------------------------------- databases


def fresh_database(path: Path) -> tuple[Database, int, int]:
    """A migrated database with one organisation and one connection."""
    db = Database(f"sqlite:///{path}")
    org_id = db.default_org_id()
    with db.session() as session:
        connection = Connection(
            org_id=org_id,
            name="bench",
            provider="anthropic",
            provider_account_id="bench-org",
            provider_account_name="Bench",
            options={},
        )
        session.add(connection)
        session.flush()
        connection_id = connection.id
    return db, org_id, connection_id


def raw_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return conn


# Built from the schema's own column names (constants), never from input.
_PLACEHOLDERS = ", ".join("?" for _ in COLUMNS)
UPSERT_SQL = (
    f"INSERT INTO usage_facts ({', '.join(COLUMNS)}) VALUES ({_PLACEHOLDERS}) "  # noqa: S608
    f"ON CONFLICT (connection_id, day, {', '.join(USAGE_DIMENSIONS)}) DO UPDATE SET "
    + ", ".join(f"{m} = excluded.{m}" for m in USAGE_MEASURES)
    + " WHERE "
    + " OR ".join(f"usage_facts.{m} != excluded.{m}" for m in USAGE_MEASURES)
)
INSERT_SQL = f"INSERT INTO usage_facts ({', '.join(COLUMNS)}) VALUES ({_PLACEHOLDERS})"  # noqa: S608


def table_digest(path: Path) -> tuple[int, str]:
    """Row count and a hash of every row's columns (without the surrogate id), in key order."""
    conn = sqlite3.connect(path)
    try:
        digest = hashlib.sha256()
        count = 0
        order = ", ".join(("connection_id", "day", *USAGE_DIMENSIONS))
        for row in conn.execute(f"SELECT {', '.join(COLUMNS)} FROM usage_facts ORDER BY {order}"):  # noqa: S608
            digest.update(repr(row).encode())
            count += 1
        return count, digest.hexdigest()[:16]
    finally:
        conn.close()


# --------------------------------------------------------------------------- timed passes


def time_aispend(db: Database, org_id: int, connection_id: int, days: list[Day]) -> list[float]:
    """Seconds per day of ``replace_usage_day`` in its own session (transaction, commit included)."""
    per_day: list[float] = []
    clock = time.perf_counter
    for day, records in days:
        started = clock()
        with db.session() as session:
            replace_usage_day(
                session,
                org_id=org_id,
                connection_id=connection_id,
                stream=STREAM,
                day=day,
                records=records,
            )
        per_day.append(clock() - started)
    return per_day


def time_raw(conn: sqlite3.Connection, sql: str, days: list[RawDay]) -> list[float]:
    per_day: list[float] = []
    clock = time.perf_counter
    for rows in days:
        started = clock()
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
        per_day.append(clock() - started)
    return per_day


def summarise(label: str, facts: int, per_day: Sequence[float]) -> dict[str, float]:
    total = sum(per_day)
    rate = facts / total if total else 0.0
    median_ms = statistics.median(per_day) * 1000
    print(
        f"  {label:<44} {total:7.2f} s {rate:>11,.0f} facts/s"
        f"   (per day: median {median_ms:.1f} ms, max {max(per_day) * 1000:.1f} ms)"
    )
    return {"seconds": total, "facts_per_s": rate, "median_day_ms": median_ms}


def profile_aispend(tmp: Path, days: list[Day], top: int) -> None:
    db, org_id, connection_id = fresh_database(tmp / "profile.db")
    profiler = cProfile.Profile()
    profiler.enable()
    time_aispend(db, org_id, connection_id, days)
    profiler.disable()
    profiler.enable()
    time_aispend(db, org_id, connection_id, days)
    profiler.disable()
    db.dispose()
    facts = sum(len(r) for _, r in days)
    print()
    print(f"Profile: aispend first + second import of {len(days)} days ({facts:,} facts each), cProfile")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description="Time aispend's fact write path against raw sqlite3.")
    parser.add_argument("--facts", type=int, default=500_000, help="usage facts to write (default 500,000)")
    parser.add_argument("--days", type=int, default=365, help="days they are spread over (default 365)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="also profile aispend's path (30 days)")
    parser.add_argument("--json", action="store_true", help="also print one JSON line of all figures")
    args = parser.parse_args()

    info = machine_info()
    print_machine(info)

    started = time.perf_counter()
    days = build_days(args.facts, args.days, args.seed)
    facts = sum(len(records) for _, records in days)
    per_day = [len(records) for _, records in days]
    print()
    print(
        f"Synthetic facts: {facts:,} usage records over {len(days)} days "
        f"({min(per_day):,}-{max(per_day):,} a day), built in {time.perf_counter() - started:.1f} s"
    )

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="aispend-ingest-") as name:
        tmp = Path(name)
        print(f"Databases in {tmp} (SQLite, WAL, synchronous=NORMAL, secure_delete=ON, foreign_keys=ON)")
        print()
        print("Write rates (one transaction per day)")

        db, org_id, connection_id = fresh_database(tmp / "aispend.db")
        results["aispend_first"] = summarise(
            "aispend replace_usage_day, first import", facts, time_aispend(db, org_id, connection_id, days)
        )
        results["aispend_second"] = summarise(
            "aispend replace_usage_day, re-import (same)",
            facts,
            time_aispend(db, org_id, connection_id, days),
        )
        db.dispose()

        raw_db, raw_org, raw_connection_id = fresh_database(tmp / "raw.db")
        raw_db.dispose()
        rows = raw_rows(days, raw_org, raw_connection_id)
        conn = raw_connection(tmp / "raw.db")
        results["raw_first"] = summarise(
            "raw executemany upsert, first import", facts, time_raw(conn, UPSERT_SQL, rows)
        )
        results["raw_second"] = summarise(
            "raw executemany upsert, re-import (same)", facts, time_raw(conn, UPSERT_SQL, rows)
        )
        conn.close()

        insert_db, _, _ = fresh_database(tmp / "insert.db")
        insert_db.dispose()
        conn = raw_connection(tmp / "insert.db")
        results["raw_insert"] = summarise(
            "raw executemany plain INSERT (reference)", facts, time_raw(conn, INSERT_SQL, rows)
        )
        conn.close()

        ours, theirs = table_digest(tmp / "aispend.db"), table_digest(tmp / "raw.db")
        same = ours == theirs
        print()
        print(
            f"Check: aispend and raw tables hold {ours[0]:,} and {theirs[0]:,} rows; "
            f"contents {'identical' if same else 'DIFFER'} (sha256 {ours[1]} / {theirs[1]})"
        )

        first_ratio = results["aispend_first"]["facts_per_s"] / results["raw_first"]["facts_per_s"]
        second_ratio = results["aispend_second"]["facts_per_s"] / results["raw_second"]["facts_per_s"]
        rate = results["aispend_first"]["facts_per_s"]

        def verdict(ok: bool) -> str:
            return "meets" if ok else "MISSES"

        print()
        print("Against the targets")
        print(
            f"  aispend first import: {rate:,.0f} facts/s "
            f"(target >= {TARGET_FACTS_PER_S:,}: {verdict(rate >= TARGET_FACTS_PER_S)})"
        )
        print(
            f"  aispend / raw, first import: {first_ratio:.0%} "
            f"(target >= {TARGET_SHARE_OF_RAW:.0%}: {verdict(first_ratio >= TARGET_SHARE_OF_RAW)})"
        )
        second = results["aispend_second"]["facts_per_s"]
        print(f"  aispend re-import: {second:,.0f} facts/s; aispend / raw on re-import: {second_ratio:.0%}")

        if args.profile:
            profile_days = days[: min(30, len(days))]
            profile_aispend(tmp, profile_days, 25)

    if args.json:
        print(
            json.dumps(
                {
                    "machine": info,
                    "facts": facts,
                    "days": len(days),
                    "results": results,
                    "ratio_first": first_ratio,
                    "ratio_second": second_ratio,
                    "tables_identical": same,
                },
                sort_keys=True,
            )
        )


if __name__ == "__main__":
    main()

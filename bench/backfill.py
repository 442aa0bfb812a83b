"""Benchmark: a first sync (365-day backfill) of one Anthropic connection against the simulator.

The simulator runs in a separate process (``python -m aispend.providers.anthropic.simulator``)
on a free loopback port, so this process holds only aispend: its wall time, RSS and request
counts are aispend's alone. The sync runs unpaced (``min_request_interval=0``); the time the
default pacing would add is projected from the request counts and the measured request times.

Run: ``python bench/backfill.py [--days 365] [--json] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import pstats
import queue
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx
import psutil
from sqlalchemy import func
from sqlalchemy import select as sql_select

from aispend.connections import connect_provider
from aispend.providers.anthropic.connector import CLAUDE_CODE_PAGE, LIST_PAGE, MAX_DAY_BUCKETS, STREAMS
from aispend.runtime import Runtime
from aispend.settings import Settings
from aispend.store.schema import AllocatedCost, CostFact, DirectoryItem, UsageFact
from aispend.sync.pacing import DEFAULT_RATES
from aispend.sync.runner import SyncProgress, sync_connection
from machine import machine_info, print_machine  # bench/ is on sys.path when run as a script

MB = 1024 * 1024
STREAM_ORDER = [stream.name for stream in STREAMS]
FAMILY_OF = {stream.name: stream.family for stream in STREAMS}
PATH_STREAM = {
    "/v1/organizations/usage_report/messages": "messages",
    "/v1/organizations/cost_report": "cost",
    "/v1/organizations/usage_report/claude_code": "claude_code",
    "/v1/organizations/workspaces": "workspaces",
    "/v1/organizations/api_keys": "api_keys",
    "/v1/organizations/users": "users",
    "/v1/organizations/me": "me",
}
USAGE_AND_COST_TARGET_S = 300.0


# --------------------------------------------------------------------------- simulator process


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SimulatorProcess:
    process: subprocess.Popen[str]
    base_url: str
    admin_key: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def start_simulator(history_days: int, today: date) -> SimulatorProcess:
    """Start the simulator module in its own process; return once it has printed its URL and key."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "aispend.providers.anthropic.simulator",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--days",
        str(history_days),
        "--today",
        today.isoformat(),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
    reader.start()
    base_url = admin_key = None
    deadline = time.monotonic() + 30
    while base_url is None or admin_key is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or (process.poll() is not None and lines.empty()):
            process.kill()
            _, err = process.communicate(timeout=5)
            raise RuntimeError(f"simulator did not start: {err.strip()[-2000:]}")
        try:
            line = lines.get(timeout=min(remaining, 0.5)).strip()
        except queue.Empty:
            continue
        if match := re.search(r"(http://127\.0\.0\.1:\d+)", line):
            base_url = match.group(1)
        elif line.startswith("admin key:"):
            admin_key = line.split(":", 1)[1].strip()
    return SimulatorProcess(process, base_url, admin_key)


# --------------------------------------------------------------------------- measurement


class RssSampler(threading.Thread):
    """Samples this process's RSS every ``interval`` seconds and keeps the peak."""

    def __init__(self, interval: float = 0.05) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self.interval = interval
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self.samples = 0
        self._stop_event = threading.Event()

    def current(self) -> int:
        rss = int(self.process.memory_info().rss)
        self.peak = max(self.peak, rss)
        return rss

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.current()
            self.samples += 1
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=2)
        self.current()


def ru_maxrss_bytes() -> int:
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(usage) * (1 if sys.platform == "darwin" else 1024)


@dataclass
class HttpStats:
    """HTTP round trips (request sent to body fully read) per stream, seen at the transport."""

    count: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    bytes: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def reset(self) -> None:
        self.count.clear()
        self.seconds.clear()
        self.bytes.clear()


class TimingTransport(httpx.BaseTransport):
    def __init__(self, stats: HttpStats) -> None:
        self.inner = httpx.HTTPTransport()
        self.stats = stats

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = self.inner.handle_request(request)
        body = response.read()
        elapsed = time.perf_counter() - started
        stream = PATH_STREAM.get(request.url.path, request.url.path)
        self.stats.count[stream] += 1
        self.stats.seconds[stream] += elapsed
        self.stats.bytes[stream] += len(body)
        return response

    def close(self) -> None:
        self.inner.close()


class BenchRuntime(Runtime):
    """The real runtime, with an HTTP client whose transport times each round trip."""

    def __init__(self, settings: Settings, stats: HttpStats) -> None:
        super().__init__(settings)
        self.stats = stats

    def http_client(self) -> httpx.Client:
        return httpx.Client(
            timeout=self.settings.http_timeout_seconds,
            follow_redirects=False,
            transport=TimingTransport(self.stats),
        )


class Progress(SyncProgress):
    """Counts requests, rows and time per stream; samples RSS at 25/50/75/100% of planned requests."""

    def __init__(self, sampler: RssSampler) -> None:
        self.sampler = sampler
        self.planned_requests = 0
        self.requests: dict[str, int] = defaultdict(int)
        self.rows: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.stream_end_rss: dict[str, int] = {}
        self.milestones: list[tuple[int, int, int, float]] = []  # percent, requests, rss, elapsed
        self._next_milestone = 0
        self._last_requests = 0
        self._last_rows = 0
        self.started = self._last_time = time.perf_counter()

    def planned(self, requests: int) -> None:
        self.planned_requests = requests

    def request_done(self, stream: str, requests: int, rows: int) -> None:
        now = time.perf_counter()
        self.requests[stream] += requests - self._last_requests
        self.rows[stream] += rows - self._last_rows
        self.seconds[stream] += now - self._last_time
        self._last_requests, self._last_rows, self._last_time = requests, rows, now
        self.stream_end_rss[stream] = self.sampler.current()
        percents = (25, 50, 75, 100)
        while self._next_milestone < len(percents) and self.planned_requests:
            percent = percents[self._next_milestone]
            if requests * 100 < percent * self.planned_requests:
                break
            self.milestones.append((percent, requests, self.sampler.current(), now - self.started))
            self._next_milestone += 1


# --------------------------------------------------------------------------- projection


def paced_windows(n: int, limit: int, window_s: float) -> float:
    """Seconds a sliding-window Rate(limit, window) imposes on n back-to-back requests."""
    return (math.ceil(n / limit) - 1) * window_s if n > limit else 0.0


def fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:04.1f} s ({seconds:.1f} s)"


# --------------------------------------------------------------------------- main


def count_facts(runtime: Runtime, connection_name: str) -> dict[str, int]:
    del connection_name  # one connection in this fresh database
    with runtime.db.session() as session:
        by_stream = dict(
            session.execute(sql_select(UsageFact.stream, func.count()).group_by(UsageFact.stream)).all()
        )
        by_kind = dict(
            session.execute(sql_select(DirectoryItem.kind, func.count()).group_by(DirectoryItem.kind)).all()
        )
        cost = session.scalar(sql_select(func.count()).select_from(CostFact)) or 0
        allocated = session.scalar(sql_select(func.count()).select_from(AllocatedCost)) or 0
    return {
        "usage_facts.messages": int(by_stream.get("messages", 0)),
        "usage_facts.claude_code": int(by_stream.get("claude_code", 0)),
        "cost_facts": int(cost),
        "allocated_costs": int(allocated),
        "directory.workspace": int(by_kind.get("workspace", 0)),
        "directory.api_key": int(by_kind.get("api_key", 0)),
        "directory.user": int(by_kind.get("user", 0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Time a first sync (backfill) against the simulator.")
    parser.add_argument("--days", type=int, default=365, help="days to backfill (default 365)")
    parser.add_argument("--json", action="store_true", help="also print one JSON line of all figures")
    parser.add_argument(
        "--profile", action="store_true", help="run the sync under cProfile; print the top functions"
    )
    args = parser.parse_args()

    sampler = RssSampler()
    sampler.start()
    rss_at_import = sampler.current()
    info = machine_info()
    print_machine(info)

    today = datetime.now(UTC).date()
    since = today - timedelta(days=args.days)
    history_days = max(370, args.days + 5)
    sim = start_simulator(history_days, today)
    stats = HttpStats()
    profiler = cProfile.Profile() if args.profile else None
    try:
        with tempfile.TemporaryDirectory(prefix="aispend-bench-") as tmp:
            home = Path(tmp) / "home"
            os.environ["AISPEND_HOME"] = str(home)
            runtime = BenchRuntime(Settings(home=home), stats)
            name = "bench"
            connect_provider(
                runtime,
                provider="anthropic",
                name=name,
                key=sim.admin_key,
                base_url=sim.base_url,
                min_request_interval=0,
            )
            stats.reset()  # the connect call (GET /me) is not part of the sync
            progress = Progress(sampler)
            rss_start = sampler.current()
            cpu_before = time.process_time()
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            result = sync_connection(runtime, name, since=since, progress=progress, today=today)
            if profiler is not None:
                profiler.disable()
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_before
            rss_end = sampler.current()
            facts = count_facts(runtime, name)
            runtime.close()
    finally:
        sim.stop()
    sampler.stop()
    peak_sampled = sampler.peak
    peak_ru = ru_maxrss_bytes()

    # ------------------------------------------------------------------ requests
    days = args.days
    dir_items = {
        "workspaces": facts["directory.workspace"],
        "api_keys": facts["directory.api_key"],
        "users": facts["directory.user"],
    }
    minimum: dict[str, int] = {
        "workspaces": max(1, math.ceil(dir_items["workspaces"] / LIST_PAGE)),
        "api_keys": max(1, math.ceil(dir_items["api_keys"] / LIST_PAGE)),
        "users": max(1, math.ceil(dir_items["users"] / LIST_PAGE)),
        "messages": math.ceil(days / MAX_DAY_BUCKETS),
        "cost": math.ceil(days / MAX_DAY_BUCKETS),
        "claude_code": days,
    }
    formula = {
        "workspaces": f"ceil({dir_items['workspaces']} items / {LIST_PAGE}) = {minimum['workspaces']}",
        "api_keys": f"ceil({dir_items['api_keys']} items / {LIST_PAGE}) = {minimum['api_keys']}",
        "users": f"ceil({dir_items['users']} items / {LIST_PAGE}) = {minimum['users']}",
        "messages": f"ceil({days} days / {MAX_DAY_BUCKETS} buckets per page) = {minimum['messages']}",
        "cost": f"ceil({days} days / {MAX_DAY_BUCKETS} buckets per page) = {minimum['cost']}",
        "claude_code": f"{days} days x 1 request per day (<= {CLAUDE_CODE_PAGE} records) = {days}",
    }
    total_made = result.requests
    total_min = sum(minimum.values())

    print()
    print(
        f"Backfill: {days} days, {since} .. {today - timedelta(days=1)} (simulator history {history_days} d)"
    )
    print("  groupings: messages by api_key_id, workspace_id, model, service_tier, context_window,")
    print("             inference_geo; cost by workspace_id, description; lists limit 1000")
    print()
    print("Requests (made vs minimum the page limits allow)")
    print(f"  {'stream':<12} {'made':>5} {'min':>5}  formula")
    for stream in STREAM_ORDER:
        made = progress.requests.get(stream, 0)
        flag = "" if made == minimum[stream] else "  <-- differs"
        print(f"  {stream:<12} {made:>5} {minimum[stream]:>5}  {formula[stream]}{flag}")
    print(
        f"  {'total':<12} {total_made:>5} {total_min:>5}  (planned by the sync: {progress.planned_requests})"
    )

    print()
    print("Facts written")
    print(f"  rows reported by the sync (SyncResult.rows): {result.rows:,}")
    for stream in STREAM_ORDER:
        print(f"    {stream:<12} {progress.rows.get(stream, 0):>9,}")
    print("  rows in the database:")
    for key, value in facts.items():
        print(f"    {key:<24} {value:>9,}")

    print()
    print("Time")
    print(f"  wall time of sync_connection: {wall:.2f} s   (CPU time of this process: {cpu:.2f} s)")
    http_total = sum(stats.seconds.values())
    print(f"  of which HTTP round trips (incl. simulator work): {http_total:.2f} s;")
    print(f"  parse + store + bookkeeping in aispend: {wall - http_total:.2f} s")
    print(f"  {'stream':<12} {'requests':>8} {'wall s':>8} {'per req ms':>10} {'HTTP ms':>8} {'KiB/resp':>9}")
    for stream in STREAM_ORDER:
        n = progress.requests.get(stream, 0)
        http_n = stats.count.get(stream, 0)
        per_req = progress.seconds.get(stream, 0.0) / n * 1000 if n else 0.0
        http_ms = stats.seconds.get(stream, 0.0) / http_n * 1000 if http_n else 0.0
        kib = stats.bytes.get(stream, 0) / http_n / 1024 if http_n else 0.0
        print(
            f"  {stream:<12} {n:>8} {progress.seconds.get(stream, 0.0):>8.2f} {per_req:>10.1f}"
            f" {http_ms:>8.1f} {kib:>9.1f}"
        )

    print()
    print("Memory (RSS of this process; the simulator runs in another process)")
    print(f"  after imports:            {rss_at_import / MB:8.1f} MiB")
    print(f"  at sync start:            {rss_start / MB:8.1f} MiB")
    for percent, requests, rss, elapsed in progress.milestones:
        label = f"at {percent:>3}% of requests ({requests:>3}, {elapsed:6.1f} s):"
        print(f"  {label:<44}{rss / MB:8.1f} MiB")
    print(f"  at sync end:              {rss_end / MB:8.1f} MiB")
    ends = ", ".join(f"{s} {progress.stream_end_rss.get(s, 0) / MB:.1f}" for s in STREAM_ORDER)
    print(f"  after each stream's last request (MiB): {ends}")
    print(f"  peak, sampled every 50 ms ({sampler.samples} samples): {peak_sampled / MB:.1f} MiB")
    print(f"  peak, getrusage ru_maxrss: {peak_ru / MB:.1f} MiB")

    # ------------------------------------------------------------------ projection
    rates = DEFAULT_RATES["anthropic"]
    families: dict[str, list[str]] = {}
    for stream in STREAM_ORDER:
        families.setdefault(FAMILY_OF[stream], []).append(stream)
    projection: dict[str, dict[str, Any]] = {}
    print()
    print("Projected wall time at the default pace (DEFAULT_RATES['anthropic'])")
    print("  per family: windows = (ceil(n/L) - 1) x W if n > L else 0;  + n x mean time per request")
    print("  (mean time per request = this run's wall time per request: HTTP + parse + store)")
    for family, streams in families.items():
        n = sum(progress.requests.get(s, 0) for s in streams)
        seconds = sum(progress.seconds.get(s, 0.0) for s in streams)
        mean = seconds / n if n else 0.0
        [rate] = rates[family]
        limit, window_s = int(rate.limit), rate.interval / 1000
        waits = paced_windows(n, limit, window_s)
        total = waits + n * mean
        projection[family] = {
            "streams": streams,
            "requests": n,
            "rate_limit": limit,
            "rate_window_s": window_s,
            "windows_s": waits,
            "mean_request_s": mean,
            "projected_s": total,
        }
        print(
            f"  {family:<12} ({'+'.join(streams)}): n={n}, Rate({limit}, {window_s:g} s): "
            f"windows {waits:.0f} s + {n} x {mean * 1000:.1f} ms = {fmt_duration(total)}"
        )
    usage_cost = projection["usage"]["projected_s"] + projection["cost"]["projected_s"]
    everything = sum(p["projected_s"] for p in projection.values())
    verdict = "meets" if usage_cost < USAGE_AND_COST_TARGET_S else "MISSES"
    print(f"  usage and cost: {fmt_duration(usage_cost)}   (target < 5 min: {verdict})")
    before_claude_code = everything - projection["claude_code"]["projected_s"]
    print(f"  directory + usage + cost (all but Claude Code): {fmt_duration(before_claude_code)}")
    print(f"  total including Claude Code: {fmt_duration(everything)}")

    if profiler is not None:
        print()
        print("Profile of sync_connection (cProfile; top 25 by own time, then by cumulative time)")
        profile_stats = pstats.Stats(profiler, stream=sys.stdout)
        profile_stats.sort_stats("tottime").print_stats(25)
        profile_stats.sort_stats("cumulative").print_stats(25)

    if args.json:
        figures = {
            "machine": info,
            "days": days,
            "since": since.isoformat(),
            "requests": {
                s: {"made": progress.requests.get(s, 0), "minimum": minimum[s], "formula": formula[s]}
                for s in STREAM_ORDER
            },
            "requests_total": {
                "made": total_made,
                "minimum": total_min,
                "planned": progress.planned_requests,
            },
            "rows_reported": result.rows,
            "rows_by_stream": {s: progress.rows.get(s, 0) for s in STREAM_ORDER},
            "facts": facts,
            "wall_s": wall,
            "cpu_s": cpu,
            "http_s": http_total,
            "stream_wall_s": {s: progress.seconds.get(s, 0.0) for s in STREAM_ORDER},
            "stream_http_s": {s: stats.seconds.get(s, 0.0) for s in STREAM_ORDER},
            "rss_bytes": {
                "after_imports": rss_at_import,
                "sync_start": rss_start,
                "milestones": [
                    {"percent": p, "requests": r, "rss": rss, "elapsed_s": e}
                    for p, r, rss, e in progress.milestones
                ],
                "sync_end": rss_end,
                "stream_end": dict(progress.stream_end_rss),
                "peak_sampled": peak_sampled,
                "peak_ru_maxrss": peak_ru,
            },
            "projection": projection,
            "projected_usage_and_cost_s": usage_cost,
            "projected_total_s": everything,
        }
        print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()

"""Benchmark: a first sync (365-day backfill) of one connection against a provider's simulator.

``--provider anthropic`` (the default) or ``--provider openai``. The simulator runs in a
separate process (``python -m aispend.providers.<provider>.simulator``) on a free loopback
port, so this process holds only aispend: its wall time, RSS and request counts are
aispend's alone. The sync runs unpaced (``min_request_interval=0``); the time the default
pacing would add is projected from the request counts and the measured request times.

What differs between providers (simulator, streams, request path -> stream, the minimum
number of requests the page limits allow, the projection's summary lines) is described
once per provider in a ``BenchProvider``; everything else is shared.

Run: ``python bench/backfill.py [--provider anthropic|openai] [--days 365] [--json] [--profile]``.
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
import textwrap
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx
import psutil
from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session

from aispend.connections import connect_provider
from aispend.providers.anthropic import connector as anthropic
from aispend.providers.base import StreamSpec
from aispend.providers.openai import connector as openai
from aispend.runtime import Runtime
from aispend.settings import Settings
from aispend.store.schema import AllocatedCost, CostFact, DirectoryItem, UsageFact
from aispend.sync.pacing import DEFAULT_RATES
from aispend.sync.runner import SyncProgress, sync_connection
from machine import machine_info, print_machine  # bench/ is on sys.path when run as a script

MB = 1024 * 1024
USAGE_AND_COST_TARGET_S = 300.0


# --------------------------------------------------------------------------- providers


@dataclass(frozen=True)
class Minimum:
    """The fewest requests a stream can take, and how that number comes about."""

    requests: int
    formula: str


@dataclass(frozen=True)
class BenchProvider:
    """Everything the benchmark needs to know about one provider."""

    name: str
    simulator: str  # module run with ``python -m``
    streams: Sequence[StreamSpec]
    groupings: str  # what the rows are grouped by, for the header
    stream_of: Callable[[str], str]  # request path -> stream (the path itself if unknown)
    # stream -> (stream whose path it also requests, what for); such requests count under the
    # stream the sync is reading, not under the path's own stream.
    borrows: Mapping[str, tuple[str, str]]
    # The minimum number of requests per stream, given the session and the facts counted after the sync.
    minimums: Callable[[Session, Mapping[str, int], int], dict[str, Minimum]]
    # Extra rows-in-the-database figures (beyond usage per stream, cost, allocations, directory kinds).
    extra_facts: Callable[[Session], dict[str, int]]
    # Projection summary lines: label -> families summed. The first is held to the target.
    summaries: Sequence[tuple[str, Sequence[str]]]

    @property
    def stream_names(self) -> list[str]:
        return [stream.name for stream in self.streams]

    @property
    def family_of(self) -> dict[str, str]:
        return {stream.name: stream.family for stream in self.streams}


def list_minimum(items: int, page: int) -> Minimum:
    """A plain list: ``page`` items per request, at least one request."""
    n = max(1, math.ceil(items / page))
    return Minimum(n, f"ceil({items} items / {page}) = {n}")


def window_minimum(days: int, per_page: int) -> Minimum:
    """A report of one-day buckets, at most ``per_page`` buckets per request."""
    n = math.ceil(days / per_page)
    return Minimum(n, f"ceil({days} days / {per_page} buckets per page) = {n}")


def directory_count(session: Session, kind: str) -> int:
    query = sql_select(func.count()).select_from(DirectoryItem).where(DirectoryItem.kind == kind)
    return int(session.scalar(query) or 0)


# Anthropic ------------------------------------------------------------------------------

ANTHROPIC_PATHS = {
    "/v1/organizations/usage_report/messages": "messages",
    "/v1/organizations/cost_report": "cost",
    "/v1/organizations/usage_report/claude_code": "claude_code",
    "/v1/organizations/workspaces": "workspaces",
    "/v1/organizations/api_keys": "api_keys",
    "/v1/organizations/users": "users",
    "/v1/organizations/me": "me",
}


def anthropic_minimums(session: Session, facts: Mapping[str, int], days: int) -> dict[str, Minimum]:
    del session  # the item counts are enough
    page = anthropic.LIST_PAGE
    return {
        "workspaces": list_minimum(facts["directory.workspace"], page),
        "api_keys": list_minimum(facts["directory.api_key"], page),
        "users": list_minimum(facts["directory.user"], page),
        "messages": window_minimum(days, anthropic.MAX_DAY_BUCKETS),
        "cost": window_minimum(days, anthropic.MAX_DAY_BUCKETS),
        "claude_code": Minimum(
            days, f"{days} days x 1 request per day (<= {anthropic.CLAUDE_CODE_PAGE} records) = {days}"
        ),
    }


ANTHROPIC = BenchProvider(
    name="anthropic",
    simulator="aispend.providers.anthropic.simulator",
    streams=anthropic.STREAMS,
    groupings=(
        f"messages by {', '.join(anthropic.USAGE_GROUP_BY)}; "
        f"cost by {', '.join(anthropic.COST_GROUP_BY)}; lists limit {anthropic.LIST_PAGE}"
    ),
    stream_of=lambda path: ANTHROPIC_PATHS.get(path, path),
    borrows={},
    minimums=anthropic_minimums,
    extra_facts=lambda session: {},
    summaries=(
        ("usage and cost", ("usage", "cost")),
        ("directory + usage + cost (all but Claude Code)", ("directory", "usage", "cost")),
        ("total including Claude Code", ("directory", "usage", "cost", "claude_code")),
    ),
)


# OpenAI ---------------------------------------------------------------------------------

OPENAI_PATHS = {
    "/v1/organization/projects": "projects",
    "/v1/organization/users": "users",
    "/v1/organization/costs": "costs",
    **{f"/v1/organization/usage/{name}": name for name in openai.USAGE_GROUP_BY},
}
OPENAI_PROJECT_LIST = re.compile(r"/v1/organization/projects/[^/]+/(api_keys|service_accounts)")


def openai_stream_of(path: str) -> str:
    if path in OPENAI_PATHS:
        return OPENAI_PATHS[path]
    if match := OPENAI_PROJECT_LIST.fullmatch(path):
        return match.group(1)
    return path


def openai_directory(session: Session) -> tuple[list[str], Counter[str], Counter[str]]:
    """Project ids (archived too), API keys per project and service accounts per project."""
    rows = session.execute(
        sql_select(DirectoryItem.kind, DirectoryItem.provider_id, DirectoryItem.attributes)
    )
    projects: list[str] = []
    keys: Counter[str] = Counter()
    accounts: Counter[str] = Counter()
    for kind, provider_id, attributes in rows:
        if kind == "workspace":
            projects.append(provider_id)
        elif kind == "api_key":
            keys[attributes.get("workspace_id", "")] += 1
        elif kind == "user" and attributes.get("type") == "service_account":
            accounts[attributes.get("project_id", "")] += 1
    return projects, keys, accounts


def per_project_minimum(projects: list[str], items: Counter[str], noun: str, page: int) -> Minimum:
    """Pages of project ids, then every project's own list (one request even when it is empty)."""
    project_pages = max(1, math.ceil(len(projects) / page))
    pages = [max(1, math.ceil(items[project] / page)) for project in projects]  # archived ones too
    n = project_pages + sum(pages)
    largest = max((items[project] for project in projects), default=0)
    count = len(projects)
    formula = f"ceil({count} projects / {page}) + {count} projects x 1 page ({largest} {noun} at most)"
    if extra := sum(pages) - len(projects):
        formula += f" + {extra} more pages for projects over {page} {noun}"
    if unknown := sum(n_items for project, n_items in items.items() if project not in projects):
        formula += f" [{unknown} {noun} of unlisted projects]"
    return Minimum(n, f"{formula} = {n}")


def openai_minimums(session: Session, facts: Mapping[str, int], days: int) -> dict[str, Minimum]:
    projects, keys, accounts = openai_directory(session)
    page = openai.LIST_PAGE
    people = facts["directory.user"] - facts["directory.user.service_account"]
    minimums = {
        "projects": list_minimum(len(projects), page),
        "users": list_minimum(people, page),
        "api_keys": per_project_minimum(projects, keys, "keys", page),
        "service_accounts": per_project_minimum(projects, accounts, "accounts", page),
        "costs": window_minimum(days, openai.MAX_COST_DAYS),
    }
    for name in openai.USAGE_GROUP_BY:
        minimums[name] = window_minimum(days, openai.MAX_USAGE_DAYS)
    return minimums


def openai_extra_facts(session: Session) -> dict[str, int]:
    _, _, accounts = openai_directory(session)
    return {"directory.user.service_account": sum(accounts.values())}


def openai_groupings() -> str:
    """Each usage endpoint's group_by (endpoints grouped alike named together), then costs'."""
    alike: dict[tuple[str, ...], list[str]] = {}
    for name, fields in openai.USAGE_GROUP_BY.items():
        alike.setdefault(fields, []).append(name)
    parts = [f"{', '.join(names)} by {', '.join(fields)}" for fields, names in alike.items()]
    parts += [f"costs by {', '.join(openai.COST_GROUP_BY)}", f"lists limit {openai.LIST_PAGE}"]
    return "; ".join(parts)


OPENAI = BenchProvider(
    name="openai",
    simulator="aispend.providers.openai.simulator",
    streams=openai.STREAMS,
    groupings=openai_groupings(),
    stream_of=openai_stream_of,
    borrows={
        "api_keys": ("projects", "project ids"),
        "service_accounts": ("projects", "project ids"),
    },
    minimums=openai_minimums,
    extra_facts=openai_extra_facts,
    summaries=(
        ("usage and cost", ("usage", "cost")),
        ("total (directory + usage + cost)", ("directory", "usage", "cost")),
    ),
)

PROVIDERS = {provider.name: provider for provider in (ANTHROPIC, OPENAI)}


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


def start_simulator(module: str, history_days: int, today: date) -> SimulatorProcess:
    """Start the simulator module in its own process; return once it has printed its URL and key."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        module,
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
        if match := re.search(r"(http://127\.0\.0\.1:\d+\S*)", line):
            base_url = match.group(1)  # Anthropic prints the origin, OpenAI the origin + /v1
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
    """HTTP round trips (request sent to body fully read) per stream, seen at the transport.

    A round trip counts under its path's stream, except a path the stream being read
    borrows (OpenAI's project list, requested by the per-project lists): that one is held
    until the sync reports the request done and counted under the stream it reports.
    A path that maps to no stream at all is also kept in ``unmapped``.
    """

    provider: BenchProvider
    count: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    bytes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    paths: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))  # stream, path's
    unmapped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    pending: list[tuple[str, float, int]] = field(default_factory=list)

    def reset(self) -> None:
        for figures in (self.count, self.seconds, self.bytes, self.paths, self.unmapped):
            figures.clear()
        self.pending.clear()

    def record(self, path: str, elapsed: float, size: int) -> None:
        self.pending.append((self.provider.stream_of(path), elapsed, size))

    def settle(self, stream: str | None) -> None:
        """Count the pending round trips; ``stream`` is the one the sync just reported (None: unknown)."""
        borrowed = self.provider.borrows.get(stream, ("", ""))[0] if stream is not None else ""
        for path_stream, elapsed, size in self.pending:
            owner = stream if stream is not None and path_stream == borrowed else path_stream
            if path_stream not in self.provider.stream_names:
                self.unmapped[path_stream] += 1
            self.paths[(owner, path_stream)] += 1
            self.count[owner] += 1
            self.seconds[owner] += elapsed
            self.bytes[owner] += size
        self.pending.clear()


class TimingTransport(httpx.BaseTransport):
    def __init__(self, stats: HttpStats) -> None:
        self.inner = httpx.HTTPTransport()
        self.stats = stats

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = self.inner.handle_request(request)
        body = response.read()
        self.stats.record(request.url.path, time.perf_counter() - started, len(body))
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
    """Counts requests, rows and time per stream; keeps RSS after every request.

    The RSS readings at 25/50/75/100% are taken of the requests the sync made, not of the
    ones it planned: the plan counts one request per directory list, and OpenAI's per-project
    lists take more, so planned percentages would be reached before the last stream.
    """

    def __init__(self, sampler: RssSampler, stats: HttpStats) -> None:
        self.sampler = sampler
        self.stats = stats
        self.planned_requests = 0
        self.requests: dict[str, int] = defaultdict(int)
        self.rows: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.stream_end_rss: dict[str, int] = {}
        self.trace: list[tuple[int, int, float]] = []  # requests, rss, elapsed after each request
        self._last_requests = 0
        self._last_rows = 0
        self.started = self._last_time = time.perf_counter()

    def planned(self, requests: int) -> None:
        self.planned_requests = requests

    def request_done(self, stream: str, requests: int, rows: int) -> None:
        now = time.perf_counter()
        self.stats.settle(stream)
        self.requests[stream] += requests - self._last_requests
        self.rows[stream] += rows - self._last_rows
        self.seconds[stream] += now - self._last_time
        self._last_requests, self._last_rows, self._last_time = requests, rows, now
        rss = self.stream_end_rss[stream] = self.sampler.current()
        self.trace.append((requests, rss, now - self.started))

    def milestones(self, total: int) -> list[tuple[int, int, int, float]]:
        """(percent, requests, rss, elapsed) at the first request reaching 25/50/75/100% of ``total``."""
        found = []
        for percent in (25, 50, 75, 100):
            reached = next((t for t in self.trace if t[0] * 100 >= percent * total), None)
            if total and reached is not None:
                found.append((percent, *reached))
        return found


# --------------------------------------------------------------------------- projection


def paced_windows(n: int, limit: int, window_s: float) -> float:
    """Seconds a sliding-window Rate(limit, window) imposes on n back-to-back requests."""
    return (math.ceil(n / limit) - 1) * window_s if n > limit else 0.0


def replay_windows(n: int, rates: Sequence[tuple[int, float]]) -> float:
    """Seconds until the n-th of n instant back-to-back requests may start under all ``rates`` at once.

    Request i may start once request i - L of every Rate(L, W) is W seconds old. With one
    rate this equals :func:`paced_windows`; with several it can exceed the slowest one alone.
    """
    starts: list[float] = []
    for i in range(n):
        start = starts[-1] if starts else 0.0
        for limit, window_s in rates:
            if i >= limit:
                start = max(start, starts[i - limit] + window_s)
        starts.append(start)
    return starts[-1] if starts else 0.0


def fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:04.1f} s ({seconds:.1f} s)"


# --------------------------------------------------------------------------- main


def count_facts(session: Session, provider: BenchProvider) -> dict[str, int]:
    by_stream = dict(
        session.execute(sql_select(UsageFact.stream, func.count()).group_by(UsageFact.stream)).all()
    )
    facts = {
        f"usage_facts.{stream.name}": int(by_stream.get(stream.name, 0))
        for stream in provider.streams
        if stream.kind == "usage"
    }
    facts["cost_facts"] = int(session.scalar(sql_select(func.count()).select_from(CostFact)) or 0)
    facts["allocated_costs"] = int(session.scalar(sql_select(func.count()).select_from(AllocatedCost)) or 0)
    for kind in ("workspace", "api_key", "user"):
        facts[f"directory.{kind}"] = directory_count(session, kind)
    facts.update(provider.extra_facts(session))
    return facts


def main() -> None:
    parser = argparse.ArgumentParser(description="Time a first sync (backfill) against the simulator.")
    parser.add_argument(
        "--provider", choices=sorted(PROVIDERS), default="anthropic", help="simulator to sync (anthropic)"
    )
    parser.add_argument("--days", type=int, default=365, help="days to backfill (default 365)")
    parser.add_argument("--json", action="store_true", help="also print one JSON line of all figures")
    parser.add_argument(
        "--profile", action="store_true", help="run the sync under cProfile; print the top functions"
    )
    args = parser.parse_args()
    provider = PROVIDERS[args.provider]
    stream_order = provider.stream_names
    width = max(12, *(len(stream) for stream in stream_order))

    sampler = RssSampler()
    sampler.start()
    rss_at_import = sampler.current()
    info = machine_info()
    print_machine(info)

    today = datetime.now(UTC).date()
    since = today - timedelta(days=args.days)
    history_days = max(370, args.days + 5)
    sim = start_simulator(provider.simulator, history_days, today)
    stats = HttpStats(provider)
    profiler = cProfile.Profile() if args.profile else None
    try:
        with tempfile.TemporaryDirectory(prefix="aispend-bench-") as tmp:
            home = Path(tmp) / "home"
            os.environ["AISPEND_HOME"] = str(home)
            runtime = BenchRuntime(Settings(home=home), stats)
            name = "bench"
            connect_provider(
                runtime,
                provider=provider.name,
                name=name,
                key=sim.admin_key,
                base_url=sim.base_url,
                min_request_interval=0,
            )
            stats.reset()  # the connect call (GET /me, or the project list) is not part of the sync
            progress = Progress(sampler, stats)
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
            stats.settle(None)  # none expected: every request of the sync ends in request_done
            days = args.days
            with runtime.db.session() as session:  # one connection in this fresh database
                facts = count_facts(session, provider)
                minimums = provider.minimums(session, facts, days)
            runtime.close()
    finally:
        sim.stop()
    sampler.stop()
    peak_sampled = sampler.peak
    peak_ru = ru_maxrss_bytes()

    # ------------------------------------------------------------------ requests
    minimum = {stream: minimums[stream].requests for stream in stream_order}
    formula = {stream: minimums[stream].formula for stream in stream_order}
    total_made = result.requests
    total_min = sum(minimum.values())

    print()
    print(
        f"Backfill: {days} days, {since} .. {today - timedelta(days=1)} (simulator history {history_days} d)"
    )
    for line in textwrap.wrap(
        provider.groupings, width=96, initial_indent="groupings: ", subsequent_indent=" " * 11
    ):
        print(f"  {line}")
    print()
    print("Requests (made vs minimum the page limits allow)")
    print(f"  {'stream':<{width}} {'made':>5} {'min':>5}  formula")
    for stream in stream_order:
        made = progress.requests.get(stream, 0)
        flag = "" if made == minimum[stream] else "  <-- differs"
        if stream in result.skipped:
            flag += " (skipped: the simulator answered 404)"
        print(f"  {stream:<{width}} {made:>5} {minimum[stream]:>5}  {formula[stream]}{flag}")
    print(
        f"  {'total':<{width}} {total_made:>5} {total_min:>5}"
        f"  (planned by the sync: {progress.planned_requests})"
    )
    for stream, (other, purpose) in provider.borrows.items():
        borrowed = stats.paths.get((stream, other), 0)
        own = stats.paths.get((stream, stream), 0)
        print(
            f"  {stream}: {borrowed} x the {other} list ({purpose}) + {own} x its own list per project"
            f" = {borrowed + own} HTTP round trips"
        )
    for path, n in sorted(stats.unmapped.items()):
        print(f"  <-- {n} request(s) to {path}, a path of no stream")

    print()
    print("Facts written")
    print(f"  rows reported by the sync (SyncResult.rows): {result.rows:,}")
    for stream in stream_order:
        print(f"    {stream:<{width}} {progress.rows.get(stream, 0):>9,}")
    print("  rows in the database:")
    key_width = max(24, *(len(key) + 1 for key in facts))
    for key, value in facts.items():
        print(f"    {key:<{key_width}} {value:>9,}")

    print()
    print("Time")
    print(f"  wall time of sync_connection: {wall:.2f} s   (CPU time of this process: {cpu:.2f} s)")
    http_total = sum(stats.seconds.values())
    print(f"  of which HTTP round trips (incl. simulator work): {http_total:.2f} s;")
    print(f"  parse + store + bookkeeping in aispend: {wall - http_total:.2f} s")
    print(
        f"  {'stream':<{width}} {'requests':>8} {'wall s':>8} {'per req ms':>10}"
        f" {'HTTP ms':>8} {'KiB/resp':>9}"
    )
    for stream in stream_order:
        n = progress.requests.get(stream, 0)
        http_n = stats.count.get(stream, 0)
        per_req = progress.seconds.get(stream, 0.0) / n * 1000 if n else 0.0
        http_ms = stats.seconds.get(stream, 0.0) / http_n * 1000 if http_n else 0.0
        kib = stats.bytes.get(stream, 0) / http_n / 1024 if http_n else 0.0
        print(
            f"  {stream:<{width}} {n:>8} {progress.seconds.get(stream, 0.0):>8.2f} {per_req:>10.1f}"
            f" {http_ms:>8.1f} {kib:>9.1f}"
        )

    print()
    print("Memory (RSS of this process; the simulator runs in another process)")
    print(f"  after imports:            {rss_at_import / MB:8.1f} MiB")
    print(f"  at sync start:            {rss_start / MB:8.1f} MiB")
    milestones = progress.milestones(result.requests)
    for percent, requests, rss, elapsed in milestones:
        label = f"at {percent:>3}% of requests ({requests:>3}, {elapsed:6.1f} s):"
        print(f"  {label:<44}{rss / MB:8.1f} MiB")
    print(f"  at sync end:              {rss_end / MB:8.1f} MiB")
    ends = ", ".join(f"{s} {progress.stream_end_rss.get(s, 0) / MB:.1f}" for s in stream_order)
    print(f"  after each stream's last request (MiB): {ends}")
    print(f"  peak, sampled every 50 ms ({sampler.samples} samples): {peak_sampled / MB:.1f} MiB")
    print(f"  peak, getrusage ru_maxrss: {peak_ru / MB:.1f} MiB")

    # ------------------------------------------------------------------ projection
    rates = DEFAULT_RATES[provider.name]
    families: dict[str, list[str]] = {}
    for stream in stream_order:
        families.setdefault(provider.family_of[stream], []).append(stream)
    projection: dict[str, dict[str, Any]] = {}
    print()
    print(f"Projected wall time at the default pace (DEFAULT_RATES['{provider.name}'])")
    print("  per family: windows = (ceil(n/L) - 1) x W if n > L else 0;  + n x mean time per request")
    if any(len(rates[family]) > 1 for family in families):
        print("  (several rates per family: each gives its windows; the slowest, the largest, decides)")
    print("  (mean time per request = this run's wall time per request: HTTP + parse + store)")
    for family, streams in families.items():
        n = sum(progress.requests.get(s, 0) for s in streams)
        seconds = sum(progress.seconds.get(s, 0.0) for s in streams)
        mean = seconds / n if n else 0.0
        bounds = [
            (int(rate.limit), rate.interval / 1000, paced_windows(n, int(rate.limit), rate.interval / 1000))
            for rate in rates[family]
        ]
        limit, window_s, waits = max(bounds, key=lambda bound: bound[2])
        replay = replay_windows(n, [(bound[0], bound[1]) for bound in bounds])
        total = waits + n * mean
        projection[family] = {
            "streams": streams,
            "requests": n,
            "rate_limit": limit,
            "rate_window_s": window_s,
            "rates": [{"limit": lim, "window_s": win, "windows_s": w} for lim, win, w in bounds],
            "windows_s": waits,
            "windows_replay_s": replay,
            "mean_request_s": mean,
            "projected_s": total,
        }
        if len(bounds) == 1:
            rate_text = f"Rate({limit}, {window_s:g} s)"
        else:
            rate_text = ", ".join(f"Rate({lim}, {win:g} s) {w:.0f} s" for lim, win, w in bounds)
        names = "+".join(streams) if len(streams) <= 4 else f"{len(streams)} streams"
        print(
            f"  {family:<12} ({names}): n={n}, {rate_text}: "
            f"windows {waits:.0f} s + {n} x {mean * 1000:.1f} ms = {fmt_duration(total)}"
        )
        if replay > waits + 1e-9:
            print(
                f"  {'':<12} (the rates bind together: a request-by-request replay of the windows"
                f" waits {replay:.0f} s, not {waits:.0f} s)"
            )
    sums = {label: sum(projection[f]["projected_s"] for f in fams) for label, fams in provider.summaries}
    for index, (label, seconds) in enumerate(sums.items()):
        if index == 0:
            verdict = "meets" if seconds < USAGE_AND_COST_TARGET_S else "MISSES"
            print(f"  {label}: {fmt_duration(seconds)}   (target < 5 min: {verdict})")
        else:
            print(f"  {label}: {fmt_duration(seconds)}")
    usage_cost = projection["usage"]["projected_s"] + projection["cost"]["projected_s"]
    everything = sum(p["projected_s"] for p in projection.values())

    if profiler is not None:
        print()
        print("Profile of sync_connection (cProfile; top 25 by own time, then by cumulative time)")
        profile_stats = pstats.Stats(profiler, stream=sys.stdout)
        profile_stats.sort_stats("tottime").print_stats(25)
        profile_stats.sort_stats("cumulative").print_stats(25)

    if args.json:
        figures = {
            "provider": provider.name,
            "machine": info,
            "days": days,
            "since": since.isoformat(),
            "requests": {
                s: {"made": progress.requests.get(s, 0), "minimum": minimum[s], "formula": formula[s]}
                for s in stream_order
            },
            "requests_total": {
                "made": total_made,
                "minimum": total_min,
                "planned": progress.planned_requests,
            },
            "requests_by_path": {f"{s} -> {p}": n for (s, p), n in sorted(stats.paths.items())},
            "skipped": list(result.skipped),
            "rows_reported": result.rows,
            "rows_by_stream": {s: progress.rows.get(s, 0) for s in stream_order},
            "facts": facts,
            "wall_s": wall,
            "cpu_s": cpu,
            "http_s": http_total,
            "stream_wall_s": {s: progress.seconds.get(s, 0.0) for s in stream_order},
            "stream_http_s": {s: stats.seconds.get(s, 0.0) for s in stream_order},
            "rss_bytes": {
                "after_imports": rss_at_import,
                "sync_start": rss_start,
                "milestones": [
                    {"percent": p, "requests": r, "rss": rss, "elapsed_s": e} for p, r, rss, e in milestones
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

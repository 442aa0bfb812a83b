"""Benchmark: each dashboard page's server time with the demo's data.

Starts the real ``aispend demo`` (every simulated provider, 90 days imported) as a separate
process in a temporary ``AISPEND_HOME`` on a free loopback port, signs in with the
credentials it prints, then requests each page and JSON endpoint: one warm-up, then
``--repeat`` timed requests, printing the best and the median. The target is 150 ms.

Run: ``python bench/pages.py [--days 90] [--repeat 7] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from machine import machine_info, print_machine  # bench/ is on sys.path when run as a script

TARGET_MS = 150
PAGES = (
    "/",
    "/explore",
    "/explore?by=day",
    "/explore?by=user",
    "/explore?by=week",
    "/explore?by=token-kind",
    "/explore?by=service-tier",
    "/explore.csv?by=api-key",
    "/models/{top_model}",
    "/reconcile",
    "/rates",
    "/limits",
    "/connections",
    "/sync",
    "/admin/audit",
    "/admin/users",
    "/settings/tokens",
    "/api/v1/overview",
    "/api/v1/spend?by=model",
    "/api/v1/connections",
    "/api/v1/reconcile",
    "/api/v1/rates",
    "/api/v1/limits",
)
_SIGN_IN = re.compile(r"as (?P<email>\S+) with password (?P<password>\S+)")
_CSRF = re.compile(r'name="(?P<field>[^"]*csrf[^"]*)" value="(?P<token>[^"]+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_demo(home: Path, port: int, days: int) -> tuple[subprocess.Popen[str], str, str, float]:
    """The running demo, its admin's email and password, and seconds until it served."""
    log = (home / "demo.log").open("w+", encoding="utf-8")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "aispend", "demo", "--port", str(port), "--days", str(days)],
        env={**os.environ, "AISPEND_HOME": str(home), "AISPEND_LOG_LEVEL": "WARNING"},
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise SystemExit(f"aispend demo exited with {process.returncode}:\n{log.read()}")
        log.seek(0)
        found = _SIGN_IN.search(log.read())
        if found:
            try:
                httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            return process, found["email"], found["password"], time.perf_counter() - started
        time.sleep(0.2)
    process.kill()
    raise SystemExit("aispend demo did not serve within 10 minutes")


def _sign_in(http: httpx.Client, email: str, password: str) -> None:
    form = _CSRF.search(http.get("/login").text)
    if form is None:
        raise SystemExit("the sign-in page has no CSRF field")
    response = http.post(
        "/login", data={form["field"]: form["token"], "email": email, "password": password, "next": "/"}
    )
    if response.status_code >= 400 or "/login" in str(response.url):
        raise SystemExit(f"sign-in failed with {response.status_code}")


def _time(http: httpx.Client, url: str, repeat: int) -> list[float]:
    http.get(url)  # warm: templates compiled, statements cached
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = http.get(url)
        out.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="also print one JSON line of the figures")
    args = parser.parse_args()
    print_machine(machine_info())
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="aispend-bench-pages-") as tmp:
        process, email, password, ready = _start_demo(Path(tmp), port, args.days)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=True, timeout=30) as http:
                _sign_in(http, email, password)
                top_model = http.get("/api/v1/overview").json()["top"]["model"]["rows"][0]["key"]
                urls = [url.format(top_model=top_model) for url in PAGES]
                timings = {url: _time(http, url, args.repeat) for url in urls}
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"aispend demo ({args.days} days, every simulated provider) served after {ready:.1f} s")
    print(f"{'page':<32} {'best ms':>8} {'median ms':>10}  target {TARGET_MS} ms")
    figures: dict[str, Any] = {}
    for url, seconds in timings.items():
        best, median = min(seconds) * 1000, statistics.median(seconds) * 1000
        mark = "" if median < TARGET_MS else "  <-- over target"
        print(f"{url:<32} {best:>8.0f} {median:>10.0f}{mark}")
        figures[url] = {"best_ms": round(best, 1), "median_ms": round(median, 1)}
    if args.json:
        print(json.dumps({"machine": machine_info(), "ready_s": round(ready, 1), "pages": figures}))


if __name__ == "__main__":
    main()

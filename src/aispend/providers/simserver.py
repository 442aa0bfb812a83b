"""Serving a simulator over real HTTP: uvicorn on a loopback port in a daemon thread.

``aispend demo``, the ``python -m`` entry point and the tests that sync over a real socket
use :func:`serve`; tests that can stay in process mount a simulator's ``app`` through
``httpx.ASGITransport`` instead and never open a port.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import uvicorn
from starlette.types import ASGIApp

__all__ = ["RunningSimulator", "Servable", "serve", "serve_until_interrupted", "simulator_arguments"]


class Servable(Protocol):
    """Any provider simulator: it exposes its ASGI application."""

    @property
    def app(self) -> ASGIApp: ...


@dataclass
class RunningSimulator:
    """A simulator served by uvicorn on a loopback port in a daemon thread."""

    base_url: str
    port: int
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _socket: socket.socket = field(repr=False)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(sim: Servable, host: str = "127.0.0.1", port: int = 0) -> RunningSimulator:
    """Start serving ``sim``; returns once the port accepts connections (port 0 = any free)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY only then
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    actual = int(sock.getsockname()[1])
    config = uvicorn.Config(sim.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"{type(sim).__name__}:{actual}"
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"simulator did not start on {host}:{actual}")
        time.sleep(0.01)
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    return RunningSimulator(f"http://{shown}:{actual}", actual, server, thread, sock)


def simulator_arguments(
    argv: Sequence[str] | None, prog: str, description: str, port: int
) -> argparse.Namespace:
    """The options every simulator's ``python -m`` entry point takes."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--days", type=int, default=400, help="days of history before today")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--today", type=date.fromisoformat, help="pretend today is this UTC date")
    parser.add_argument("--min-interval", type=float, default=0.0, help="seconds per endpoint family")
    return parser.parse_args(argv)


def serve_until_interrupted(
    sim: Servable, host: str, port: int, banner: Callable[[RunningSimulator], Sequence[str]]
) -> None:
    """Serve ``sim``, print ``banner`` (its address, its key) and block until Ctrl-C."""
    running = serve(sim, host, port)
    for line in banner(running):
        print(line, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()

"""Misbehaviour the simulators share: queued faults, cursors armed to loop, per-family pacing.

Each simulator keeps its own fault names and error bodies; this module only keeps the state,
under one lock, so every simulator injects, consumes and paces the same way.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass

__all__ = ["Fault", "Misbehaviour"]


@dataclass
class Fault:
    """An injected fault still queued: it hits the next ``remaining`` matching requests."""

    kind: str
    remaining: int
    path_prefix: str | None


class Misbehaviour:
    def __init__(self, known_faults: Collection[str]) -> None:
        self._known = frozenset(known_faults)
        self._faults: list[Fault] = []
        self._armed: set[tuple[str, str]] = set()
        self._last_seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def inject(self, fault: str, times: int, path_prefix: str | None) -> None:
        """Queue ``fault`` for ``times`` requests; ``times=0`` cancels pending ones and armed cursors."""
        if fault not in self._known:
            raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            if times > 0:
                self._faults.append(Fault(fault, times, path_prefix))
                return
            self._faults = [
                f
                for f in self._faults
                if f.kind != fault or (path_prefix is not None and f.path_prefix != path_prefix)
            ]
            if fault == "repeat_cursor":
                self._armed.clear()

    def take(self, path: str) -> str | None:
        """The fault the request to ``path`` suffers, if one is queued for it."""
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and (fault.path_prefix is None or path.startswith(fault.path_prefix)):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault.kind
            return None

    def arm(self, cursor_param: str, cursor: str) -> None:
        """Make ``cursor`` come back as its own successor the next time it is sent."""
        with self._lock:
            self._armed.add((cursor_param, cursor))

    def take_armed(self, cursor_param: str, cursor: str) -> bool:
        with self._lock:
            armed = (cursor_param, cursor) in self._armed
            self._armed.discard((cursor_param, cursor))
            return armed

    def too_soon(self, family: str, interval: float) -> int | None:
        """Whole seconds to wait when ``family`` was last served less than ``interval`` ago.

        A rejected call does not reset the clock, so the wait it is told stays truthful.
        """
        if interval <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            last = self._last_seen.get(family)
            if last is not None and now - last < interval:
                return max(1, math.ceil(interval - (now - last)))
            self._last_seen[family] = now
            return None

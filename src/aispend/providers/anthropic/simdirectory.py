"""Directory of the simulated organisation: its users, workspaces and API keys.

The tables below are the cast of the demo: who works there, which workspaces exist (one
archived) and what each API key does. :func:`build_directory` turns them into the
API-shaped objects the directory routes serve, plus the :class:`KeyProfile` of every key
that the usage generator spends from, all drawn from one seeded ``random.Random``.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aispend.providers.anthropic.simprices import LIST_PRICES
from aispend.providers.anthropic.simusage import KeyProfile, key_ratios

__all__ = ["Directory", "build_directory"]

_MODEL_CODES = dict(zip(("o6", "s6", "s5", "h5", "o1"), LIST_PRICES, strict=True))
# name, colour, days before today it was archived (None = live), default geo
_WORKSPACES: tuple[tuple[str, str, int | None, str], ...] = (
    ("Production", "#6C5BB9", None, "global"),
    ("Research", "#C5705D", 60, "global"),
    ("Support Bot", "#3D8B7A", None, "us"),
    ("Data Platform", "#D4A03C", None, "global"),
)
# name, workspace (0 = Default), status, "model:weight,...", $/day at unit growth,
# flags (b batch, u US geo, w web search, h 1h cache, l long context),
# created (days before history start if >= 0, else days before today), stopped (days before today)
_KEYS: tuple[tuple[str, int, str, str, float, str, int, int | None], ...] = (
    ("prod-api-gateway", 1, "active", "o6:5,s6:3,h5:2,s5:1", 330, "buw", 40, None),
    ("prod-batch-summaries", 1, "active", "s6:6,h5:4,o6:1", 180, "bu", 35, None),
    ("prod-agents", 1, "active", "o6:6,s6:4,h5:1", 220, "buwh", 20, None),
    ("prod-search-assistant", 1, "active", "s6:7,h5:3,s5:2", 110, "bwl", 12, None),
    ("prod-legacy-sonnet", 1, "active", "s5:8,o1:2,h5:1", 90, "bl", 60, None),
    ("claude-code-ci", 1, "active", "o6:4,s6:6,h5:2", 60, "h", 5, None),
    ("prod-old-worker", 1, "inactive", "s5:6,h5:4", 40, "b", 70, 100),
    ("default-key", 0, "active", "s6:6,h5:4,o6:1", 45, "b", 80, None),
    ("local-dev", 0, "active", "o6:3,s5:4,h5:3,s6:2", 20, "w", 50, None),
    ("ci-smoke-tests", 0, "active", "h5:10,s6:1", 8, "", 45, None),
    ("research-evals", 2, "archived", "o6:4,o1:3,s5:3", 120, "bl", 30, 60),
    ("research-notebooks", 2, "archived", "o1:5,s6:5", 60, "h", 25, 60),
    ("research-sandbox", 2, "archived", "h5:10,s6:2", 15, "", 25, 60),
    ("support-triage", 3, "active", "h5:7,s6:3,s5:1", 110, "bu", 15, None),
    ("support-replies", 3, "active", "s6:8,h5:2,o6:1", 90, "uwl", 15, None),
    ("support-kb-sync", 3, "active", "s5:10,h5:2", 35, "bl", 10, None),
    ("support-staging", 3, "inactive", "h5:10,s6:2", 10, "", 10, 30),
    ("data-etl-classify", 4, "active", "h5:6,s6:4,s5:2", 100, "b", 8, None),
    ("data-extraction", 4, "active", "s5:5,o6:5,h5:2", 70, "blh", -150, None),
    ("data-reporting", 4, "active", "s6:10,h5:2", 25, "w", -90, None),
    ("data-backfill-2025", 4, "archived", "o1:6,s5:4", 45, "b", 30, 200),
)
# Console/Workbench traffic: about 2% of the organisation's usage, no API key.
_CONSOLE = ("s6:5,o6:3,h5:2", 36.0)
_USERS: tuple[tuple[str, str], ...] = (
    ("Maya Okafor", "admin"),
    ("Daniel Lindqvist", "admin"),
    ("Priya Raman", "developer"),
    ("Tomás Herrera", "developer"),
    ("Hannah Weiss", "developer"),
    ("Kenji Watanabe", "developer"),
    ("Amara Nwosu", "claude_code_user"),
    ("Lucas Moreau", "claude_code_user"),
    ("Grace Chen", "billing"),
    ("Oliver Brandt", "user"),
)
_SCALE = 0.9  # dollars-per-day calibration: weekday totals land in the low thousands
_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass
class Directory:
    """API-shaped directory objects in serving order, and the spending profile of every key."""

    users: list[dict[str, Any]] = field(default_factory=list)
    workspaces: list[dict[str, Any]] = field(default_factory=list)
    api_keys: list[dict[str, Any]] = field(default_factory=list)
    profiles: list[KeyProfile] = field(default_factory=list)


def _stamp(day: date, seconds: int) -> str:
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_models(spec: str) -> tuple[tuple[str, float], ...]:
    pairs = [part.split(":") for part in spec.split(",")]
    total = sum(float(w) for _, w in pairs)
    return tuple((_MODEL_CODES[code], float(w) / total) for code, w in pairs)


def build_directory(rng: random.Random, first_day: date, today: date) -> Directory:
    """The organisation's directory for history starting at ``first_day``.

    Every id and habit is drawn from ``rng`` in a fixed order (users, workspaces, then each
    key's id, hint and ratios, then the Console's ratios); reordering the draws would give
    every simulated organisation different ids.
    """
    out = Directory()

    def ident(prefix: str) -> str:
        return prefix + "01" + "".join(rng.choice(_ID_ALPHABET) for _ in range(22))

    origin = first_day - timedelta(days=30)
    for i, (name, role) in enumerate(_USERS):
        email = name.lower().replace("á", "a").replace(" ", ".") + "@acme-robotics.example"
        out.users.append(
            {
                "id": ident("user_"),
                "type": "user",
                "email": email,
                "name": name,
                "role": role,
                "added_at": _stamp(origin - timedelta(days=60 - 5 * i), 3600 * 9 + i),
            }
        )
    workspace_ids: list[str | None] = [None]
    for i, (name, colour, archived_age, geo) in enumerate(_WORKSPACES):
        ws_id = ident("wrkspc_")
        workspace_ids.append(ws_id)
        archived = None if archived_age is None else today - timedelta(days=archived_age)
        out.workspaces.append(
            {
                "id": ws_id,
                "type": "workspace",
                "name": name,
                "created_at": _stamp(origin - timedelta(days=50 - 7 * i), 36000 + 97 * i),
                "archived_at": None if archived is None else _stamp(archived, 3600 * 15),
                "display_color": colour,
                "tags": {},
                "data_residency": {
                    "allowed_inference_geos": "unrestricted",
                    "default_inference_geo": geo,
                    "workspace_geo": "us",
                },
                "compartment_id": None,
                "external_key_id": None,
            }
        )
    creators = [u for u in out.users if u["role"] in ("admin", "developer")]
    for i, (name, ws, status, models, budget, flags, created, stopped) in enumerate(_KEYS):
        key_id = ident("apikey_")
        first = first_day - timedelta(days=created) if created >= 0 else today + timedelta(days=created)
        stop = None if stopped is None else today - timedelta(days=stopped)
        creator = creators[i % len(creators)]
        hint = "".join(rng.choice(_ID_ALPHABET) for _ in range(5))
        out.api_keys.append(
            {
                "id": key_id,
                "type": "api_key",
                "name": name,
                "status": status,
                "created_at": _stamp(first, 3600 * 8 + 61 * i),
                "expires_at": None,
                "created_by": {"id": creator["id"], "type": "user"},
                "partial_key_hint": f"sk-ant-api03-{hint[:3]}...{hint[3:]}AA",
                "principal": {"id": creator["id"], "type": "user"},
                "workspace_id": workspace_ids[ws],
            }
        )
        ratios = key_ratios(rng, flags)
        prof = KeyProfile(
            key_id, workspace_ids[ws], _parse_models(models), budget * _SCALE, flags, first, stop, ratios
        )
        out.profiles.append(prof)
    console = KeyProfile(
        None,
        None,
        _parse_models(_CONSOLE[0]),
        _CONSOLE[1] * _SCALE,
        "",
        first_day,
        None,
        key_ratios(rng, ""),
    )
    out.profiles.append(console)
    out.api_keys.sort(key=lambda k: (k["created_at"], k["id"]))
    return out

"""Directory of the simulated OpenAI organisation: projects, users, service accounts and keys.

The tables below are the cast of the demo: who works there, which projects exist (one
archived, with usage before it was archived), which project API keys and service
accounts there are and what each key does. :func:`build_directory` turns them into the
API-shaped objects the list routes serve (reference §4), plus the
:class:`~.simusage.Traffic` of every key and Playground user and the
:class:`~.simusage.ProjectTraffic` of every project, all drawn from one seeded
``random.Random``.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aispend.providers.openai.simusage import ProjectTraffic, Traffic, habits

__all__ = ["Directory", "build_directory"]

_MODEL_CODES = {
    "4o": "gpt-4o-2024-08-06",
    "4om": "gpt-4o-mini-2024-07-18",
    "41": "gpt-4.1-2025-04-14",
    "41m": "gpt-4.1-mini-2025-04-14",
    "o3": "o3-2025-04-16",
    "o4m": "o4-mini-2025-04-16",
    "g5": "gpt-5-2025-08-07",
    "g5m": "gpt-5-mini-2025-08-07",
    "rt": "gpt-realtime-2025-08-28",
    "img": "gpt-image-1",
}
# name, days before history start it was created, days before today it was archived (None: live),
# code-interpreter sessions a weekday, vector stores as (days after history start, MiB, MiB/day)
_PROJECTS: tuple[tuple[str, int, int | None, float, tuple[tuple[int, int, int], ...]], ...] = (
    ("Default project", 60, None, 25.0, ()),
    ("Support Assistant", 40, None, 0.0, ((0, 320, 2),)),
    ("Search & Retrieval", 30, None, 0.0, ((0, 2048, 12), (150, 512, 20))),
    ("Media Studio", 20, None, 0.0, ()),
    ("Contract Review Pilot", 10, 45, 60.0, ((200, 900, 8),)),
)
_USERS: tuple[tuple[str, str], ...] = (
    ("Maya Okafor", "owner"),
    ("Daniel Lindqvist", "owner"),
    ("Priya Raman", "reader"),
    ("Tomás Herrera", "reader"),
    ("Hannah Weiss", "reader"),
    ("Kenji Watanabe", "reader"),
    ("Amara Nwosu", "reader"),
    ("Grace Chen", "reader"),
)
# project -> (user, project role) members, owners first
_MEMBERS: tuple[tuple[tuple[int, str], ...], ...] = (
    ((0, "owner"), (1, "member"), (2, "member"), (3, "member"), (4, "member"), (5, "member")),
    ((1, "owner"), (2, "member"), (3, "member")),
    ((0, "owner"), (4, "member"), (5, "member")),
    ((1, "owner"), (5, "member"), (6, "member")),
    ((0, "owner"), (7, "member")),
)
_SERVICE_ACCOUNTS: tuple[tuple[str, int], ...] = (("support-bot", 1), ("retrieval-indexer", 2))
# name, project, owner ("u<i>" user, "s<i>" service account), "model:weight,...", $/day at unit
# growth, flags (see simusage), created (days before history start if >= 0, else days before
# today), stopped (days before today), owner_project_access
_KEYS: tuple[tuple[str, int, str, str, float, str, int, int | None, str], ...] = (
    ("default-dev", 0, "u0", "4om:4,41m:3,g5m:3", 25, "mv", 40, None, "active"),
    ("research-notebooks", 0, "u3", "41:3,o3:3,g5:4", 35, "bw", 30, None, "active"),
    ("support-prod", 1, "s0", "4o:5,4om:3,g5m:2", 260, "pwmek", 35, None, "active"),
    ("support-batch-evals", 1, "u2", "4o:4,41:3,g5:3", 90, "b", 25, None, "active"),
    ("support-staging", 1, "u1", "4om:6,g5m:4", 12, "m", 20, None, "active"),
    ("retrieval-indexer", 2, "s1", "41m:6,4om:4", 40, "bEk", 25, None, "active"),
    ("retrieval-api", 2, "u4", "g5:5,o4m:3,41m:2", 140, "xkwe", 15, None, "active"),
    ("media-render", 3, "u5", "img:6,4o:4", 60, "iv", 10, None, "active"),
    ("media-voice", 3, "u6", "rt:7,4om:3", 45, "st", 10, None, "active"),
    ("contract-pilot", 4, "u7", "41:6,o3:4", 80, "bvk", -300, 50, "active"),
    ("intern-2025", 0, "u2", "4om:10", 6, "", 20, 150, "inactive"),
)
# Playground traffic: project, user, models, $/day, flags; no API key.
_PLAYGROUND: tuple[tuple[int, int, str, float, str], ...] = (
    (0, 1, "g5:5,4o:5", 8, ""),
    (1, 3, "4om:5,g5m:5", 4, "w"),
)
_EMAIL_DOMAIN = "acme-robotics.example"
_ALNUM = string.ascii_letters + string.digits


@dataclass
class Directory:
    """API-shaped directory objects in serving order, and the traffic profiles behind usage."""

    projects: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    project_users: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    service_accounts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    api_keys: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    admin_keys: list[dict[str, Any]] = field(default_factory=list)
    keys: list[Traffic] = field(default_factory=list)
    project_traffic: list[ProjectTraffic] = field(default_factory=list)


def _unix(day: date, seconds: int) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) + seconds


def _parse_models(spec: str) -> tuple[tuple[str, float], ...]:
    pairs = [part.split(":") for part in spec.split(",")]
    total = sum(float(w) for _, w in pairs)
    return tuple((_MODEL_CODES[code], float(w) / total) for code, w in pairs)


class _Ids:
    """Random ids and hints, all drawn from the one directory stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def __call__(self, n: int, alphabet: str = _ALNUM) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))


def build_directory(rng: random.Random, first_day: date, today: date, admin_key: str) -> Directory:
    """The organisation's directory for history starting at ``first_day``.

    Every id and habit is drawn from ``rng`` in a fixed order (users, projects, service
    accounts, keys, Playground users, admin keys); reordering the draws would give every
    simulated organisation different ids.
    """
    out, ids = Directory(), _Ids(rng)
    origin = first_day - timedelta(days=30)
    for i, (name, role) in enumerate(_USERS):
        email = name.lower().replace("á", "a").replace(" ", ".") + "@" + _EMAIL_DOMAIN
        out.users.append(
            {
                "object": "organization.user",
                "id": "user-" + ids(24),
                "name": name,
                "email": email,
                "role": role,
                "added_at": _unix(origin - timedelta(days=90 - 6 * i), 3600 * 9 + 7 * i),
            }
        )
    for i in range(len(_PROJECTS)):
        _add_project(out, ids, i, first_day, today)
    _add_keys(out, ids, first_day, today)
    for project, member, models, budget, flags in _PLAYGROUND:
        user_id = out.users[member]["id"]
        profile = Traffic(
            out.projects[project]["id"],
            None,
            user_id,
            _parse_models(models),
            budget,
            flags,
            first_day,
            None,
            habits(rng),
        )
        out.keys.append(profile)
    for i, (name, holder, age) in enumerate((("Billing export", 1, 200), ("aispend (read-only)", 0, 5))):
        admin = out.users[holder]
        value = admin_key if i == 1 else "sk-admin-" + ids(40)
        out.admin_keys.append(
            {
                "object": "organization.admin_api_key",
                "id": "key_" + ids(16),
                "name": name,
                "redacted_value": f"sk-admin...{value[-3:]}",
                "created_at": _unix(today - timedelta(days=age), 3600 * 11),
                "expires_at": None,
                "last_used_at": _unix(today - timedelta(days=1), 3600 * 6) if i == 0 else None,
                "owner": {
                    "type": "user",
                    "object": "organization.user",
                    "id": admin["id"],
                    "name": admin["name"],
                    "created_at": admin["added_at"],
                    "role": "owner",
                },
            }
        )
    return out


def _add_project(out: Directory, ids: _Ids, i: int, first_day: date, today: date) -> None:
    """Project ``i`` of ``_PROJECTS``: the project, its members and its own traffic."""
    name, created, archived, sessions, stores = _PROJECTS[i]
    project_id = "proj_" + ids(24)
    archived_day = None if archived is None else today - timedelta(days=archived)
    created_at = _unix(first_day - timedelta(days=created), 36000 + 113 * i)
    out.projects.append(
        {
            "id": project_id,
            "object": "organization.project",
            "name": name,
            "created_at": created_at,
            "archived_at": None if archived_day is None else _unix(archived_day, 3600 * 15),
            "status": "active" if archived_day is None else "archived",
            "external_key_id": None,
        }
    )
    out.project_users[project_id] = [
        {
            "object": "organization.project.user",
            "id": out.users[u]["id"],
            "name": out.users[u]["name"],
            "email": out.users[u]["email"],
            "role": role,
            "added_at": created_at + 600 * (j + 1),
        }
        for j, (u, role) in enumerate(_MEMBERS[i])
    ]
    vector_stores = tuple(
        ("vs_" + ids(32, "0123456789abcdef"), first_day + timedelta(days=after), mib, growth)
        for after, mib, growth in stores
    )
    out.project_traffic.append(ProjectTraffic(project_id, vector_stores, sessions, first_day, archived_day))
    out.service_accounts[project_id] = []
    out.api_keys[project_id] = []


def _add_keys(out: Directory, ids: _Ids, first_day: date, today: date) -> None:
    """The service accounts, then every project API key and the traffic it carries."""
    accounts = []
    for i, (name, project) in enumerate(_SERVICE_ACCOUNTS):
        account = {
            "object": "organization.project.service_account",
            "id": "svc_acct_" + ids(24),
            "name": name,
            "role": "member",
            "created_at": out.projects[project]["created_at"] + 86400 + 41 * i,
        }
        accounts.append(account)
        out.service_accounts[out.projects[project]["id"]].append(account)
    for i, (name, project, owner, models, budget, flags, created, stopped, access) in enumerate(_KEYS):
        project_id = out.projects[project]["id"]
        first = first_day - timedelta(days=created) if created >= 0 else today + timedelta(days=created)
        stop = None if stopped is None else today - timedelta(days=stopped)
        key_id, hint = "key_" + ids(16), ids(4)
        user_id: str | None = None
        if owner.startswith("s"):
            account = accounts[int(owner[1:])]
            holder: dict[str, Any] = {
                "type": "service_account",
                "service_account": {k: account[k] for k in ("id", "name", "created_at", "role")},
            }
            redacted = f"sk-svcacct-...{hint}"
        else:
            member = int(owner[1:])
            user = out.users[member]
            user_id = user["id"]
            holder = {
                "type": "user",
                "user": {
                    "id": user_id,
                    "email": user["email"],
                    "name": user["name"],
                    "created_at": user["added_at"],
                    "role": next((r for u, r in _MEMBERS[project] if u == member), "member"),
                },
            }
            redacted = f"sk-proj-...{hint}"
        out.api_keys[project_id].append(
            {
                "object": "organization.project.api_key",
                "redacted_value": redacted,
                "name": name,
                "created_at": _unix(first, 3600 * 8 + 61 * i),
                "last_used_at": _unix((stop or today) - timedelta(days=1), 3600 * 17 + 13 * i),
                "id": key_id,
                "owner_project_access": access,
                "owner": holder,
            }
        )
        profile = Traffic(
            project_id, key_id, user_id, _parse_models(models), budget, flags, first, stop, habits(ids.rng)
        )
        out.keys.append(profile)
    for keys in out.api_keys.values():
        keys.sort(key=lambda k: (k["created_at"], k["id"]))

"""Seeded generator of the Claude Code analytics records of one simulated day.

Records come out already in the API's shape (reference §4): one per actor and day, for a
handful of the organisation's coders (fewer at weekends), sometimes a remote session, and
always the ``claude-code-ci`` key. Each day draws from its own ``random.Random``, seeded
with ``(seed, day)`` and apart from the usage stream, so Claude Code data neither depends on
nor disturbs the usage and cost reports.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from aispend.providers.anthropic.simprices import estimated_cost_cents

__all__ = ["generate_claude_code"]

_MODELS = ["claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5-20251001"]
_TERMINALS = ["vscode", "iTerm.app", "tmux", "ghostty", "cursor"]
_EDIT_TOOLS = ("edit_tool", "multi_edit_tool", "notebook_edit_tool", "write_tool")


def generate_claude_code(
    seed: int, day: date, users: list[dict[str, Any]], organization_id: str
) -> list[dict[str, Any]]:
    """API-shaped records of ``day`` in serving order: users by email, then API actors."""
    rng = random.Random(f"{seed}:claude-code:{day.toordinal()}")
    coders = [u for u in users if u["role"] in ("admin", "developer", "claude_code_user")]
    weekend = day.weekday() >= 5
    chosen = rng.sample(coders, rng.randint(1, 3) if weekend else rng.randint(5, 7))
    actors: list[tuple[dict[str, Any], bool]] = [
        ({"type": "user_actor", "email_address": u["email"]}, False) for u in chosen
    ]
    if not weekend and rng.random() < 0.5:
        actors.append(({"type": "user_actor", "email_address": chosen[0]["email"]}, True))
    actors.append(({"type": "api_actor", "api_key_name": "claude-code-ci"}, False))
    records = [_record(rng, day, actor, remote, organization_id) for actor, remote in actors]
    records.sort(
        key=lambda r: (
            r["actor"]["type"] != "user_actor",
            r["actor"].get("email_address") or r["actor"]["api_key_name"],
            r["is_remote"],
        )
    )
    return records


def _record(
    rng: random.Random, day: date, actor: dict[str, Any], remote: bool, organization_id: str
) -> dict[str, Any]:
    breakdown = []
    for model in rng.sample(_MODELS, rng.randint(1, 2)):
        tokens = {
            "input": rng.randint(20_000, 900_000),
            "output": rng.randint(5_000, 200_000),
            "cache_read": rng.randint(50_000, 5_000_000),
            "cache_creation": rng.randint(5_000, 400_000),
        }
        breakdown.append(
            {
                "model": model,
                "tokens": tokens,
                "estimated_cost": {"amount": estimated_cost_cents(model, tokens), "currency": "USD"},
            }
        )
    sessions = rng.randint(1, 25)
    return {
        "date": f"{day.isoformat()}T00:00:00Z",
        "actor": actor,
        "organization_id": organization_id,
        "customer_type": "api",
        "subscription_type": None,
        "terminal_type": "web" if remote else rng.choice(_TERMINALS),
        "is_remote": remote,
        "core_metrics": {
            "num_sessions": sessions,
            "lines_of_code": {
                "added": rng.randint(0, 60) * sessions,
                "removed": rng.randint(0, 25) * sessions,
            },
            "commits_by_claude_code": rng.randint(0, sessions),
            "pull_requests_by_claude_code": rng.randint(0, max(1, sessions // 5)),
        },
        "tool_actions": {
            tool: {"accepted": rng.randint(0, 4 * sessions), "rejected": rng.randint(0, 4)}
            for tool in _EDIT_TOOLS
        },
        "model_breakdown": breakdown,
    }

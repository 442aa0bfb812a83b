"""HTTP to the Anthropic Admin API: its headers, error body and advice (see ``providers.http``)."""

from __future__ import annotations

from typing import Any

import httpx

from aispend.providers.http import JsonApiClient, Params, Vendor

__all__ = ["ANTHROPIC_API", "API_VERSION", "CONNECT_STEPS", "AnthropicClient", "Params"]

ANTHROPIC_API = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
CONNECT_STEPS = (
    "Create an Admin key in the Claude Console (Settings > Admin keys > Create admin key; "
    "only members with the admin role can), then reconnect with "
    "`aispend connect anthropic --name NAME --key-stdin`."
)


def _error_detail(body: Any) -> tuple[str, str]:
    """The documented error body: ``{"type":"error","error":{"type":..,"message":..}}``."""
    error = body["error"]
    return str(error.get("type", "")), str(error.get("message", ""))


ANTHROPIC = Vendor(
    name="Anthropic",
    error_detail=_error_detail,
    unauthorized="is it an Admin key (sk-ant-admin…)?",
    connect_steps=CONNECT_STEPS,
    forbidden_step="Use an Admin key of the organisation (Console > Settings > Admin keys).",
    headers={"anthropic-version": API_VERSION},
)


class AnthropicClient(JsonApiClient):
    """Single GET requests to the Admin API, decoded to JSON objects."""

    def __init__(self, http: httpx.Client, auth: httpx.Auth, base_url: str = ANTHROPIC_API) -> None:
        super().__init__(http, auth, base_url, ANTHROPIC)

"""HTTP to the ChatGPT Enterprise Codex Analytics API (reference openai.md §5.1).

A Platform API key, scoped by OpenAI support to ``codex.enterprise.analytics.read``, sent as a
bearer token to ``api.chatgpt.com``; errors come in OpenAI's shape. The key's organisation
must own the workspace, so a 403 can mean either a missing scope or the wrong workspace.
"""

from __future__ import annotations

from typing import Any

import httpx

from aispend.providers.http import JsonApiClient, Vendor

__all__ = ["CHATGPT_API", "CONNECT_STEPS", "SCOPE", "CodexAnalyticsClient"]

CHATGPT_API = "https://api.chatgpt.com"
SCOPE = "codex.enterprise.analytics.read"
CONNECT_STEPS = (
    "Create a read-only Platform API key in platform.openai.com in the organisation that owns the "
    f"ChatGPT workspace, ask support@openai.com to scope it to {SCOPE}, copy the Workspace ID from "
    "the ChatGPT admin console (Workspace details), then reconnect with "
    "`aispend connect chatgpt-enterprise --name NAME --workspace-id ID --key-stdin`."
)


def _error_detail(body: Any) -> tuple[str, str]:
    """OpenAI's error body: ``{"error": {"message", "type", "param", "code"}}``."""
    error = body["error"]
    return str(error.get("type") or error.get("code") or ""), str(error.get("message", ""))


CHATGPT_ENTERPRISE = Vendor(
    name="ChatGPT Enterprise",
    error_detail=_error_detail,
    unauthorized="is it a Platform API key of the organisation that owns the workspace?",
    connect_steps=CONNECT_STEPS,
    forbidden_step=(
        f"The key needs the {SCOPE} scope (granted by OpenAI support, not self-serve) and must belong "
        "to the organisation that owns the workspace. " + CONNECT_STEPS
    ),
)


class CodexAnalyticsClient(JsonApiClient):
    """Single GET requests to the Codex Analytics API, decoded to JSON objects."""

    def __init__(self, http: httpx.Client, auth: httpx.Auth, base_url: str = CHATGPT_API) -> None:
        super().__init__(http, auth, base_url, CHATGPT_ENTERPRISE)

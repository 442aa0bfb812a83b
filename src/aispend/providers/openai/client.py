"""HTTP to the OpenAI Admin API: bearer auth, its error body and advice (see ``providers.http``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from aispend.providers.auth import RevealedKeyAuth
from aispend.providers.http import JsonApiClient, Vendor

__all__ = ["CONNECT_STEPS", "OPENAI_API", "OpenAIClient", "api_root"]

OPENAI_API = "https://api.openai.com/v1"
CONNECT_STEPS = (
    "Create an Admin key at platform.openai.com > Settings > Organization > Admin keys "
    "(only organisation owners can; project keys cannot read usage or costs), then reconnect with "
    "`aispend connect openai --name NAME --key-stdin`."
)


def _error_detail(body: Any) -> tuple[str, str]:
    """The documented error body: ``{"error": {"message", "type", "param", "code"}}``."""
    error = body["error"]
    return str(error.get("code") or error.get("type") or ""), str(error.get("message", ""))


OPENAI = Vendor(
    name="OpenAI",
    error_detail=_error_detail,
    unauthorized="is it an Admin key (sk-admin-…)?",
    connect_steps=CONNECT_STEPS,
    forbidden_step="Use an Admin key of the organisation (an organisation owner creates it).",
)


def api_root(base_url: str) -> str:
    """The URL that ``/v1/...`` paths hang from.

    The spec's server URL includes ``/v1`` while a proxy or stand-in is usually given
    as its bare origin; both readings of ``--base-url`` are accepted.
    """
    root = base_url.rstrip("/")
    return root.removesuffix("/v1")


class OpenAIClient(JsonApiClient):
    """Single GET requests to the Admin API with ``Authorization: Bearer <key>``."""

    def __init__(self, http: httpx.Client, reveal_key: Callable[[], str], base_url: str = OPENAI_API) -> None:
        super().__init__(
            http, RevealedKeyAuth("authorization", reveal_key, "Bearer "), api_root(base_url), OPENAI
        )

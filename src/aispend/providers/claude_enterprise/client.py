"""HTTP to the Claude Enterprise Analytics and Spend Limits APIs (reference anthropic.md §6).

Both APIs live on the Anthropic API host under ``/v1/organizations``, take an Enterprise key
in ``x-api-key`` and answer errors in the Anthropic error shape. What differs from the Admin
API is that the key carries *scopes*: a key calling outside them gets 403, and the message
lists the scopes the key has and the one needed. :class:`ScopeError` keeps that apart from
other failures so callers can say which scope to ask for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

from aispend.providers.base import FatalProviderError, ProviderError, RetriableProviderError
from aispend.providers.http import JsonApiClient, Params, Vendor

__all__ = [
    "ANALYTICS",
    "CLAUDE_API",
    "CONNECT_STEPS",
    "ClaudeEnterpriseClient",
    "CursorExpiredError",
    "Params",
    "ScopeError",
    "scopes_in",
]

CLAUDE_API = "https://api.anthropic.com"
ANALYTICS = "/v1/organizations/analytics"
API_VERSION = "2023-06-01"
CONNECT_STEPS = (
    "The primary owner creates an Analytics API key in claude.ai (Organization settings > API; "
    "public API access must be switched on) with the read:analytics scope, plus read:spend_limits "
    "and write:spend_limits to read or change spend limits, then reconnect with "
    "`aispend connect claude-enterprise --name NAME --key-stdin`."
)
_SCOPE = re.compile(r"\b(?:read|write):[a-z_]+\b")


def scopes_in(message: str) -> list[str]:
    """Every scope named in an error message, in order of first mention."""
    return list(dict.fromkeys(_SCOPE.findall(message)))


class ScopeError(FatalProviderError):
    """403 for a missing scope. ``granted`` are the scopes the message says the key has."""

    def __init__(self, message: str, *, needed: str, granted: list[str], next_step: str) -> None:
        super().__init__(message, next_step=next_step, status=403)
        self.needed = needed
        self.granted = granted


class CursorExpiredError(FatalProviderError):
    """410: the page cursor expired because the data was refreshed; paging must restart."""


def _error_detail(body: Any) -> tuple[str, str]:
    error = body["error"]
    return str(error.get("type", "")), str(error.get("message", ""))


CLAUDE_ENTERPRISE = Vendor(
    name="Claude Enterprise",
    error_detail=_error_detail,
    unauthorized="is it a Claude Enterprise Analytics key made in claude.ai (not a Console Admin key)?",
    connect_steps=CONNECT_STEPS,
    forbidden_step=CONNECT_STEPS,
    headers={"anthropic-version": API_VERSION},
)


class ClaudeEnterpriseClient(JsonApiClient):
    """Single requests to the Analytics and Spend Limits APIs, decoded to JSON objects.

    ``needed`` names the scope a path requires, so a 403 can say which one is missing.
    """

    def __init__(self, http: httpx.Client, auth: httpx.Auth, base_url: str = CLAUDE_API) -> None:
        super().__init__(http, auth, base_url, CLAUDE_ENTERPRISE)

    def get(self, path: str, params: Params = ()) -> dict[str, Any]:
        try:
            return super().get(path, params)
        except ProviderError as error:
            raise self._refine(error, path, "GET") from None

    def send(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One POST or DELETE with a JSON body; the answer decoded like a GET's."""
        try:
            response = self._http.request(
                method,
                f"{self.base_url}{path}",
                auth=self._auth,
                headers={**self.vendor.headers, "accept": "application/json"},
                content=json.dumps(body).encode() if body is not None else None,
            )
        except httpx.TimeoutException as exc:
            # A write that timed out may still have happened: never retried blindly.
            raise FatalProviderError(
                f"Claude Enterprise did not answer {method} {path} in time ({type(exc).__name__}).",
                next_step="Check with `aispend limits list` whether the change was made before retrying.",
            ) from None
        except httpx.TransportError as exc:
            raise RetriableProviderError(
                f"Could not reach Claude Enterprise at {self.base_url} ({type(exc).__name__}).",
                next_step="Check the network, proxy settings and --base-url.",
            ) from None
        if response.status_code not in (200, 201):
            raise self._refine(self._error(path, response), path, method)
        if not response.content:
            return {}
        return self._decode(path, response)

    def _refine(self, error: ProviderError, path: str, method: str) -> ProviderError:
        if error.status == 410:
            return CursorExpiredError(
                error.message, next_step="Paging restarts from the first page.", status=410
            )
        # Other 403s exist (spend limits need usage credits switched on): only a message about
        # scopes is a missing scope.
        if error.status != 403 or "scope" not in error.message.lower():
            return error
        needed = _needed_scope(path, method)
        granted = [scope for scope in scopes_in(error.message) if scope != needed]
        has = ", ".join(granted) if granted else "none that it names"
        return ScopeError(
            f"The Claude Enterprise key lacks the {needed} scope needed for {method} {path} "
            f"(its scopes: {has}). Provider said: {error.message}",
            needed=needed,
            granted=granted,
            next_step=CONNECT_STEPS,
        )


def _needed_scope(path: str, method: str) -> str:
    if path.startswith(ANALYTICS):
        return "read:analytics"
    return "read:spend_limits" if method == "GET" else "write:spend_limits"

"""HTTP to the Anthropic Admin API: headers, parameters and errors, one request per call.

Responses are decoded with ``parse_float=Decimal`` so no amount ever passes through
a binary float. Errors are mapped to :class:`RetriableProviderError` or
:class:`FatalProviderError` with a message that says what to do next; nothing here
includes the request (and so the key) in an error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from aispend.providers.base import (
    FatalProviderError,
    ProviderError,
    RateLimitedError,
    RetriableProviderError,
)
from aispend.redact import redact

__all__ = ["ANTHROPIC_API", "API_VERSION", "AnthropicClient", "Params"]

ANTHROPIC_API = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
CONNECT_STEPS = (
    "Create an Admin key in the Claude Console (Settings > Admin keys > Create admin key; "
    "only members with the admin role can), then reconnect with "
    "`aispend connect anthropic --name NAME --key-stdin`."
)

Params = Sequence[tuple[str, str]]
"""Query parameters as pairs, so array parameters repeat in bracket form: ``models[]=a&models[]=b``."""


def _retry_after_seconds(value: str | None) -> float | None:
    """``retry-after`` as seconds: an integer, a decimal, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_detail(response: httpx.Response) -> tuple[str, str]:
    """The documented error body: ``{"type":"error","error":{"type":..,"message":..}}``."""
    try:
        body = response.json()
        error = body["error"]
        return redact(str(error.get("type", ""))), redact(str(error.get("message", "")))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", redact(response.text[:200])


class AnthropicClient:
    """Issues single GET requests to the Admin API and returns decoded JSON objects."""

    def __init__(self, http: httpx.Client, auth: httpx.Auth, base_url: str = ANTHROPIC_API) -> None:
        self._http = http
        self._auth = auth
        self.base_url = base_url.rstrip("/")

    def get(self, path: str, params: Params = ()) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        try:
            response = self._http.get(
                url,
                params=list(params),
                auth=self._auth,
                headers={"anthropic-version": API_VERSION, "accept": "application/json"},
            )
        except httpx.TimeoutException as exc:
            raise RetriableProviderError(
                f"Anthropic did not answer {path} in time ({type(exc).__name__}).",
                next_step="The sync retries automatically; if it keeps failing, check the network.",
            ) from None
        except httpx.TransportError as exc:
            raise RetriableProviderError(
                f"Could not reach Anthropic at {self.base_url} ({type(exc).__name__}).",
                next_step="Check the network, proxy settings and --base-url.",
            ) from None
        if response.status_code != 200:
            raise self._error(path, response)
        return self._decode(path, response)

    def _decode(self, path: str, response: httpx.Response) -> dict[str, Any]:
        try:
            body = json.loads(response.content, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            # Most often a body cut short by a proxy or a dropped connection.
            raise RetriableProviderError(
                f"Anthropic returned a body for {path} that is not valid JSON "
                f"({len(response.content)} bytes, content-type "
                f"{response.headers.get('content-type', 'unknown')}).",
                next_step="The sync retries automatically; a proxy rewriting responses can cause this.",
            ) from None
        if not isinstance(body, dict):
            raise FatalProviderError(
                f"Anthropic returned a JSON {type(body).__name__} for {path}, not an object.",
                next_step="Check --base-url points at the Anthropic API.",
            )
        return body

    def _error(self, path: str, response: httpx.Response) -> ProviderError:
        status = response.status_code
        kind, message = _error_detail(response)
        said = f"Anthropic answered {path} with {status} {kind}: {message}".rstrip(": ")
        if status == 401:
            return FatalProviderError(
                f"Anthropic rejected the key (401 {kind or 'authentication_error'}); is it an Admin key "
                "(sk-ant-admin…)? It may also have been revoked.",
                next_step=CONNECT_STEPS,
                status=status,
            )
        if status == 403:
            return FatalProviderError(
                f"{said}. The key is valid but may not read this report.",
                next_step="Use an Admin key of the organisation (Console > Settings > Admin keys).",
                status=status,
            )
        if status == 429:
            retry_after = _retry_after_seconds(response.headers.get("retry-after"))
            return RateLimitedError(
                f"{said}. Anthropic asked us to slow down"
                + (f" for {retry_after:g} s." if retry_after is not None else "."),
                retry_after=retry_after,
                next_step="The sync waits and retries at a slower pace.",
            )
        if status >= 500:
            return RetriableProviderError(
                f"{said}.",
                next_step="Anthropic is having trouble; the sync retries, then tries again next run.",
                status=status,
            )
        return FatalProviderError(
            f"{said}.",
            next_step="This looks like a change in Anthropic's API; please report it with this message.",
            status=status,
        )

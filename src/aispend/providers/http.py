"""HTTP to a provider's JSON admin API: one GET per call, errors that say what to do next.

Responses are decoded with ``parse_float=Decimal`` so no amount ever passes through a
binary float. Each provider describes itself with a :class:`Vendor` (its name, headers,
error body and advice); the status-to-error mapping is the same for all of them. Nothing
here puts the request (and so the key) into an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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

__all__ = ["JsonApiClient", "Params", "Vendor", "retry_after_seconds"]

Params = Sequence[tuple[str, str]]
"""Query parameters as pairs, so array parameters can repeat (``models[]=a&models[]=b``)."""


@dataclass(frozen=True)
class Vendor:
    """What differs between providers' admin APIs at the HTTP level.

    ``error_detail`` reads the provider's documented error body into (type, message);
    ``unauthorized`` is the sentence shown for a 401 (which key is expected);
    ``connect_steps`` says how to create the right key; ``forbidden_step`` what to do on 403.
    """

    name: str
    error_detail: Callable[[Any], tuple[str, str]]
    unauthorized: str
    connect_steps: str
    forbidden_step: str
    headers: Mapping[str, str] = field(default_factory=dict)


def retry_after_seconds(value: str | None) -> float | None:
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


class JsonApiClient:
    """Issues single GET requests and returns decoded JSON objects."""

    def __init__(self, http: httpx.Client, auth: httpx.Auth, base_url: str, vendor: Vendor) -> None:
        self._http = http
        self._auth = auth
        self.base_url = base_url.rstrip("/")
        self.vendor = vendor

    def get(self, path: str, params: Params = ()) -> dict[str, Any]:
        name = self.vendor.name
        try:
            response = self._http.get(
                f"{self.base_url}{path}",
                params=list(params),
                auth=self._auth,
                headers={**self.vendor.headers, "accept": "application/json"},
            )
        except httpx.TimeoutException as exc:
            raise RetriableProviderError(
                f"{name} did not answer {path} in time ({type(exc).__name__}).",
                next_step="The sync retries automatically; if it keeps failing, check the network.",
            ) from None
        except httpx.TransportError as exc:
            raise RetriableProviderError(
                f"Could not reach {name} at {self.base_url} ({type(exc).__name__}).",
                next_step="Check the network, proxy settings and --base-url.",
            ) from None
        if response.status_code != 200:
            raise self._error(path, response)
        return self._decode(path, response)

    def _decode(self, path: str, response: httpx.Response) -> dict[str, Any]:
        name = self.vendor.name
        try:
            body = json.loads(response.content, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            # Most often a body cut short by a proxy or a dropped connection.
            raise RetriableProviderError(
                f"{name} returned a body for {path} that is not valid JSON "
                f"({len(response.content)} bytes, content-type "
                f"{response.headers.get('content-type', 'unknown')}).",
                next_step="The sync retries automatically; a proxy rewriting responses can cause this.",
            ) from None
        if not isinstance(body, dict):
            raise FatalProviderError(
                f"{name} returned a JSON {type(body).__name__} for {path}, not an object.",
                next_step=f"Check --base-url points at the {name} API.",
            )
        return body

    def _detail(self, response: httpx.Response) -> tuple[str, str]:
        try:
            kind, message = self.vendor.error_detail(response.json())
            return redact(str(kind or "")), redact(str(message or ""))
        except (ValueError, KeyError, TypeError, AttributeError):
            return "", redact(response.text[:200])

    def _error(self, path: str, response: httpx.Response) -> ProviderError:
        name = self.vendor.name
        status = response.status_code
        kind, message = self._detail(response)
        said = f"{name} answered {path} with {status} {kind}: {message}".rstrip(": ")
        if status == 401:
            return FatalProviderError(
                f"{name} rejected the key (401 {kind or 'authentication_error'}); {self.vendor.unauthorized} "
                "It may also have been revoked.",
                next_step=self.vendor.connect_steps,
                status=status,
            )
        if status == 403:
            return FatalProviderError(
                f"{said}. The key is valid but may not read this report.",
                next_step=self.vendor.forbidden_step,
                status=status,
            )
        if status == 429:
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            return RateLimitedError(
                f"{said}. {name} asked us to slow down"
                + (f" for {retry_after:g} s." if retry_after is not None else "."),
                retry_after=retry_after,
                next_step="The sync waits and retries at a slower pace.",
            )
        if status >= 500:
            return RetriableProviderError(
                f"{said}.",
                next_step=f"{name} is having trouble; the sync retries, then tries again next run.",
                status=status,
            )
        return FatalProviderError(
            f"{said}.",
            next_step=f"This looks like a change in {name}'s API; please report it with this message.",
            status=status,
        )

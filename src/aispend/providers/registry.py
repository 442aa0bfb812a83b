"""The providers aispend can connect, and how to build each one's connector."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from aispend.providers.anthropic.client import ANTHROPIC_API
from aispend.providers.anthropic.connector import AnthropicConnector, check_admin_key_format
from aispend.providers.base import Connector

__all__ = ["PROVIDERS", "BuildConnector", "ProviderInfo", "provider_info"]

BuildConnector = Callable[[httpx.Client, Callable[[], str], str, Mapping[str, object]], Connector]
"""``build(http, reveal_key, base_url, options)``: a connector for one connection.

``reveal_key()`` opens the sealed credential for one request; ``options`` are the
connection's stored options (its base URL, pace, and provider-specific settings such as
a workspace or table id)."""


@dataclass(frozen=True)
class ProviderInfo:
    name: str
    display_name: str
    default_base_url: str
    check_key_format: Callable[[str], None]
    build: BuildConnector
    # False for a provider reached with the deployment's own identity (no key is stored).
    needs_key: bool = True


PROVIDERS: dict[str, ProviderInfo] = {
    "anthropic": ProviderInfo(
        name="anthropic",
        display_name="Anthropic Platform",
        default_base_url=ANTHROPIC_API,
        check_key_format=check_admin_key_format,
        build=AnthropicConnector.create,
    ),
}


def provider_info(name: str) -> ProviderInfo:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ValueError(f"unknown provider {name!r}; known: {', '.join(PROVIDERS)}") from None

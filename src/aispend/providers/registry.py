"""The providers aispend can connect, and how to build each one's connector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from aispend.providers.anthropic.client import ANTHROPIC_API
from aispend.providers.anthropic.connector import AnthropicConnector, check_admin_key_format
from aispend.providers.base import Connector

__all__ = ["PROVIDERS", "ProviderInfo", "provider_info"]


@dataclass(frozen=True)
class ProviderInfo:
    name: str
    display_name: str
    default_base_url: str
    check_key_format: Callable[[str], None]
    build: Callable[[httpx.Client, Callable[[], str], str], Connector]


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

"""The providers aispend can connect, and how to build each one's connector."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from aispend.providers.anthropic.client import ANTHROPIC_API
from aispend.providers.anthropic.connector import AnthropicConnector, check_admin_key_format
from aispend.providers.base import Connector
from aispend.providers.chatgpt_enterprise.client import CHATGPT_API
from aispend.providers.chatgpt_enterprise.connector import (
    ChatGPTEnterpriseConnector,
    check_platform_key_format,
)
from aispend.providers.claude_enterprise.client import CLAUDE_API
from aispend.providers.claude_enterprise.connector import (
    ClaudeEnterpriseConnector,
    check_enterprise_key_format,
)
from aispend.providers.gcp.connector import BIGQUERY_API, GcpConnector, refuse_key
from aispend.providers.openai.client import OPENAI_API
from aispend.providers.openai.connector import OpenAIConnector
from aispend.providers.openai.connector import check_admin_key_format as check_openai_key_format

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
    # Report groupings the provider's data cannot answer (reports say so instead of a zero row).
    lacks: frozenset[str] = frozenset()


PROVIDERS: dict[str, ProviderInfo] = {
    "anthropic": ProviderInfo(
        name="anthropic",
        display_name="Anthropic Platform",
        default_base_url=ANTHROPIC_API,
        check_key_format=check_admin_key_format,
        build=AnthropicConnector.create,
    ),
    "openai": ProviderInfo(
        name="openai",
        display_name="OpenAI Platform",
        default_base_url=OPENAI_API,
        check_key_format=check_openai_key_format,
        build=OpenAIConnector.create,
    ),
    "gcp": ProviderInfo(
        name="gcp",
        display_name="Google Cloud (Gemini, Vertex AI)",
        default_base_url=BIGQUERY_API,
        check_key_format=refuse_key,
        build=GcpConnector.create,
        needs_key=False,
        lacks=frozenset({"api-key", "user"}),
    ),
    "claude_enterprise": ProviderInfo(
        name="claude_enterprise",
        display_name="Claude Enterprise",
        default_base_url=CLAUDE_API,
        check_key_format=check_enterprise_key_format,
        build=ClaudeEnterpriseConnector.create,
        lacks=frozenset({"api-key"}),
    ),
    "chatgpt_enterprise": ProviderInfo(
        name="chatgpt_enterprise",
        display_name="ChatGPT Enterprise",
        default_base_url=CHATGPT_API,
        check_key_format=check_platform_key_format,
        build=ChatGPTEnterpriseConnector.create,
        lacks=frozenset({"api-key"}),
    ),
}


def provider_info(name: str) -> ProviderInfo:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ValueError(f"unknown provider {name!r}; known: {', '.join(PROVIDERS)}") from None

"""The Anthropic Platform connector: which reports to read and how to ask for each page."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta

import httpx

from aispend.providers.anthropic.client import CONNECT_STEPS, AnthropicClient, Params
from aispend.providers.anthropic.parse import (
    parse_claude_code_page,
    parse_cost_page,
    parse_directory_page,
    parse_organization,
    parse_usage_page,
)
from aispend.providers.auth import RevealedKeyAuth
from aispend.providers.base import FatalProviderError, FetchedPage, ProviderAccount, StreamSpec

__all__ = ["ADMIN_KEY_PREFIX", "AnthropicConnector", "check_admin_key_format"]

ADMIN_KEY_PREFIX = "sk-ant-admin"
MAX_DAY_BUCKETS = 31  # usage_report/messages and cost_report, bucket_width=1d
CLAUDE_CODE_PAGE = 1000
LIST_PAGE = 1000
USAGE_GROUP_BY = (
    "api_key_id",
    "workspace_id",
    "model",
    "service_tier",
    "context_window",
    "inference_geo",
)
COST_GROUP_BY = ("workspace_id", "description")

STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec("workspaces", "directory", "directory", 0),
    StreamSpec("api_keys", "directory", "directory", 0),
    StreamSpec("users", "directory", "directory", 0),
    StreamSpec("messages", "usage", "usage", MAX_DAY_BUCKETS),
    StreamSpec("cost", "cost", "cost", MAX_DAY_BUCKETS),
    # One day per request: the report takes a single date and no end.
    StreamSpec("claude_code", "usage", "claude_code", 1, optional=True),
)


def check_admin_key_format(key: str) -> None:
    """Refuse, before any network call, a key that cannot be an Admin key."""
    key = key.strip()
    if key.startswith(ADMIN_KEY_PREFIX):
        return
    if key.startswith("sk-ant-api"):
        kind = "a regular API key (sk-ant-api…), which cannot read usage and cost"
    elif key.startswith("sk-"):
        kind = "not an Anthropic Admin key (it does not start with sk-ant-admin)"
    else:
        kind = "not an Anthropic key at all"
    raise FatalProviderError(f"That key is {kind}.", next_step=CONNECT_STEPS)


def _rfc3339(day: date) -> str:
    return datetime.combine(day, time()).strftime("%Y-%m-%dT%H:%M:%SZ")


class AnthropicConnector:
    """Reads the usage report, cost report, Claude Code report and directory lists."""

    provider = "anthropic"
    # The cost report knows standard and batch only: priority and flex bill as standard.
    billed_tiers: frozenset[str] = frozenset()
    costs_by_key = False

    def __init__(self, client: AnthropicClient) -> None:
        self.client = client

    @classmethod
    def create(
        cls, http: httpx.Client, reveal_key: Callable[[], str], base_url: str, options: Mapping[str, object]
    ) -> AnthropicConnector:
        """Build a connector whose requests carry the key returned by ``reveal_key()``."""
        auth = RevealedKeyAuth("x-api-key", reveal_key)
        return cls(AnthropicClient(http, auth, base_url))

    def identify(self) -> ProviderAccount:
        return parse_organization(self.client.get("/v1/organizations/me"))

    def streams(self) -> Sequence[StreamSpec]:
        return STREAMS

    def fetch(self, stream: StreamSpec, start: date, end: date, cursor: str | None) -> FetchedPage:
        if stream.kind == "directory":
            params: list[tuple[str, str]] = [("limit", str(LIST_PAGE))]
            if stream.name == "workspaces":
                params.append(("include_archived", "true"))
            if cursor:
                params.append(("after_id", cursor))
            body = self.client.get(f"/v1/organizations/{stream.name}", params)
            return parse_directory_page(stream.name, body)
        if stream.name == "claude_code":
            params = [("starting_at", start.isoformat()), ("limit", str(CLAUDE_CODE_PAGE))]
            if cursor:
                params.append(("page", cursor))
            body = self.client.get("/v1/organizations/usage_report/claude_code", params)
            return parse_claude_code_page(body, start)
        if stream.name == "messages":
            body = self.client.get(
                "/v1/organizations/usage_report/messages",
                self._bucket_params(start, end, cursor, USAGE_GROUP_BY),
            )
            return parse_usage_page(body)
        if stream.name == "cost":
            body = self.client.get(
                "/v1/organizations/cost_report", self._bucket_params(start, end, cursor, COST_GROUP_BY)
            )
            return parse_cost_page(body)
        raise ValueError(f"unknown Anthropic stream {stream.name!r}")

    @staticmethod
    def _bucket_params(start: date, end: date, cursor: str | None, group_by: Sequence[str]) -> Params:
        days = (end - start) // timedelta(days=1)
        params = [
            ("starting_at", _rfc3339(start)),
            ("ending_at", _rfc3339(end)),
            ("bucket_width", "1d"),
            ("limit", str(max(1, min(days, MAX_DAY_BUCKETS)))),
        ]
        params += [("group_by[]", field) for field in group_by]
        if cursor:
            params.append(("page", cursor))
        return params

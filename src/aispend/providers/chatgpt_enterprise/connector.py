"""The ChatGPT Enterprise connector: Codex Analytics per person and day, and code reviews.

| stream | what |
| --- | --- |
| ``codex_usage`` | credits, turns, threads and text tokens per person, day and Codex client: **total this** |
| ``codex_model_usage`` | the same credits per person, day and model (a breakdown, where reported) |
| ``codex_code_reviews`` | pull requests reviewed and comments per day, by priority |
| ``codex_code_review_responses`` | replies and reactions to review comments per day |

Every fact has ``product="codex"``. Credits are not dollars; they are priced at report time
by the connection's contract rate (``aispend credit-rate``), and are "unpriced" until one is set.

The API reaches back 90 days, is up to 12 hours late and pages rows in an undocumented
order, so each request covers a week and its pages are handed to the engine whole
(:mod:`aispend.providers.chunks`); the trailing 3 days are read again on every run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

import httpx

from aispend.model import UsageRecord
from aispend.providers.auth import RevealedKeyAuth
from aispend.providers.base import FatalProviderError, FetchedPage, ProviderAccount, StreamSpec
from aispend.providers.chatgpt_enterprise.client import CONNECT_STEPS, CodexAnalyticsClient
from aispend.providers.chatgpt_enterprise.parse import (
    next_page,
    parse_code_review_responses,
    parse_code_reviews,
    parse_model_usage,
    parse_usage,
)
from aispend.providers.chunks import WholeWindowPager, WindowPart

__all__ = [
    "STREAMS",
    "WORKSPACE_OPTION",
    "ChatGPTEnterpriseConnector",
    "check_platform_key_format",
    "check_workspace_id",
]

WORKSPACE_OPTION = "workspace_id"
LOOKBACK_DAYS = 90
WINDOW_DAYS = 7
PAGE_SIZE = 500  # the largest page a public client asks for; no official maximum is published
_WORKSPACE_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")

STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec("codex_usage", "usage", "analytics", WINDOW_DAYS),
    StreamSpec("codex_model_usage", "usage", "analytics", WINDOW_DAYS),
    StreamSpec("codex_code_reviews", "usage", "analytics", WINDOW_DAYS),
    StreamSpec("codex_code_review_responses", "usage", "analytics", WINDOW_DAYS),
)
# stream -> (endpoint, parser)
_ENDPOINTS: dict[str, tuple[str, Callable[[Mapping[str, Any], str], list[UsageRecord]]]] = {
    "codex_usage": ("usage", parse_usage),
    "codex_model_usage": ("usage", parse_model_usage),
    "codex_code_reviews": ("code_reviews", parse_code_reviews),
    "codex_code_review_responses": ("code_review_responses", parse_code_review_responses),
}


def check_platform_key_format(key: str) -> None:
    """Refuse, before any network call, a key that cannot be an OpenAI Platform key."""
    key = key.strip()
    if key.startswith("sk-ant-"):
        kind = "an Anthropic key"
    elif not key.startswith("sk-"):
        kind = "not an OpenAI API key (it does not start with sk-)"
    else:
        return
    raise FatalProviderError(f"That key is {kind}.", next_step=CONNECT_STEPS)


def check_workspace_id(workspace_id: str) -> str:
    """The Workspace ID, refused when it could not be one (it goes into the request path)."""
    workspace_id = workspace_id.strip()
    if not _WORKSPACE_ID.fullmatch(workspace_id):
        raise FatalProviderError(
            f"{workspace_id!r} is not a ChatGPT Workspace ID.",
            next_step="Copy it from the ChatGPT admin console, Workspace details.",
        )
    return workspace_id


def _unix(day: date) -> str:
    return str(int(datetime.combine(day, time(), UTC).timestamp()))


def _today() -> date:
    return datetime.now(UTC).date()


class ChatGPTEnterpriseConnector:
    """Reads one workspace's Codex Analytics with a scoped Platform key."""

    provider = "chatgpt_enterprise"
    billed_tiers: frozenset[str] = frozenset()
    costs_by_key = False

    def __init__(
        self, client: CodexAnalyticsClient, workspace_id: str, today: Callable[[], date] = _today
    ) -> None:
        self.client = client
        self.workspace_id = check_workspace_id(workspace_id)
        self.today = today
        self._pager = WholeWindowPager("ChatGPT Enterprise", ())

    @classmethod
    def create(
        cls, http: httpx.Client, reveal_key: Callable[[], str], base_url: str, options: Mapping[str, object]
    ) -> ChatGPTEnterpriseConnector:
        """Build a connector for the workspace in ``options["workspace_id"]``."""
        workspace = options.get(WORKSPACE_OPTION)
        if not isinstance(workspace, str):
            raise FatalProviderError(
                "This ChatGPT Enterprise connection has no Workspace ID.",
                next_step=CONNECT_STEPS,
            )
        auth = RevealedKeyAuth("authorization", reveal_key, prefix="Bearer ")
        return cls(CodexAnalyticsClient(http, auth, base_url), workspace)

    def _path(self, endpoint: str) -> str:
        return f"/v1/analytics/codex/workspaces/{self.workspace_id}/{endpoint}"

    def identify(self) -> ProviderAccount:
        """Read one day of usage: checks the key, its scope and that it may read this workspace."""
        day = self.today() - timedelta(days=1)
        self.client.get(
            self._path("usage"),
            [("start_time", _unix(day)), ("end_time", _unix(day + timedelta(days=1))), ("limit", "1")],
        )
        return ProviderAccount(id=self.workspace_id, name=f"ChatGPT workspace {self.workspace_id}")

    def streams(self) -> Sequence[StreamSpec]:
        return STREAMS

    def fetch(self, stream: StreamSpec, start: date, end: date, cursor: str | None) -> FetchedPage:
        endpoint, parse = _ENDPOINTS[stream.name]
        today = self.today()
        # "The last 90 days" counts from now, so the day 90 days ago is already partly out of reach.
        first, last = max(start, today - timedelta(days=LOOKBACK_DAYS - 1)), min(end, today)
        if first >= last:
            return FetchedPage()
        request = partial(self._page, endpoint, parse, stream.name, first, last)
        return self._pager.fetch(stream.name, first, last, cursor, request)

    def _page(
        self,
        endpoint: str,
        parse: Callable[[Mapping[str, Any], str], list[UsageRecord]],
        stream: str,
        start: date,
        end: date,
        page: str | None,
    ) -> WindowPart:
        params = [
            ("start_time", _unix(start)),
            ("end_time", _unix(end)),
            ("group_by", "day"),
            ("limit", str(PAGE_SIZE)),
        ]
        if page:
            params.append(("page", page))
        body = self.client.get(self._path(endpoint), params)
        return WindowPart(usage=parse(body, stream), next_page=next_page(body))

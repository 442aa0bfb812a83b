"""The OpenAI Platform connector: ten usage endpoints, the costs API and the directory lists."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

import httpx

from aispend.providers.base import (
    FatalProviderError,
    FetchedPage,
    ProviderAccount,
    RetriableProviderError,
    StreamSpec,
)
from aispend.providers.http import Params
from aispend.providers.openai.client import CONNECT_STEPS, OpenAIClient
from aispend.providers.openai.parse import (
    parse_cost_page,
    parse_directory_page,
    parse_projects_account,
    parse_usage_page,
)

__all__ = ["ADMIN_KEY_PREFIX", "USAGE_GROUP_BY", "OpenAIConnector", "check_admin_key_format"]

ADMIN_KEY_PREFIX = "sk-admin-"
MAX_USAGE_DAYS = 31  # usage endpoints, bucket_width=1d
MAX_COST_DAYS = 180  # costs, bucket_width=1d
LIST_PAGE = 100
# In a per-project list cursor: "fetch the next page of projects here" (after the given id).
MORE_PROJECTS = "+projects:"

# Every group_by each endpoint accepts, so rows are as fine as the API can give.
USAGE_GROUP_BY: Mapping[str, tuple[str, ...]] = {
    "completions": ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier"),
    "embeddings": ("project_id", "user_id", "api_key_id", "model"),
    "moderations": ("project_id", "user_id", "api_key_id", "model"),
    "images": ("project_id", "user_id", "api_key_id", "model", "size", "source"),
    "audio_speeches": ("project_id", "user_id", "api_key_id", "model"),
    "audio_transcriptions": ("project_id", "user_id", "api_key_id", "model"),
    "vector_stores": ("project_id",),
    "code_interpreter_sessions": ("project_id",),
    "file_search_calls": ("project_id", "user_id", "api_key_id", "vector_store_id"),
    "web_search_calls": ("project_id", "user_id", "api_key_id", "model", "context_level"),
}
# Added to the API in 2026; an organisation's API may not have them yet (404 skips them).
NEWER_ENDPOINTS = frozenset({"file_search_calls", "web_search_calls"})
COST_GROUP_BY = ("project_id", "line_item", "api_key_id")

STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec("projects", "directory", "directory", 0),
    StreamSpec("users", "directory", "directory", 0),
    StreamSpec("api_keys", "directory", "directory", 0),
    StreamSpec("service_accounts", "directory", "directory", 0),
    *(
        StreamSpec(name, "usage", "usage", MAX_USAGE_DAYS, optional=name in NEWER_ENDPOINTS)
        for name in USAGE_GROUP_BY
    ),
    StreamSpec("costs", "cost", "cost", MAX_COST_DAYS),
)


def check_admin_key_format(key: str) -> None:
    """Refuse, before any network call, a key that cannot be an Admin key."""
    key = key.strip()
    if key.startswith(ADMIN_KEY_PREFIX):
        return
    if key.startswith("sk-proj-"):
        kind = "a project API key (sk-proj-…), which cannot read usage or costs"
    elif key.startswith("sk-svcacct-"):
        kind = "a service account key (sk-svcacct-…), which cannot read usage or costs"
    elif key.startswith("sk-"):
        kind = "a user API key (sk-…), which cannot read usage or costs"
    else:
        kind = "not an OpenAI key at all"
    raise FatalProviderError(
        f"That key is {kind}; an Admin key starts with sk-admin-.", next_step=CONNECT_STEPS
    )


def _unix(day: date) -> str:
    return str(int(datetime.combine(day, time(), UTC).timestamp()))


class _ProjectCursor:
    """Paging through one list per project: the projects still to visit and the list's own cursor.

    Encoded as JSON in the opaque cursor the sync engine hands back, so a list spread over
    many projects is still one request per call.
    """

    def __init__(self, projects: list[str], after: str | None) -> None:
        self.projects = projects
        self.after = after

    def encode(self) -> str | None:
        if not self.projects:
            return None
        return json.dumps({"projects": self.projects, "after": self.after})

    @classmethod
    def decode(cls, cursor: str) -> _ProjectCursor:
        state = json.loads(cursor)
        return cls(list(state["projects"]), state["after"])


class OpenAIConnector:
    """Reads the Admin API's usage, costs and directory lists for one organisation."""

    provider = "openai"
    # Line items name flex and priority (and batch) apart from the default tier.
    billed_tiers: frozenset[str] = frozenset({"flex", "priority"})

    def __init__(self, client: OpenAIClient) -> None:
        self.client = client
        # Older API versions refuse group_by=api_key_id on costs; then cost per key is allocated.
        self.costs_by_key = True

    @classmethod
    def create(
        cls, http: httpx.Client, reveal_key: Callable[[], str], base_url: str, options: Mapping[str, object]
    ) -> OpenAIConnector:
        return cls(OpenAIClient(http, reveal_key, base_url))

    def identify(self) -> ProviderAccount:
        body = self.client.get(
            "/v1/organization/projects", [("include_archived", "true"), ("limit", str(LIST_PAGE))]
        )
        return parse_projects_account(body)

    def streams(self) -> Sequence[StreamSpec]:
        return STREAMS

    def fetch(self, stream: StreamSpec, start: date, end: date, cursor: str | None) -> FetchedPage:
        if stream.kind == "directory":
            return self._directory(stream.name, cursor)
        if stream.kind == "usage":
            params = self._bucket_params(start, end, cursor, MAX_USAGE_DAYS, USAGE_GROUP_BY[stream.name])
            return parse_usage_page(
                stream.name, self.client.get(f"/v1/organization/usage/{stream.name}", params)
            )
        group_by = COST_GROUP_BY if self.costs_by_key else COST_GROUP_BY[:2]
        try:
            body = self.client.get(
                "/v1/organization/costs", self._bucket_params(start, end, cursor, MAX_COST_DAYS, group_by)
            )
        except FatalProviderError as error:
            if error.status == 400 and self.costs_by_key and "api_key_id" in str(error):
                self.costs_by_key = False
                raise RetriableProviderError(
                    "OpenAI's costs API here does not group by api_key_id; asking again without it.",
                    next_step="Cost per API key will be allocated from usage instead of reported.",
                ) from None
            raise
        return parse_cost_page(body)

    def _directory(self, name: str, cursor: str | None) -> FetchedPage:
        if name in ("projects", "users"):
            params: list[tuple[str, str]] = [("limit", str(LIST_PAGE))]
            if name == "projects":
                params.append(("include_archived", "true"))
            if cursor:
                params.append(("after", cursor))
            return parse_directory_page(name, self.client.get(f"/v1/organization/{name}", params))
        # Keys and service accounts are listed per project: first the projects, then each one's list.
        state = _ProjectCursor([MORE_PROJECTS], None) if cursor is None else _ProjectCursor.decode(cursor)
        project = state.projects[0]
        if project.startswith(MORE_PROJECTS):
            ids = self._project_ids_page(project.removeprefix(MORE_PROJECTS) or None)
            return FetchedPage(next_cursor=_ProjectCursor(ids + state.projects[1:], None).encode())
        params = [("limit", str(LIST_PAGE))]
        if state.after:
            params.append(("after", state.after))
        page = parse_directory_page(
            name, self.client.get(f"/v1/organization/projects/{project}/{name}", params), project
        )
        following = (
            _ProjectCursor(state.projects, page.next_cursor)
            if page.next_cursor
            else _ProjectCursor(state.projects[1:], None)
        )
        page.next_cursor = following.encode()
        return page

    def _project_ids_page(self, after: str | None) -> list[str]:
        """One page of project ids (archived too), then a marker for the next page if any."""
        params = [("include_archived", "true"), ("limit", str(LIST_PAGE))]
        if after:
            params.append(("after", after))
        page = parse_directory_page("projects", self.client.get("/v1/organization/projects", params))
        ids = [entry.provider_id for entry in page.directory]
        if page.next_cursor:
            ids.append(MORE_PROJECTS + page.next_cursor)
        return ids

    @staticmethod
    def _bucket_params(
        start: date, end: date, cursor: str | None, max_days: int, group_by: Sequence[str]
    ) -> Params:
        days = (end - start) // timedelta(days=1)
        params = [
            ("start_time", _unix(start)),
            ("end_time", _unix(end)),
            ("bucket_width", "1d"),
            ("limit", str(max(1, min(days, max_days)))),
        ]
        # The spec declares array query parameters with OpenAPI's default style (form, exploded):
        # the name repeats, group_by=a&group_by=b.
        params += [("group_by", field) for field in group_by]
        if cursor:
            params.append(("page", cursor))
        return params

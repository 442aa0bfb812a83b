"""The Anthropic client and connector: what goes on the wire, and how failures come back.

Every test runs against ``httpx.MockTransport``; nothing touches the network.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from aispend.providers.anthropic.client import API_VERSION, AnthropicClient
from aispend.providers.anthropic.connector import AnthropicConnector, check_admin_key_format
from aispend.providers.auth import RevealedKeyAuth
from aispend.providers.base import (
    FatalProviderError,
    ProviderAccount,
    ProviderError,
    RateLimitedError,
    RetriableProviderError,
    StreamSpec,
)

KEY = "sk-ant-admin01-Q9vT3xLmN8pR2sK7wY4bH6jD1fG5cZ0aE_uI-oP3qW8eR7tY6uAA"
BASE = "https://api.anthropic.test"
Handler = Callable[[httpx.Request], httpx.Response]


def error_body(status_type: str, message: str) -> dict[str, Any]:
    """The documented error shape (reference §1)."""
    return {
        "type": "error",
        "error": {"type": status_type, "message": message},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }


def empty_buckets(*days: date) -> dict[str, Any]:
    return {
        "data": [
            {
                "starting_at": f"{day.isoformat()}T00:00:00Z",
                "ending_at": f"{(day + timedelta(days=1)).isoformat()}T00:00:00Z",
                "results": [],
            }
            for day in days
        ],
        "has_more": False,
        "next_page": None,
    }


class Recorder:
    """A transport handler that records requests and answers with a canned response."""

    def __init__(self, respond: Handler) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def client_for(handler: Handler) -> AnthropicClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return AnthropicClient(http, RevealedKeyAuth("x-api-key", lambda: KEY), BASE)


def connector_for(handler: Handler) -> AnthropicConnector:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return AnthropicConnector.create(http, lambda: KEY, BASE, {})


def params(request: httpx.Request) -> list[tuple[str, str]]:
    return list(request.url.params.multi_items())


def streams(connector: AnthropicConnector) -> dict[str, StreamSpec]:
    return {stream.name: stream for stream in connector.streams()}


def assert_no_key(exc: BaseException) -> None:
    text = f"{exc} {exc!r} {getattr(exc, 'message', '')} {getattr(exc, 'next_step', '')}"
    assert KEY not in text
    # Not even the secret part of it.
    assert KEY.removeprefix("sk-ant-admin01-")[:12] not in text


# --- Headers and parameters --------------------------------------------------------------


def test_client_sends_key_and_version_headers_and_decodes_decimals() -> None:
    recorder = Recorder(lambda _: httpx.Response(200, content=b'{"amount": 1.10, "n": 3}'))

    body = client_for(recorder).get("/v1/organizations/me")

    request = recorder.last
    assert request.method == "GET"
    assert request.url.path == "/v1/organizations/me"
    assert request.headers["x-api-key"] == KEY
    assert request.headers["anthropic-version"] == API_VERSION == "2023-06-01"
    assert "authorization" not in request.headers
    assert repr(body["amount"]) == "Decimal('1.10')"
    assert body["n"] == 3


def test_client_reveals_the_key_for_each_request() -> None:
    reveals: list[int] = []

    def reveal() -> str:
        reveals.append(1)
        return KEY

    http = httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(200, json={})))
    client = AnthropicClient(http, RevealedKeyAuth("x-api-key", reveal), BASE)
    client.get("/a")
    client.get("/b")

    assert len(reveals) == 2
    assert KEY not in repr(RevealedKeyAuth("x-api-key", reveal))


def test_identify_reads_the_organisation() -> None:
    recorder = Recorder(
        lambda _: httpx.Response(
            200,
            json={"id": "12345678-1234-5678-1234-567812345678", "type": "organization", "name": "Acme"},
        )
    )

    account = connector_for(recorder).identify()

    assert account == ProviderAccount("12345678-1234-5678-1234-567812345678", "Acme")
    assert recorder.last.url.path == "/v1/organizations/me"


@pytest.mark.parametrize(
    ("stream", "path", "group_by"),
    [
        (
            "messages",
            "/v1/organizations/usage_report/messages",
            ["api_key_id", "workspace_id", "model", "service_tier", "context_window", "inference_geo"],
        ),
        ("cost", "/v1/organizations/cost_report", ["workspace_id", "description"]),
    ],
)
def test_bucket_streams_send_rfc3339_window_and_bracketed_group_by(
    stream: str, path: str, group_by: list[str]
) -> None:
    start, end = date(2025, 8, 1), date(2025, 8, 11)
    recorder = Recorder(lambda _: httpx.Response(200, json=empty_buckets(start)))
    connector = connector_for(recorder)

    page = connector.fetch(streams(connector)[stream], start, end, None)

    request = recorder.last
    assert request.url.path == path
    sent = params(request)
    assert ("starting_at", "2025-08-01T00:00:00Z") in sent
    assert ("ending_at", "2025-08-11T00:00:00Z") in sent
    assert ("bucket_width", "1d") in sent
    assert ("limit", "10") in sent
    assert [value for name, value in sent if name == "group_by[]"] == group_by
    assert "page" not in dict(sent)
    # Array parameters repeat in bracket form (percent-encoded on the wire).
    raw = request.url.query.decode()
    assert raw.count("group_by%5B%5D=") + raw.count("group_by[]=") == len(group_by)
    assert "group_by=" not in raw
    assert [d.day for d in page.days] == [start]


@pytest.mark.parametrize("stream", ["messages", "cost"])
def test_bucket_streams_cap_limit_at_31_and_pass_the_cursor(stream: str) -> None:
    recorder = Recorder(lambda _: httpx.Response(200, json=empty_buckets()))
    connector = connector_for(recorder)
    spec = streams(connector)[stream]

    connector.fetch(spec, date(2025, 1, 1), date(2026, 1, 1), "page_MjAyNS0wNS0xNFQwMDowMDowMFo=")
    long_window = dict(params(recorder.last))
    connector.fetch(spec, date(2025, 1, 1), date(2025, 1, 2), None)
    one_day = dict(params(recorder.last))

    assert long_window["limit"] == "31"
    assert long_window["page"] == "page_MjAyNS0wNS0xNFQwMDowMDowMFo="
    assert one_day["limit"] == "1"
    assert spec.days_per_request <= 31


def test_claude_code_sends_a_date_and_limit_1000() -> None:
    recorder = Recorder(
        lambda _: httpx.Response(200, json={"data": [], "has_more": False, "next_page": None})
    )
    connector = connector_for(recorder)
    spec = streams(connector)["claude_code"]

    page = connector.fetch(spec, date(2025, 8, 8), date(2025, 8, 9), None)
    first = params(recorder.last)
    connector.fetch(spec, date(2025, 8, 8), date(2025, 8, 9), "page_cc2")
    second = params(recorder.last)

    assert recorder.last.url.path == "/v1/organizations/usage_report/claude_code"
    assert dict(first) == {"starting_at": "2025-08-08", "limit": "1000"}
    assert dict(second) == {"starting_at": "2025-08-08", "limit": "1000", "page": "page_cc2"}
    assert "ending_at" not in dict(first)
    assert [d.day for d in page.days] == [date(2025, 8, 8)]


@pytest.mark.parametrize("name", ["workspaces", "api_keys", "users"])
def test_directory_pages_forward_with_after_id(name: str) -> None:
    pages = iter(
        [
            {"data": [{"id": "x_1", "name": "one"}], "first_id": "x_1", "last_id": "x_1", "has_more": True},
            {"data": [{"id": "x_2", "name": "two"}], "first_id": "x_2", "last_id": "x_2", "has_more": False},
        ]
    )
    recorder = Recorder(lambda _: httpx.Response(200, json=next(pages)))
    connector = connector_for(recorder)
    spec = streams(connector)[name]

    first = connector.fetch(spec, date(2025, 8, 1), date(2025, 8, 1), None)
    second = connector.fetch(spec, date(2025, 8, 1), date(2025, 8, 1), first.next_cursor)

    assert [r.url.path for r in recorder.requests] == [f"/v1/organizations/{name}"] * 2
    archived = [("include_archived", "true")] if name == "workspaces" else []
    assert sorted(params(recorder.requests[0])) == sorted([("limit", "1000"), *archived])
    assert sorted(params(recorder.requests[1])) == sorted([("limit", "1000"), *archived, ("after_id", "x_1")])
    assert first.next_cursor == "x_1"
    assert second.next_cursor is None
    assert [e.provider_id for e in first.directory + second.directory] == ["x_1", "x_2"]


# --- Error mapping -----------------------------------------------------------------------


def failing(status: int, body: Any = None, headers: dict[str, str] | None = None) -> AnthropicClient:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client_for(lambda _: httpx.Response(status, content=content, headers=headers))


def echo(status_type: str) -> dict[str, Any]:
    """An error body whose message echoes the key back, as a careless server or proxy might."""
    return error_body(status_type, f"invalid x-api-key: {KEY} (header x-api-key: {KEY})")


def test_401_says_to_use_an_admin_key() -> None:
    with pytest.raises(FatalProviderError) as info:
        failing(401, echo("authentication_error")).get("/v1/organizations/cost_report")

    exc = info.value
    assert not isinstance(exc, RetriableProviderError)
    assert exc.status == 401
    assert "is it an Admin key (sk-ant-admin…)?" in str(exc)
    assert "Admin keys" in exc.next_step
    assert_no_key(exc)


def test_403_is_fatal_and_carries_the_redacted_server_message() -> None:
    with pytest.raises(FatalProviderError) as info:
        failing(403, echo("permission_error")).get("/v1/organizations/cost_report")

    exc = info.value
    assert not isinstance(exc, RetriableProviderError)
    assert exc.status == 403
    assert "permission_error" in str(exc)
    assert "[redacted]" in str(exc)
    assert_no_key(exc)


def test_429_with_seconds_retry_after() -> None:
    client = failing(429, echo("rate_limit_error"), headers={"retry-after": "7"})

    with pytest.raises(RateLimitedError) as info:
        client.get("/v1/organizations/usage_report/messages")

    exc = info.value
    assert exc.retry_after == 7.0
    assert exc.status == 429
    assert "7 s" in str(exc)
    assert_no_key(exc)


def test_429_with_http_date_retry_after() -> None:
    when = datetime.now(UTC) + timedelta(seconds=120)
    client = failing(
        429, echo("rate_limit_error"), headers={"retry-after": format_datetime(when, usegmt=True)}
    )

    with pytest.raises(RateLimitedError) as info:
        client.get("/v1/organizations/usage_report/messages")

    assert info.value.retry_after is not None
    assert 60.0 <= info.value.retry_after <= 121.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_429_retry_after_variants(header: dict[str, str], expected: float | None) -> None:
    with pytest.raises(RateLimitedError) as info:
        failing(429, error_body("rate_limit_error", "slow down"), headers=header).get("/x")

    assert info.value.retry_after == expected


@pytest.mark.parametrize(
    ("status", "kind"), [(500, "api_error"), (504, "timeout_error"), (529, "overloaded_error")]
)
def test_5xx_is_retriable(status: int, kind: str) -> None:
    with pytest.raises(RetriableProviderError) as info:
        failing(status, echo(kind)).get("/v1/organizations/cost_report")

    exc = info.value
    assert not isinstance(exc, RateLimitedError)
    assert exc.status == status
    assert kind in str(exc)
    assert_no_key(exc)


@pytest.mark.parametrize(
    ("status", "kind"), [(400, "invalid_request_error"), (404, "not_found_error"), (302, "")]
)
def test_other_statuses_are_fatal(status: int, kind: str) -> None:
    with pytest.raises(FatalProviderError) as info:
        failing(status, echo(kind), headers={"location": "https://elsewhere.test/"}).get("/x")

    exc = info.value
    assert exc.status == status
    assert kind in str(exc)
    assert_no_key(exc)


def test_non_json_error_body_is_redacted_too() -> None:
    html = f"<html><body>Bad gateway for x-api-key={KEY}</body></html>".encode()

    with pytest.raises(RetriableProviderError) as info:
        failing(502, html, headers={"content-type": "text/html"}).get("/x")

    assert info.value.status == 502
    assert_no_key(info.value)


# Regression: error.type used to reach the exception text unredacted.
def test_key_echoed_in_the_error_type_is_redacted() -> None:
    with pytest.raises(FatalProviderError) as info:
        failing(400, error_body(f"bad key {KEY}", "no")).get("/x")

    assert_no_key(info.value)


def test_truncated_json_body_is_retriable() -> None:
    body = json.dumps(empty_buckets(date(2025, 8, 1))).encode()[:40]

    with pytest.raises(RetriableProviderError, match="not valid JSON") as info:
        failing(200, body, headers={"content-type": "application/json"}).get("/x")

    assert_no_key(info.value)


def test_html_body_is_retriable() -> None:
    html = f"<html><body>Proxy login for {KEY}</body></html>".encode()

    with pytest.raises(RetriableProviderError, match="text/html") as info:
        failing(200, html, headers={"content-type": "text/html"}).get("/x")

    assert_no_key(info.value)


def test_json_array_body_is_fatal() -> None:
    with pytest.raises(FatalProviderError, match="list") as info:
        failing(200, [1, 2, 3]).get("/x")

    assert not isinstance(info.value, RetriableProviderError)


def raising(exc_type: type[httpx.TransportError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(
            f"failed talking to {request.url} with {request.headers['x-api-key']}", request=request
        )

    return handler


@pytest.mark.parametrize(
    "exc_type", [httpx.ConnectTimeout, httpx.ReadTimeout, httpx.ConnectError, httpx.RemoteProtocolError]
)
def test_transport_failures_are_retriable(exc_type: type[httpx.TransportError]) -> None:
    with pytest.raises(RetriableProviderError) as info:
        client_for(raising(exc_type)).get("/v1/organizations/cost_report")

    exc = info.value
    assert exc_type.__name__ in str(exc)
    assert exc.__suppress_context__
    assert_no_key(exc)


def answer(status: int, kind: str, headers: dict[str, str] | None = None) -> Handler:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=echo(kind), headers=headers)

    return handler


def all_failures() -> Iterator[tuple[str, Handler]]:
    for status, kind in [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
    ]:
        yield str(status), answer(status, kind)
    for status, kind in [(429, "rate_limit_error"), (500, "api_error"), (529, "overloaded_error")]:
        yield str(status), answer(status, kind, {"retry-after": "1"})
    yield "502-html", lambda _: httpx.Response(502, text=f"<h1>bad gateway {KEY}</h1>")
    yield "200-truncated", lambda _: httpx.Response(200, content=f'{{"key": "{KEY}'.encode())
    yield "200-array", lambda _: httpx.Response(200, json=[KEY])
    yield "timeout", raising(httpx.ConnectTimeout)
    yield "connect", raising(httpx.ConnectError)


@pytest.mark.parametrize(("case", "handler"), list(all_failures()), ids=[c for c, _ in all_failures()])
def test_the_key_never_appears_in_any_provider_error(case: str, handler: Handler) -> None:
    with pytest.raises(ProviderError) as info:
        connector_for(handler).identify()

    assert_no_key(info.value)
    assert info.value.next_step, f"{case}: an error must say what to do next"


# --- Key format --------------------------------------------------------------------------


def test_admin_key_format_passes() -> None:
    check_admin_key_format(KEY)
    check_admin_key_format(f"  {KEY}\n")


def test_regular_api_key_is_refused_with_console_steps() -> None:
    with pytest.raises(FatalProviderError) as info:
        check_admin_key_format("sk-ant-api03-R2D2abcdefghijklmnopqrstuvwxyz-igAA")

    text = str(info.value)
    assert "regular API key" in text
    assert "Admin key" in text
    assert "Console" in text
    assert "Settings > Admin keys" in text
    assert "R2D2abcdefghijklmnop" not in text


@pytest.mark.parametrize("key", ["hello world", "", "sk-proj-abcdefghijklmnopqrstuvwxyz"])
def test_other_text_is_refused(key: str) -> None:
    with pytest.raises(FatalProviderError) as info:
        check_admin_key_format(key)

    assert "Admin key" in str(info.value)


def test_403_says_the_key_may_not_read_the_report() -> None:
    with pytest.raises(FatalProviderError) as info:
        failing(403, error_body("permission_error", "not allowed")).get("/v1/organizations/cost_report")

    assert "The key is valid but may not read this report." in str(info.value)
    assert "Admin key of the organisation" in info.value.next_step

"""Errors the OpenAI Admin API simulator answers with: the API's error shape and injectable faults.

:class:`ApiError` carries what the real API would send back (status, error type, code,
offending parameter, extra headers) and :func:`error_response` renders it as the spec's
``ErrorResponse``: ``{"error": {"message", "type", "param", "code"}}`` with all four keys
present (reference §1). The fault tables list what ``OpenAISimulator.inject`` accepts:
canned API errors, and body faults (stalls, truncated or HTML bodies, looping cursors) that
no real error models.

The messages of the canned errors copy the texts the public API is known to send for
server errors and rate limits; the spec publishes none of them, so they are best guesses.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.responses import Response

__all__ = [
    "BODY_FAULTS",
    "ERROR_FAULTS",
    "GARBAGE",
    "ApiError",
    "bad",
    "error_response",
    "not_admin_key",
    "wrong_key",
]


class ApiError(Exception):
    """An error answered in the OpenAI error shape."""

    def __init__(
        self,
        status: int,
        kind: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
        self.code, self.param = code, param
        self.headers = headers or {}


def bad(message: str, param: str | None, code: str = "invalid_value") -> ApiError:
    """A 400 ``invalid_request_error``, the answer to every malformed parameter."""
    return ApiError(400, "invalid_request_error", message, code=code, param=param)


def wrong_key(shown: str) -> ApiError:
    """The 401 for a key that is not this organisation's admin key; ``shown`` is already masked."""
    return ApiError(
        401,
        "invalid_request_error",
        f"Incorrect API key provided: {shown}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


def not_admin_key() -> ApiError:
    """The answer to a project or user key on an admin endpoint.

    The real status and wording are not published (reference §7); a 403 naming the admin
    key is what a connector must be able to show its user, whichever text the API uses.
    """
    return ApiError(
        403,
        "invalid_request_error",
        "This endpoint requires an admin API key (sk-admin-...); project and user API keys "
        "cannot read organization usage, costs or directory data.",
        code="insufficient_permissions",
    )


# fault name -> a fresh copy of the error it answers with
ERROR_FAULTS: dict[str, Callable[[], ApiError]] = {
    "500": lambda: ApiError(
        500, "server_error", "The server had an error while processing your request. Sorry about that!"
    ),
    "503": lambda: ApiError(503, "server_error", "The server is overloaded or not ready yet."),
    "429": lambda: ApiError(
        429,
        "requests",
        "Rate limit reached for organization usage requests. Please try again in 1s.",
        code="rate_limit_exceeded",
        headers={"retry-after": "1"},
    ),
    "401": lambda: wrong_key("sk-admin-****"),
    "403": not_admin_key,
}
BODY_FAULTS = ("timeout", "truncated", "garbage", "repeat_cursor")
# Served with status 200, as a misbehaving proxy might, so only parsing the body can tell.
GARBAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>"
)


def error_response(exc: ApiError, request_id: str) -> Response:
    """The JSON error body of ``exc``; the request id travels in ``x-request-id``."""
    body = {"error": {"message": exc.message, "type": exc.kind, "param": exc.param, "code": exc.code}}
    headers = {**exc.headers, "x-request-id": request_id}
    return Response(json.dumps(body).encode(), exc.status, headers=headers, media_type="application/json")

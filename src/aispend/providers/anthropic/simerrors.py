"""Errors the Admin API simulator answers with: the API's error shape and injectable faults.

:class:`ApiError` carries what the real API would send back (status, error type, message,
extra headers) and :func:`error_response` renders it as the reference's JSON error body.
The fault tables list what ``AnthropicSimulator.inject`` accepts: canned API errors, and
body faults (stalls, truncated or HTML bodies, looping cursors) that no real error models.
"""

from __future__ import annotations

import json

from starlette.responses import Response

__all__ = [
    "BODY_FAULTS",
    "ERROR_FAULTS",
    "GARBAGE",
    "ApiError",
    "bad",
    "error_response",
]

# fault name -> (status, error type, message) of the error it answers with
ERROR_FAULTS: dict[str, tuple[int, str, str]] = {
    "404": (404, "not_found_error", "Not found"),
    "500": (500, "api_error", "Internal server error"),
    "529": (529, "overloaded_error", "Overloaded"),
    "503": (503, "api_error", "Service temporarily unavailable"),
    "429": (429, "rate_limit_error", "Rate limit exceeded; retry after the given delay"),
    "401": (401, "authentication_error", "invalid x-api-key"),
    "403": (403, "permission_error", "This key does not have permission to use this resource"),
}
BODY_FAULTS = ("timeout", "truncated", "garbage", "repeat_cursor")
# Served with status 200, as a misbehaving proxy might, so only parsing the body can tell.
GARBAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>upstream connect error</p></body></html>"
)


class ApiError(Exception):
    """An error answered in the Anthropic error shape."""

    def __init__(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
        self.headers = headers or {}


def bad(message: str) -> ApiError:
    """A 400 ``invalid_request_error``, the answer to every malformed parameter."""
    return ApiError(400, "invalid_request_error", message)


def error_response(exc: ApiError, request_id: str) -> Response:
    """The JSON error body of ``exc``, carrying the same request id as its header."""
    body = {"type": "error", "error": {"type": exc.kind, "message": exc.message}, "request_id": request_id}
    return Response(json.dumps(body).encode(), exc.status, headers=exc.headers, media_type="application/json")

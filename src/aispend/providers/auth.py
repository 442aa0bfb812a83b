"""Attach a credential to each request at the moment it is sent, and at no other time."""

from __future__ import annotations

from collections.abc import Callable, Generator

import httpx

__all__ = ["RevealedKeyAuth"]


class RevealedKeyAuth(httpx.Auth):
    """Sets ``header`` to ``prefix + reveal()`` on every request.

    ``reveal`` typically opens the vault, so the plaintext key exists only while one
    request is being built and sent, never for the whole sync.
    """

    def __init__(self, header: str, reveal: Callable[[], str], prefix: str = "") -> None:
        self._header = header
        self._reveal = reveal
        self._prefix = prefix

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = self._prefix + self._reveal()
        yield request

    def __repr__(self) -> str:
        return f"RevealedKeyAuth(header={self._header!r})"

"""Who is making a request, in which organisation, with which permissions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aispend.audit import Actor
from aispend.auth.permissions import Permission, Role

__all__ = ["Principal"]


@dataclass(frozen=True)
class Principal:
    """A signed-in user (by session cookie) or a personal API token, acting in one organisation.

    ``secret`` is the session token itself (never stored, only its digest): the CSRF
    token of the session's forms is derived from it. It is empty for API tokens,
    which no browser sends on its own and so need no CSRF token.
    """

    user_id: int
    email: str
    org_id: int
    org_name: str
    role: Role
    permissions: frozenset[Permission]
    via: Literal["session", "token"]
    secret: str = ""
    address: str = ""
    user_agent: str = ""

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def actor(self) -> Actor:
        return Actor(email=self.email, id=self.user_id, address=self.address, user_agent=self.user_agent)

    def __repr__(self) -> str:  # the dataclass default would print the session token
        return f"Principal(user={self.email!r}, org={self.org_id}, role={self.role.value}, via={self.via})"

"""Personal API tokens for ``/api/v1``: shown once, stored as a digest, named, expiring, revocable.

A token acts for its owner in one organisation. Its ``read`` or ``full`` scope is
intersected with the owner's role *at each request*, so demoting or removing the owner
narrows or ends every token they hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from aispend import audit
from aispend.auth.opaque import digest, new_secret
from aispend.auth.permissions import Role, TokenScope, permissions_of
from aispend.auth.principal import Principal
from aispend.auth.users import AccessError
from aispend.store.schema import ApiToken, Membership, Organisation, User

__all__ = [
    "MAX_DAYS",
    "TOKEN_PREFIX",
    "TokenView",
    "issue_token",
    "resolve_token",
    "revoke_token",
    "tokens_in",
]

TOKEN_PREFIX = "aispend_"  # noqa: S105  (a recognisable prefix, not a secret)
MAX_DAYS = 366
# last_used_at is written at most this often, so a busy script does not write on every call.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    owner: str
    prefix: str
    scope: TokenScope
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > datetime.now(UTC)

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "prefix": self.prefix,
            "scope": self.scope.value,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def issue_token(
    session: Session, *, user_id: int, org_id: int, name: str, scope: TokenScope, days: int
) -> tuple[TokenView, str]:
    """Create a token; returns its view and the token itself, which is never shown again."""
    name = name.strip()
    if not name or len(name) > 100:
        raise AccessError("A token needs a name of 1 to 100 characters.")
    if not 1 <= days <= MAX_DAYS:
        raise AccessError(f"A token expires after 1 to {MAX_DAYS} days.")
    if session.get(Membership, (user_id, org_id)) is None:
        raise AccessError("Tokens act in an organisation their owner belongs to.")
    secret = new_secret(TOKEN_PREFIX)
    now = datetime.now(UTC)
    token = ApiToken(
        org_id=org_id,
        user_id=user_id,
        name=name,
        token_hash=digest(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 4],
        scope=scope.value,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        org_id=org_id,
        action="api_token.created",
        target=f"api_token:{token.id}",
        after={"name": name, "scope": scope, "token_prefix": token.prefix, "expires_at": token.expires_at},
    )
    owner = session.scalar(select(User.email).where(User.id == user_id)) or ""
    return _view(token, owner), secret


def resolve_token(
    session: Session, secret: str, *, address: str = "", user_agent: str = ""
) -> Principal | None:
    """The principal of a live token; None if unknown, expired or revoked."""
    found = session.execute(
        select(ApiToken, User.email, Organisation.name, Membership.role)
        .join(User, User.id == ApiToken.user_id)
        .join(Organisation, Organisation.id == ApiToken.org_id)
        .join(Membership, (Membership.user_id == ApiToken.user_id) & (Membership.org_id == ApiToken.org_id))
        .where(ApiToken.token_hash == digest(secret))
    ).one_or_none()
    if found is None:
        return None
    token, email, org_name, role = found
    now = datetime.now(UTC)
    if token.revoked_at is not None or now >= token.expires_at:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
    return Principal(
        user_id=token.user_id,
        email=email,
        org_id=token.org_id,
        org_name=org_name,
        role=Role(role),
        permissions=permissions_of(Role(role), TokenScope(token.scope)),
        via="token",
        address=address,
        user_agent=user_agent,
    )


def revoke_token(session: Session, principal: Principal, token_id: int, *, any_owner: bool) -> TokenView:
    """Revoke one of the principal's tokens (any in the organisation when ``any_owner``)."""
    token = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.org_id == principal.org_id)
    )
    if token is None or (token.user_id != principal.user_id and not any_owner):
        raise AccessError(f"No token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        with audit.acting_as(principal.actor):
            audit.record(
                session,
                org_id=token.org_id,
                action="api_token.revoked",
                target=f"api_token:{token.id}",
                before={"name": token.name, "token_prefix": token.prefix},
            )
    owner = session.scalar(select(User.email).where(User.id == token.user_id)) or ""
    return _view(token, owner)


def tokens_in(session: Session, org_id: int, *, user_id: int | None = None) -> list[TokenView]:
    """The organisation's tokens (only ``user_id``'s when given), newest first."""
    query = (
        select(ApiToken, User.email)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.org_id == org_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return [_view(token, email) for token, email in session.execute(query).all()]


def _view(token: ApiToken, owner: str) -> TokenView:
    return TokenView(
        id=token.id,
        name=token.name,
        owner=owner,
        prefix=token.prefix,
        scope=TokenScope(token.scope),
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )

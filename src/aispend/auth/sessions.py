"""Server-side sessions: an opaque token in a cookie, its SHA-256 in the database.

A session ends after ``AISPEND_SESSION_IDLE_MINUTES`` without a request or
``AISPEND_SESSION_MAX_HOURS`` after sign-in, whichever comes first. Every sign-in
issues a new token and deletes the one the browser presented, so a token planted in a
browser before sign-in (session fixation) is worth nothing afterwards.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from aispend import audit
from aispend.auth.opaque import digest, new_secret
from aispend.auth.permissions import Role, permissions_of
from aispend.auth.principal import Principal
from aispend.auth.users import AccessError, memberships_of
from aispend.settings import Settings
from aispend.store.schema import Membership, Organisation, User, WebSession

__all__ = ["SESSION_COOKIE", "end_session", "resolve_session", "start_session", "switch_organisation"]

SESSION_COOKIE = "aispend_session"
# last_seen_at is written at most this often: idle expiry needs minutes, not every request.
TOUCH_EVERY = timedelta(seconds=60)


def start_session(
    session: Session,
    settings: Settings,
    user: User,
    *,
    address: str,
    user_agent: str,
    replacing: str | None = None,
    org_id: int | None = None,
    method: str = "password",
) -> str:
    """Sign ``user`` in; returns the new session token for the cookie.

    The session opens in ``org_id`` if the user belongs to it, else in their first
    organisation. Raises :class:`AccessError` if they belong to none.
    """
    if replacing:
        session.execute(delete(WebSession).where(WebSession.token_hash == digest(replacing)))
    orgs = [org for org, _name, _role in memberships_of(session, user.id)]
    if not orgs:
        raise AccessError(f"{user.email} belongs to no organisation; ask an Admin to add them.")
    chosen = org_id if org_id in orgs else orgs[0]
    now = datetime.now(UTC)
    token = new_secret()
    session.add(
        WebSession(
            token_hash=digest(token),
            user_id=user.id,
            org_id=chosen,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_max_hours),
            address=address[:64],
            user_agent=user_agent[:400],
        )
    )
    user.last_login_at = now
    audit.record(
        session,
        org_id=chosen,
        action="session.login",
        actor_id=user.id,
        actor_email=user.email,
        target=f"user:{user.email}",
        after={"method": method},
        address=address,
        user_agent=user_agent,
    )
    return token


def resolve_session(
    session: Session, settings: Settings, token: str, *, address: str = "", user_agent: str = ""
) -> Principal | None:
    """The principal of a live session token; None (and the session deleted) once it has expired."""
    row = session.scalar(select(WebSession).where(WebSession.token_hash == digest(token)))
    if row is None:
        return None
    now = datetime.now(UTC)
    idle_limit = row.last_seen_at + timedelta(minutes=settings.session_idle_minutes)
    if now >= row.expires_at or now >= idle_limit:
        session.delete(row)
        return None
    found = session.execute(
        select(User.email, Organisation.name, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .join(Organisation, Organisation.id == Membership.org_id)
        .where(User.id == row.user_id, Membership.org_id == row.org_id)
    ).one_or_none()
    if found is None:  # removed from the organisation since signing in
        session.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    email, org_name, role = found
    return Principal(
        user_id=row.user_id,
        email=email,
        org_id=row.org_id,
        org_name=org_name,
        role=Role(role),
        permissions=permissions_of(Role(role)),
        via="session",
        secret=token,
        address=address,
        user_agent=user_agent,
    )


def end_session(session: Session, token: str, *, address: str = "", user_agent: str = "") -> None:
    row = session.scalar(select(WebSession).where(WebSession.token_hash == digest(token)))
    if row is None:
        return
    email = session.scalar(select(User.email).where(User.id == row.user_id)) or ""
    audit.record(
        session,
        org_id=row.org_id,
        action="session.logout",
        actor_id=row.user_id,
        actor_email=email,
        target=f"user:{email}",
        address=address,
        user_agent=user_agent,
    )
    session.delete(row)


def switch_organisation(session: Session, principal: Principal, org_id: int) -> None:
    """Move the principal's session to another organisation they belong to."""
    if org_id not in [org for org, _name, _role in memberships_of(session, principal.user_id)]:
        raise AccessError("You are not a member of that organisation.")
    row = session.scalar(select(WebSession).where(WebSession.token_hash == digest(principal.secret)))
    if row is None:
        raise AccessError("Your session has ended; sign in again.")
    row.org_id = org_id
    with audit.acting_as(principal.actor):
        audit.record(
            session, org_id=org_id, action="organisation.switched", before={"org_id": principal.org_id}
        )

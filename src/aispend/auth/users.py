"""Users, organisations and memberships: who belongs where, with which role.

Every change is written to the audit log in the same transaction. The actor is the
current one (:func:`aispend.audit.acting_as`): the signed-in Admin, or ``cli:<os user>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from aispend import audit
from aispend.auth.passwords import check_new_password, hash_password
from aispend.auth.permissions import Role
from aispend.store.schema import ApiToken, Membership, Organisation, User, WebSession

__all__ = [
    "AccessError",
    "Member",
    "add_member",
    "admins_of",
    "find_user",
    "member_email",
    "members_of",
    "memberships_of",
    "normalise_email",
    "organisation",
    "remove_member",
    "set_password",
    "set_role",
    "user_count",
]


class AccessError(Exception):
    """A change to users or roles cannot be made; the message says why."""


@dataclass(frozen=True)
class Member:
    user_id: int
    email: str
    name: str
    role: Role
    has_password: bool
    single_sign_on: bool


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    local, _, domain = cleaned.partition("@")
    if not local or not domain or any(c.isspace() for c in cleaned) or len(cleaned) > 320:
        raise AccessError(f"{email!r} is not an email address.")
    return cleaned


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def user_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def organisation(session: Session, name: str | None, default_org_id: int, *, create: bool = False) -> int:
    """The id of the organisation called ``name`` (the default one when None), created if asked."""
    if name is None:
        return default_org_id
    org_id = session.scalar(select(Organisation.id).where(Organisation.name == name))
    if org_id is not None:
        return org_id
    if not create:
        raise AccessError(f"No organisation named {name!r}.")
    org = Organisation(name=name)
    session.add(org)
    session.flush()
    return org.id


def add_member(
    session: Session,
    *,
    org_id: int,
    email: str,
    role: Role,
    password: str | None = None,
    name: str = "",
) -> User:
    """Give ``email`` ``role`` in the organisation, creating the account if it is new.

    An account that exists already (in another organisation) keeps its password.
    """
    email = normalise_email(email)
    user = find_user(session, email)
    if user is None:
        if password is not None:
            check_new_password(password, email)
        user = User(email=email, name=name, password_hash=hash_password(password) if password else None)
        session.add(user)
        session.flush()
        audit.record(session, org_id=org_id, action="user.created", target=f"user:{email}")
    elif session.get(Membership, (user.id, org_id)) is not None:
        raise AccessError(f"{email} is already a member; change their role instead.")
    session.add(Membership(user_id=user.id, org_id=org_id, role=role.value))
    audit.record(session, org_id=org_id, action="user.added", target=f"user:{email}", after={"role": role})
    return user


def _membership(session: Session, org_id: int, email: str) -> tuple[User, Membership]:
    user = find_user(session, email)
    membership = session.get(Membership, (user.id, org_id)) if user else None
    if user is None or membership is None:
        raise AccessError(f"{email.strip().lower()} is not a member of this organisation.")
    return user, membership


def _refuse_removing_last_admin(session: Session, org_id: int, membership: Membership) -> None:
    if membership.role != Role.admin:
        return
    admins = session.scalar(
        select(func.count()).where(Membership.org_id == org_id, Membership.role == Role.admin.value)
    )
    if (admins or 0) <= 1:
        raise AccessError("This is the organisation's last Admin; make someone else Admin first.")


def set_role(session: Session, *, org_id: int, email: str, role: Role) -> Member:
    user, membership = _membership(session, org_id, email)
    before = Role(membership.role)
    if before is not role:
        if role is not Role.admin:
            _refuse_removing_last_admin(session, org_id, membership)
        membership.role = role.value
        audit.record(
            session,
            org_id=org_id,
            action="user.role_changed",
            target=f"user:{user.email}",
            before={"role": before},
            after={"role": role},
        )
    return _member(user, membership)


def remove_member(session: Session, *, org_id: int, email: str) -> None:
    """Take the user out of the organisation, ending their sessions and tokens there.

    An account left with no organisation is deleted; the audit log keeps its email.
    """
    user, membership = _membership(session, org_id, email)
    _refuse_removing_last_admin(session, org_id, membership)
    session.delete(membership)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.org_id == org_id))
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.org_id == org_id))
    audit.record(
        session,
        org_id=org_id,
        action="user.removed",
        target=f"user:{user.email}",
        before={"role": membership.role},
    )
    session.flush()
    if not memberships_of(session, user.id):
        session.delete(user)


def set_password(session: Session, user: User, password: str) -> None:
    """Replace the password and end every session of the account (a reset locks out whoever had it)."""
    check_new_password(password, user.email)
    user.password_hash = hash_password(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))


def _member(user: User, membership: Membership) -> Member:
    return Member(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=Role(membership.role),
        has_password=user.password_hash is not None,
        single_sign_on=user.oidc_subject is not None,
    )


def member_email(session: Session, org_id: int, user_id: int) -> str | None:
    """The email of ``user_id`` if they belong to the organisation; None otherwise (never
    another organisation's member, so ids cannot be probed)."""
    return session.scalar(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.org_id == org_id)
    )


def members_of(session: Session, org_id: int) -> list[Member]:
    rows = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id)
        .order_by(User.email)
    ).all()
    return [_member(user, membership) for user, membership in rows]


def admins_of(session: Session, org_id: int) -> list[str]:
    return [member.email for member in members_of(session, org_id) if member.role is Role.admin]


def memberships_of(session: Session, user_id: int) -> Sequence[tuple[int, str, Role]]:
    """(organisation id, organisation name, role) of each of the user's memberships, by name."""
    rows = session.execute(
        select(Organisation.id, Organisation.name, Membership.role)
        .join(Membership, Membership.org_id == Organisation.id)
        .where(Membership.user_id == user_id)
        .order_by(Organisation.name, Organisation.id)
    ).all()
    return [(org_id, name, Role(role)) for org_id, name, role in rows]

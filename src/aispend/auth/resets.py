"""Password reset by a one-time link: printed by the CLI, or mailed when SMTP is configured.

The link carries a 256-bit token; only its digest is stored. It works once, within
``AISPEND_PASSWORD_RESET_MINUTES``, and using it ends every session of the account.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from aispend import audit
from aispend.auth.mail import mail_configured, send_mail
from aispend.auth.opaque import digest, new_secret
from aispend.auth.users import AccessError, memberships_of, set_password
from aispend.settings import Settings
from aispend.store.schema import PasswordReset, User

__all__ = [
    "DEFAULT_PUBLIC_URL",
    "MAILED_RESETS_PER_HOUR",
    "consume_reset",
    "issue_reset",
    "mail_reset",
    "may_mail_reset",
    "reset_link",
    "reset_user",
]

log = logging.getLogger(__name__)
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
INVALID = "This password reset link is invalid, used or expired; ask for a new one."
# Anyone may ask the public form to mail an account: past this many links an hour, nothing is
# sent (the form answers the same), so it cannot be used to flood someone's mailbox.
MAILED_RESETS_PER_HOUR = 3


def reset_link(settings: Settings, token: str, base_url: str | None = None) -> str:
    base = (settings.public_url or base_url or DEFAULT_PUBLIC_URL).rstrip("/")
    return f"{base}/password-reset/{token}"


def _record(session: Session, user: User, action: str) -> None:
    orgs: list[int | None] = [org for org, _name, _role in memberships_of(session, user.id)]
    for org_id in orgs or [None]:
        audit.record(session, org_id=org_id, action=action, target=f"user:{user.email}")


def issue_reset(session: Session, settings: Settings, user: User) -> str:
    """A new one-time token for ``user``; earlier unused links stop working."""
    now = datetime.now(UTC)
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    token = new_secret()
    session.add(
        PasswordReset(
            token_hash=digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(minutes=settings.password_reset_minutes),
        )
    )
    _record(session, user, "user.password_reset_requested")
    return token


def may_mail_reset(session: Session, user: User) -> bool:
    """Whether the public form may mail ``user`` another link (fewer than the hourly cap so far)."""
    since = datetime.now(UTC) - timedelta(hours=1)
    issued = session.scalar(
        select(func.count()).where(PasswordReset.user_id == user.id, PasswordReset.created_at >= since)
    )
    return (issued or 0) < MAILED_RESETS_PER_HOUR


def reset_user(session: Session, token: str) -> User:
    """The account a live reset token belongs to; raises :class:`AccessError` otherwise."""
    found = session.execute(
        select(PasswordReset, User)
        .join(User, User.id == PasswordReset.user_id)
        .where(PasswordReset.token_hash == digest(token))
    ).one_or_none()
    if found is None or found[0].used_at is not None or datetime.now(UTC) >= found[0].expires_at:
        raise AccessError(INVALID)
    return found[1]


def consume_reset(session: Session, token: str, password: str) -> User:
    """Set the password of the token's account and spend the token."""
    user = reset_user(session, token)
    set_password(session, user, password)
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.token_hash == digest(token))
        .values(used_at=datetime.now(UTC))
    )
    _record(session, user, "user.password_reset")
    return user


def mail_reset(settings: Settings, email: str, link: str) -> bool:
    """Mail the link if SMTP is configured; False when it is not or sending failed (logged)."""
    if not mail_configured(settings):
        return False
    try:
        send_mail(
            settings,
            to=email,
            subject="Reset your aispend password",
            body=(
                f"Someone asked to reset the aispend password of {email}.\n\n"
                f"Open this link within {settings.password_reset_minutes} minutes to choose a new one:\n"
                f"{link}\n\nIf it was not you, ignore this message; your password stays as it is.\n"
            ),
        )
    except (smtplib.SMTPException, OSError) as error:
        log.warning("could not send the password reset mail to %s: %s", email, type(error).__name__)
        return False
    return True

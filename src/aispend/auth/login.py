"""Password sign-in with throttling per account and per network address.

Failures are counted over the last ``AISPEND_LOGIN_LOCKOUT_MINUTES``: an account with
``AISPEND_LOGIN_MAX_FAILURES`` failures since its last success, or an address with
``AISPEND_LOGIN_MAX_FAILURES_PER_ADDRESS``, is refused without the password even being
checked, so a locked account gives a guesser nothing. The same answer is given for an
unknown email and a wrong password, after the same Argon2 work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from aispend import audit
from aispend.auth.passwords import verify_password
from aispend.auth.users import AccessError, find_user, memberships_of, normalise_email
from aispend.settings import Settings
from aispend.store.schema import LoginAttempt, User

__all__ = ["BAD_CREDENTIALS", "LoginResult", "check_password_login"]

BAD_CREDENTIALS = "Email or password is wrong."
# Attempts are kept this long (well beyond any lockout) and then pruned.
KEEP_ATTEMPTS = timedelta(days=1)


@dataclass(frozen=True)
class LoginResult:
    """The signed-in user, or why not (``refusal`` is safe to show; ``status`` is 401 or 429)."""

    user: User | None
    refusal: str = ""
    status: int = 200


def _failures(session: Session, *conditions: object, since: datetime) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at >= since, *conditions)  # type: ignore[arg-type]
    )
    return count or 0


def _locked_for(session: Session, settings: Settings, email: str, address: str, now: datetime) -> int:
    """Minutes until a lock on this account or address ends; 0 when neither is locked."""
    window = timedelta(minutes=settings.login_lockout_minutes)
    since = now - window
    last_success = session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    )
    account_since = max(since, last_success) if last_success else since
    locked = (
        _failures(session, LoginAttempt.email == email, since=account_since) >= settings.login_max_failures
    )
    locked = locked or (
        _failures(session, LoginAttempt.address == address, since=since)
        >= settings.login_max_failures_per_address
    )
    if not locked:
        return 0
    latest = session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.succeeded.is_(False),
            (LoginAttempt.email == email) | (LoginAttempt.address == address),
        )
    )
    remaining = (latest or now) + window - now
    return max(1, math.ceil(remaining.total_seconds() / 60))


def _record_failure(
    session: Session, user: User | None, target: str, reason: str, address: str, agent: str
) -> None:
    # Each of the user's organisations sees attempts on its member; an unknown email goes
    # to the deployment's own log (no organisation).
    orgs: list[int | None] = [org for org, _name, _role in memberships_of(session, user.id)] if user else []
    for org_id in orgs or [None]:
        audit.record(
            session,
            org_id=org_id,
            action="session.login_failed",
            actor_id=None,
            actor_email="anonymous",
            target=target,
            after={"reason": reason},
            address=address,
            user_agent=agent,
        )


def check_password_login(
    session: Session, settings: Settings, *, email: str, password: str, address: str, user_agent: str
) -> LoginResult:
    """Check a sign-in and record the attempt. The caller commits even on refusal."""
    now = datetime.now(UTC)
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - KEEP_ATTEMPTS))
    try:
        email = normalise_email(email)
        target = f"user:{email}"
    except AccessError:
        # Not an email at all (perhaps a password typed in the wrong box): never write it down.
        email, target = "", "user:(not an email address)"
    user = find_user(session, email) if email else None
    minutes = _locked_for(session, settings, email, address, now)
    if minutes:
        _record_failure(session, user, target, "locked", address, user_agent)
        return LoginResult(None, f"Too many failed sign-ins. Try again in {minutes} minutes.", 429)
    ok = verify_password(password, user.password_hash if user else None)
    session.add(LoginAttempt(email=email, address=address[:64], succeeded=ok, attempted_at=now))
    if not ok:
        _record_failure(session, user, target, "bad credentials", address, user_agent)
        return LoginResult(None, BAD_CREDENTIALS, 401)
    return LoginResult(user)

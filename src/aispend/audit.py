"""The append-only audit log: who did what, to what, when, from where.

Every change and every credential use is recorded through :func:`record`, in the same
transaction as the change it describes, so an entry exists exactly when the change
does. Entries are never updated or deleted: the ORM refuses it here, and database
triggers (migration 0003) refuse it for any other path.

Actions are dotted verbs, ``<thing>.<what happened>``: ``connection.created``,
``credential.deleted``, ``credential.used``, ``sync.failed``, ``rates.changed``,
``spend_limit.set``, ``user.role_changed``, ``session.login_failed``, … (see
``ACTIONS`` for the ones this package writes; other modules add their own).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, UOWTransaction

from aispend.redact import redact
from aispend.store.schema import AuditEntry

__all__ = [
    "ACTIONS",
    "SYSTEM",
    "Actor",
    "AuditLogIsAppendOnlyError",
    "acting_as",
    "cli_actor",
    "current_actor",
    "entries",
    "entry_json",
    "record",
    "set_actor",
]

# The actions aispend itself records; a test performs each one and finds its entry.
ACTIONS = (
    "api_token.created",
    "api_token.revoked",
    "connection.created",
    "connection.disconnected",
    "credential.deleted",
    "credential.used",
    "organisation.switched",
    "session.login",
    "session.login_failed",
    "session.logout",
    "sync.failed",
    "user.added",
    "user.created",
    "user.password_reset",
    "user.password_reset_requested",
    "user.removed",
    "user.role_changed",
)

# Field names whose values are never written, whatever a caller passes: the audit log
# records that a secret changed, never the secret.
_SECRET_WORDS = ("password", "secret", "token", "key", "credential", "cookie", "authorization")
_SAFE_SUFFIXES = ("_fingerprint", "_prefix", "_id", "_name")
REDACTED = "[redacted]"


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, a local operator (``cli:<os user>``) or the system."""

    email: str
    id: int | None = None
    address: str = ""
    user_agent: str = ""


SYSTEM = Actor(email="system")
_actor: ContextVar[Actor] = ContextVar("aispend_audit_actor", default=SYSTEM)


def cli_actor() -> Actor:
    """The local operator running a command: ``cli:<os user>``."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        user = "unknown"
    return Actor(email=f"cli:{user}")


def current_actor() -> Actor:
    return _actor.get()


def set_actor(actor: Actor) -> None:
    """Make ``actor`` the default for the rest of this context (a CLI process sets its operator)."""
    _actor.set(actor)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Make ``actor`` the default actor of :func:`record` calls inside the block."""
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def _is_secret_field(name: str) -> bool:
    lowered = name.lower()
    if lowered.endswith(_SAFE_SUFFIXES):
        return False
    return any(word in lowered for word in _SECRET_WORDS)


def _scrub(value: Any) -> Any:
    """A JSON-safe copy with secret-named fields masked and key-shaped strings redacted."""
    if isinstance(value, Mapping):
        return {str(k): REDACTED if _is_secret_field(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


def record(
    session: Session,
    *,
    org_id: int | None,
    action: str,
    actor_id: int | None = None,
    actor_email: str | None = None,
    target: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    address: str | None = None,
    user_agent: str | None = None,
) -> AuditEntry:
    """Append one entry to the audit log in ``session``'s transaction.

    Signature (a contract other modules rely on)::

        record(session, *, org_id, action, actor_id=None, actor_email=None, target="",
               before=None, after=None, address=None, user_agent=None) -> AuditEntry

    ``action`` is a dotted verb (``spend_limit.set``); ``target`` names what was acted on
    (``connection:anthropic-prod``, ``user:ana@example.com``); ``before``/``after`` are
    small JSON-able mappings of the fields that changed. Actor fields left as None come
    from the current actor (:func:`acting_as`; a CLI command runs as ``cli:<os user>``,
    background work as ``system``). Fields named like secrets (``password``, ``token``,
    ``key``, …) are stored as ``[redacted]`` and key-shaped strings are masked, so no
    secret is ever written. The entry is written when the session flushes, with the change.
    """
    if "." not in action:
        raise ValueError(f"audit actions are dotted verbs like 'connection.created', not {action!r}")
    actor = current_actor()
    use_actor = actor_id is None and actor_email is None
    entry = AuditEntry(
        org_id=org_id,
        at=datetime.now(UTC),
        actor_id=actor.id if use_actor else actor_id,
        actor_email=(actor.email if use_actor else actor_email or "")[:320],
        action=action,
        target=redact(target)[:300],
        before=_scrub(before) if before is not None else None,
        after=_scrub(after) if after is not None else None,
        address=(actor.address if address is None else address)[:64],
        user_agent=redact(actor.user_agent if user_agent is None else user_agent)[:400],
    )
    session.add(entry)
    return entry


def entries(
    session: Session,
    *,
    org_id: int | None,
    every_organisation: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str = "",
    limit: int = 100,
) -> list[AuditEntry]:
    """Entries newest first: of ``org_id`` (of every organisation, and none, when
    ``every_organisation``), at or after ``since`` and before ``until``. ``action`` matches
    exactly, or as a prefix when it ends with a dot (``user.``)."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if not every_organisation:
        query = query.where(AuditEntry.org_id == org_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if action.endswith("."):
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    elif action:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    """One entry as the JSON API, the CLI and exports show it."""
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "org_id": entry.org_id,
        "actor_id": entry.actor_id,
        "actor_email": entry.actor_email,
        "action": entry.action,
        "target": entry.target,
        "before": entry.before,
        "after": entry.after,
        "address": entry.address,
        "user_agent": entry.user_agent,
    }


class AuditLogIsAppendOnlyError(Exception):
    """Something tried to change or delete an audit entry."""


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    for entry in (*session.dirty, *session.deleted):
        if isinstance(entry, AuditEntry) and (entry in session.deleted or session.is_modified(entry)):
            raise AuditLogIsAppendOnlyError("the audit log is append-only; entries are never changed")

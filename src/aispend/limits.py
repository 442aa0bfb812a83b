"""Claude Enterprise spend limits: read every member's limit, set or clear one, answer requests.

Operations run against the connection's stored key, paced at the Spend Limits API's 60
requests a minute per organisation and retried on 429. Every write (``spend_limit.set``,
``spend_limit.cleared``, ``spend_limit_request.approved``, ``spend_limit_request.denied``) is
recorded in the audit log with the state before and after. A write is refused here, before
any request, when the key was found at connect time to lack ``write:spend_limits``; a key
whose scopes changed since is refused by the API, and the connection learns it.

Connecting (:func:`connect_claude_enterprise`) checks the key's scopes and keeps what it may
do on the connection, where ``aispend connections`` shows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import select

from aispend import audit
from aispend.connections import (
    CAPABILITIES_OPTION,
    ConnectError,
    connect_provider,
    get_connection,
    open_connector,
)
from aispend.providers.auth import RevealedKeyAuth
from aispend.providers.base import ProviderError, RateLimitedError, RetriableProviderError
from aispend.providers.claude_enterprise.client import CLAUDE_API, ClaudeEnterpriseClient, ScopeError
from aispend.providers.claude_enterprise.connector import (
    ClaudeEnterpriseConnector,
    check_enterprise_key_format,
)
from aispend.providers.claude_enterprise.spendlimits import (
    READ_CAPABILITY,
    WRITE_CAPABILITY,
    Capabilities,
    EffectiveLimit,
    IncreaseRequest,
    SpendLimit,
    SpendLimitsClient,
    probe_capabilities,
)
from aispend.runtime import Runtime
from aispend.store.schema import Connection, DirectoryItem
from aispend.sync.pacing import DEFAULT_RATES, Pacer, rates_for_interval

__all__ = [
    "LimitsError",
    "approve_request",
    "clear_limit",
    "connect_claude_enterprise",
    "deny_request",
    "list_limits",
    "list_requests",
    "set_limit",
]

T = TypeVar("T")
CENT = Decimal("0.01")
PROVIDER = "claude_enterprise"
FAMILY = "spend_limits"
SCOPE_STEPS = (
    "The primary owner can make a key with read:spend_limits and write:spend_limits in claude.ai "
    "(Organization settings > API); then run `aispend disconnect {name}` and connect it again."
)


class LimitsError(Exception):
    """A spend-limit operation was refused or failed; the message says why and what to do."""


def connect_claude_enterprise(
    runtime: Runtime,
    *,
    name: str,
    key: str,
    base_url: str | None = None,
    min_request_interval: float | None = None,
) -> tuple[Connection, Capabilities]:
    """Connect a Claude Enterprise organisation and keep what its key may do on the connection.

    The key must read analytics (a 403 names the scopes it has); whether it may also read and
    change spend limits is probed and shown by ``aispend connections``.
    """
    try:
        check_enterprise_key_format(key)
    except ProviderError as error:
        raise ConnectError(str(error)) from None
    with runtime.http_client() as http:
        client = ClaudeEnterpriseClient(
            http, RevealedKeyAuth("x-api-key", lambda: key), base_url or CLAUDE_API
        )
        try:
            ClaudeEnterpriseConnector(client).identify()
            capabilities = probe_capabilities(client)
        except ProviderError as error:
            raise ConnectError(str(error)) from None
    options: dict[str, object] = {
        CAPABILITIES_OPTION: list(capabilities.names),
        "scopes": list(capabilities.scopes),
    }
    if capabilities.note:
        options["capabilities_note"] = capabilities.note
    connection = connect_provider(
        runtime,
        provider=PROVIDER,
        name=name,
        key=key,
        base_url=base_url,
        min_request_interval=min_request_interval,
        extra_options=options,
    )
    return connection, capabilities


@dataclass
class _Limits:
    """An open connection: its row, the Spend Limits client and the pace of its calls."""

    runtime: Runtime
    connection: Connection
    api: SpendLimitsClient
    pacer: Pacer

    def call(self, request: Callable[[], T], *, write: bool = False) -> T:
        """One paced request. 429s are retried after their retry-after; so are a read's transient faults."""
        attempts = self.runtime.settings.retry_attempts
        for attempt in range(1, attempts + 1):
            self.pacer.acquire(FAMILY)
            try:
                return request()
            except RateLimitedError as error:
                self.pacer.slow_down(FAMILY, error.retry_after)
                if attempt == attempts:
                    raise
            except RetriableProviderError:
                # A write that failed half-way may have happened: never sent twice.
                if write or attempt == attempts:
                    raise
                time.sleep(self.runtime.settings.retry_backoff_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def audit(self, action: str, target: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        with self.runtime.db.session() as session:
            audit.record(
                session,
                org_id=self.connection.org_id,
                action=action,
                target=f"connection:{self.connection.name} {target}",
                before=before,
                after=after,
            )

    def forget_write(self) -> None:
        """The API refused a write for want of the scope: the connection no longer claims it."""
        with self.runtime.db.session() as session:
            stored = session.get(Connection, self.connection.id)
            assert stored is not None
            names = [c for c in _capabilities(stored) if c != WRITE_CAPABILITY]
            stored.options = {**stored.options, CAPABILITIES_OPTION: names}


def _capabilities(connection: Connection) -> list[str]:
    names = connection.options.get(CAPABILITIES_OPTION)
    return [str(name) for name in names] if isinstance(names, list) else []


@contextmanager
def _open(runtime: Runtime, name: str, *, write: bool) -> Iterator[_Limits]:
    with runtime.db.session() as session:
        try:
            connection = get_connection(session, runtime.org_id, name)
        except ConnectError as error:
            raise LimitsError(str(error)) from None
    if connection.provider != PROVIDER:
        raise LimitsError(
            f"{name!r} is not a Claude Enterprise connection; spend limits are Claude Enterprise's."
        )
    needed = WRITE_CAPABILITY if write else READ_CAPABILITY
    if needed not in _capabilities(connection):
        scope = "write:spend_limits" if write else "read:spend_limits"
        raise LimitsError(
            f"The key of {name!r} may not {'change' if write else 'read'} spend limits: it lacks {scope} "
            f"(it may: {', '.join(_capabilities(connection)) or 'nothing beyond analytics'}). "
            + SCOPE_STEPS.format(name=name)
        )
    interval = connection.options.get("min_request_interval")
    if interval is None:
        rates = DEFAULT_RATES[PROVIDER]
    else:
        seconds = float(str(interval))
        rates = {FAMILY: rates_for_interval(seconds)} if seconds > 0 else {}
    pacer = Pacer(f"{PROVIDER}:{connection.provider_account_id}", rates, runtime.settings.pacing_path)
    try:
        with runtime.http_client() as http:
            connector = open_connector(runtime, connection, http)
            assert isinstance(connector, ClaudeEnterpriseConnector)
            limits = _Limits(runtime, connection, SpendLimitsClient(connector.client), pacer)
            try:
                yield limits
            except ScopeError as error:
                if error.needed == "write:spend_limits":
                    limits.forget_write()
                raise LimitsError(f"{error.message} {SCOPE_STEPS.format(name=name)}") from None
            except ProviderError as error:
                raise LimitsError(str(error)) from None
    except ConnectError as error:
        raise LimitsError(str(error)) from None
    finally:
        pacer.close()


def _all(limits: _Limits, page: Callable[[str | None], tuple[list[T], str | None]]) -> list[T]:
    items: list[T] = []
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        chunk, cursor = limits.call(partial(page, cursor))
        items += chunk
        if cursor is None or cursor in seen:
            return items
        seen.add(cursor)


def list_limits(runtime: Runtime, name: str) -> list[EffectiveLimit]:
    """Every member's effective limit, where it comes from, and what they spent this period."""
    with _open(runtime, name, write=False) as limits:
        return _all(limits, lambda cursor: limits.api.effective(page=cursor))


def list_requests(runtime: Runtime, name: str, statuses: tuple[str, ...] = ()) -> list[IncreaseRequest]:
    """Limit-increase requests, newest first (only ``statuses`` when given)."""
    with _open(runtime, name, write=False) as limits:
        return _all(limits, lambda cursor: limits.api.requests(statuses=statuses, page=cursor))


def _member(limits: _Limits, email: str) -> EffectiveLimit:
    """The member with ``email`` (any case): found by the directory's id, else by listing everyone."""
    wanted = email.strip().lower()
    with limits.runtime.db.session() as session:
        item = session.scalar(
            select(DirectoryItem).where(
                DirectoryItem.org_id == limits.connection.org_id,
                DirectoryItem.connection_id == limits.connection.id,
                DirectoryItem.kind == "user",
                DirectoryItem.provider_id == wanted,
            )
        )
    provider_user = (item.attributes or {}).get("provider_user_id", "") if item is not None else ""
    if provider_user:
        rows, _ = limits.call(lambda: limits.api.effective(user_ids=(provider_user,), limit=1))
    else:
        rows = _all(limits, lambda cursor: limits.api.effective(page=cursor))
    for row in rows:
        if row.email.lower() == wanted:
            return row
    raise LimitsError(f"No member of {limits.connection.name!r} has the e-mail {email!r}.")


def _usd(amount: Decimal | None) -> str | None:
    """Dollars for the audit log, to the cent (limits are whole cents); None is unlimited."""
    return None if amount is None else f"{amount.quantize(CENT):f}"


def _state(row: EffectiveLimit) -> dict[str, Any]:
    return {
        "amount_usd": _usd(row.amount_usd),
        "source": row.source,
        "source_detail": row.source_detail,
        "spend_limit_id": row.spend_limit_id,
        "period": row.period,
    }


def set_limit(runtime: Runtime, name: str, email: str, amount_usd: Decimal | None) -> SpendLimit:
    """Set the member's own monthly limit (``None``: explicitly unlimited). Audited."""
    if amount_usd is not None and amount_usd < 0:
        raise LimitsError("A spend limit cannot be negative.")
    with _open(runtime, name, write=True) as limits:
        before = _member(limits, email)
        try:
            after = limits.call(lambda: limits.api.set_user_limit(before.user_id, amount_usd), write=True)
        except ValueError as error:
            raise LimitsError(str(error)) from None
        state = {"amount_usd": _usd(after.amount_usd), "source": "user"}
        limits.audit(
            "spend_limit.set",
            f"user:{before.email.lower()}",
            _state(before),
            {**state, "spend_limit_id": after.id, "period": after.period},
        )
        return after


def clear_limit(runtime: Runtime, name: str, email: str) -> EffectiveLimit:
    """Remove the member's own limit; returns the limit they inherit now. Audited."""
    with _open(runtime, name, write=True) as limits:
        before = _member(limits, email)
        if before.source != "user" or not before.spend_limit_id:
            source = before.source or "organization"
            raise LimitsError(f"{email} has no limit of their own to clear; theirs comes from {source}.")
        limits.call(lambda: limits.api.delete(before.spend_limit_id), write=True)
        rows, _ = limits.call(lambda: limits.api.effective(user_ids=(before.user_id,), limit=1))
        after = rows[0] if rows else before
        limits.audit("spend_limit.cleared", f"user:{before.email.lower()}", _state(before), _state(after))
        return after


def _request_state(request: IncreaseRequest) -> dict[str, Any]:
    current = request.current
    return {
        "status": request.status,
        "user": request.email.lower(),
        "limit_usd": None if current is None else _usd(current.amount_usd),
    }


def approve_request(
    runtime: Runtime, name: str, request_id: str, amount_usd: Decimal, *, notify: bool = True
) -> IncreaseRequest:
    """Approve a limit-increase request with the member's new monthly limit. Audited."""
    with _open(runtime, name, write=True) as limits:
        before = limits.call(lambda: limits.api.request(request_id))
        try:
            after = limits.call(lambda: limits.api.approve(request_id, amount_usd, notify=notify), write=True)
        except ValueError as error:
            raise LimitsError(str(error)) from None
        limits.audit(
            "spend_limit_request.approved",
            f"request:{request_id}",
            _request_state(before),
            {
                "status": after.status,
                "user": after.email.lower(),
                "limit_usd": _usd(amount_usd),
                "notified": notify,
            },
        )
        return after


def deny_request(runtime: Runtime, name: str, request_id: str, *, notify: bool = True) -> IncreaseRequest:
    """Deny a limit-increase request (denying one again changes nothing). Audited."""
    with _open(runtime, name, write=True) as limits:
        before = limits.call(lambda: limits.api.request(request_id))
        after = limits.call(lambda: limits.api.deny(request_id, notify=notify), write=True)
        limits.audit(
            "spend_limit_request.denied",
            f"request:{request_id}",
            _request_state(before),
            {"status": after.status, "user": after.email.lower(), "notified": notify},
        )
        return after

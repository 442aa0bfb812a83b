"""Connecting, listing and disconnecting provider accounts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from aispend import audit
from aispend.providers.base import Connector, ProviderAccount, ProviderError
from aispend.providers.registry import provider_info
from aispend.runtime import Runtime
from aispend.store.schema import Connection, Credential, SyncState
from aispend.vault import SealedSecret, fingerprint

__all__ = [
    "CAPABILITIES_OPTION",
    "REFRESH_OPTION",
    "ConnectError",
    "ConnectionView",
    "active_connection_names",
    "connect_provider",
    "disconnect",
    "get_connection",
    "list_connections",
    "open_connector",
]


CAPABILITIES_OPTION = "capabilities"
"""Connection option: what the stored key may do beyond reading (checked at connect time)."""
REFRESH_OPTION = "data_refreshed_at"
"""Connection option: per stream, the provider's latest statement of how fresh its data is."""


class ConnectError(Exception):
    """A connection could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class ConnectionView:
    name: str
    provider: str
    provider_account: str
    status: str
    last_sync_at: datetime | None
    data_complete_through: date | None
    key_fingerprint: str
    last_error: str | None
    # The provider's own "data complete through" (the oldest of its streams' refresh times).
    data_refreshed_at: datetime | None = None
    capabilities: tuple[str, ...] = ()

    def as_json(self) -> dict[str, str | list[str] | None]:
        """The connection as JSON; ``data_refreshed_at`` and ``capabilities`` only where there are some."""
        shown: dict[str, str | list[str] | None] = {
            "name": self.name,
            "provider": self.provider,
            "provider_organization": self.provider_account,
            "status": self.status,
            "last_sync_at": self.last_sync_at.isoformat() if self.last_sync_at else None,
            "data_complete_through": (
                self.data_complete_through.isoformat() if self.data_complete_through else None
            ),
            "key_fingerprint": self.key_fingerprint,
            "last_error": self.last_error,
        }
        if self.data_refreshed_at is not None:
            shown["data_refreshed_at"] = self.data_refreshed_at.isoformat()
        if self.capabilities:
            shown["capabilities"] = list(self.capabilities)
        return shown


def get_connection(session: Session, org_id: int, name: str) -> Connection:
    connection = session.scalar(
        select(Connection).where(Connection.org_id == org_id, Connection.name == name)
    )
    if connection is None:
        names = session.scalars(select(Connection.name).where(Connection.org_id == org_id)).all()
        known = ", ".join(sorted(names)) or "none yet; add one with `aispend connect`"
        raise ConnectError(f"No connection named {name!r}. Connections: {known}.")
    return connection


def connect_provider(
    runtime: Runtime,
    *,
    provider: str,
    name: str,
    key: str | None,
    base_url: str | None = None,
    min_request_interval: float | None = None,
    extra_options: Mapping[str, object] | None = None,
) -> Connection:
    """Validate ``key`` (format, then one call to the provider), then store the connection sealed.

    Refuses a second connection to the same provider organisation, which would count
    its spend twice. ``key`` is None only for providers that need none (``needs_key``);
    ``extra_options`` are provider settings kept on the connection (a workspace or table id).
    """
    info = provider_info(provider)
    if info.needs_key:
        key = (key or "").strip()
        try:
            info.check_key_format(key)
        except ProviderError as exc:
            raise ConnectError(str(exc)) from None
    elif key:
        raise ConnectError(
            f"{info.display_name} takes no key: it is read with this deployment's own identity."
        )
    url = base_url or info.default_base_url
    options: dict[str, object] = {**(extra_options or {}), "base_url": url}
    if min_request_interval is not None:
        options["min_request_interval"] = min_request_interval
    held_key = key or ""
    with runtime.http_client() as http:
        try:
            account = info.build(http, lambda: held_key, url, options).identify()
        except ProviderError as exc:
            raise ConnectError(str(exc)) from None
    if account.scope_ids:
        options["scope_ids"] = sorted(account.scope_ids)
    org_id = runtime.org_id
    with runtime.db.session() as session:
        _refuse_double_counting(session, org_id, info.display_name, provider, account)
        connection = session.scalar(
            select(Connection).where(Connection.org_id == org_id, Connection.name == name)
        )
        if connection is None:
            connection = Connection(
                org_id=org_id, name=name, provider=provider, provider_account_id=account.id
            )
            session.add(connection)
        elif connection.status != "disconnected":
            raise ConnectError(f"A connection named {name!r} already exists; choose another --name.")
        elif (connection.provider, connection.provider_account_id) != (provider, account.id):
            raise ConnectError(
                f"The name {name!r} belongs to a disconnected connection to another organisation "
                f"({connection.provider_account_name}); choose another --name."
            )
        # A reconnection keeps the connection's data and checkpoints and takes the new key.
        connection.provider_account_name = account.name
        connection.options = options
        connection.key_fingerprint = fingerprint(key) if key else ""
        connection.status = "active"
        connection.disconnected_at = None
        connection.last_error = None
        session.flush()
        audit.record(
            session,
            org_id=org_id,
            action="connection.created",
            target=f"connection:{name}",
            after={
                "provider": provider,
                "provider_account_id": account.id,
                "key_fingerprint": connection.key_fingerprint,
            },
        )
        if not key:
            return connection
        sealed = runtime.vault.seal(key, org_id=org_id, connection_id=connection.id)
        session.add(
            Credential(
                org_id=org_id,
                connection_id=connection.id,
                kek_id=sealed.kek_id,
                wrapped_data_key=sealed.wrapped_data_key,
                ciphertext=sealed.ciphertext,
            )
        )
    return connection


def _refuse_double_counting(
    session: Session, org_id: int, display_name: str, provider: str, account: ProviderAccount
) -> None:
    active = session.scalars(
        select(Connection).where(
            Connection.org_id == org_id,
            Connection.provider == provider,
            Connection.status != "disconnected",
        )
    ).all()
    for other in active:
        shared = account.scope_ids & set(_scope_ids(other))
        if other.provider_account_id != account.id and not shared:
            continue
        what = (
            f"{display_name} organisation {account.name!r} ({account.id}) is"
            if other.provider_account_id == account.id
            else f"{display_name} projects {', '.join(sorted(shared))} are"
        )
        raise ConnectError(
            f"{what} already connected as {other.name!r}; a second connection would count its spend "
            f"twice. To replace its key, run `aispend disconnect {other.name}`, then connect again "
            f"with --name {other.name}."
        )


def _scope_ids(connection: Connection) -> list[str]:
    ids = connection.options.get("scope_ids")
    return [str(item) for item in ids] if isinstance(ids, list) else []


def open_connector(runtime: Runtime, connection: Connection, http: httpx.Client) -> Connector:
    """A connector whose every request opens the sealed key just for that request."""
    info = provider_info(connection.provider)
    base_url = str(connection.options.get("base_url") or info.default_base_url)
    if not info.needs_key:
        return info.build(http, _no_key, base_url, connection.options)
    with runtime.db.session() as session:
        credential = session.scalar(
            select(Credential).where(
                Credential.org_id == connection.org_id, Credential.connection_id == connection.id
            )
        )
        if credential is None:
            raise ConnectError(
                f"Connection {connection.name!r} has no key (it was disconnected). "
                f"Connect the provider again under a new name."
            )
        sealed = SealedSecret(credential.kek_id, credential.wrapped_data_key, credential.ciphertext)
    vault = runtime.vault

    def reveal() -> str:
        key = vault.open(sealed, org_id=connection.org_id, connection_id=connection.id)
        # Every decryption is audited as a use of the credential (never its value).
        with runtime.db.session() as session:
            audit.record(
                session,
                org_id=connection.org_id,
                action="credential.used",
                target=f"connection:{connection.name}",
            )
        return key

    return info.build(http, reveal, base_url, connection.options)


def _no_key() -> str:
    raise AssertionError("this provider is read with the deployment's identity; it has no stored key")


def disconnect(runtime: Runtime, name: str) -> Connection:
    """Stop imports and hard-delete the sealed key. Imported data stays."""
    with runtime.db.session() as session:
        connection = get_connection(session, runtime.org_id, name)
        deleted = session.scalars(
            delete(Credential)
            .where(Credential.org_id == connection.org_id, Credential.connection_id == connection.id)
            .returning(Credential.id)
        ).all()
        target = f"connection:{connection.name}"
        if deleted:
            audit.record(session, org_id=connection.org_id, action="credential.deleted", target=target)
        audit.record(
            session,
            org_id=connection.org_id,
            action="connection.disconnected",
            target=target,
            before={"status": connection.status},
        )
        connection.status = "disconnected"
        connection.disconnected_at = datetime.now(UTC)
    if runtime.db.engine.dialect.name == "sqlite":
        # secure_delete already zeroed the freed pages; a checkpoint moves them out of the WAL too.
        with runtime.db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return connection


def active_connection_names(runtime: Runtime) -> list[str]:
    """Names of the connections that still sync (not disconnected), in name order."""
    with runtime.db.session() as session:
        return list(
            session.scalars(
                select(Connection.name)
                .where(Connection.org_id == runtime.org_id, Connection.status != "disconnected")
                .order_by(Connection.name)
            )
        )


def list_connections(runtime: Runtime) -> list[ConnectionView]:
    with runtime.db.session() as session:
        connections = session.scalars(
            select(Connection).where(Connection.org_id == runtime.org_id).order_by(Connection.name)
        ).all()
        through: dict[int, date] = dict(
            session.execute(  # type: ignore[arg-type]
                select(SyncState.connection_id, func.min(SyncState.complete_through))
                .where(SyncState.org_id == runtime.org_id, SyncState.complete_through.is_not(None))
                .group_by(SyncState.connection_id)
            ).all()
        )
        return [
            ConnectionView(
                name=c.name,
                provider=c.provider,
                provider_account=f"{c.provider_account_name} ({c.provider_account_id})",
                status=c.status,
                last_sync_at=c.last_sync_at,
                data_complete_through=through[c.id] - timedelta(days=1) if c.id in through else None,
                key_fingerprint=c.key_fingerprint,
                last_error=c.last_error,
                data_refreshed_at=_refreshed_at(c.options),
                capabilities=_capabilities(c.options),
            )
            for c in connections
        ]


def _capabilities(options: Mapping[str, object]) -> tuple[str, ...]:
    items = options.get(CAPABILITIES_OPTION)
    return tuple(str(item) for item in items) if isinstance(items, list) else ()


def _refreshed_at(options: Mapping[str, object]) -> datetime | None:
    marks = options.get(REFRESH_OPTION)
    if not isinstance(marks, Mapping) or not marks:
        return None
    return min(datetime.fromisoformat(str(value)) for value in marks.values())

"""The Connections page: status of every provider connection, connect forms, disconnect.

Connecting validates the key with one call to the provider (``connections.connect_provider``)
and then starts the first sync (the backfill) in a background thread of this process; the
page polls ``/api/v1/connections`` to show its progress without a reload.
"""

from __future__ import annotations

import copy
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from aispend import audit
from aispend.auth.permissions import Permission
from aispend.auth.principal import Principal
from aispend.connections import ConnectError, connect_provider, disconnect
from aispend.limits import connect_claude_enterprise
from aispend.runtime import Runtime
from aispend.sync.locks import ConnectionBusyError
from aispend.sync.runner import SyncFailedError, sync_connection
from aispend.vault import VaultKeyError
from aispend.web.dashboard import connection_statuses
from aispend.web.deps import ConnectionManager, RuntimeDep, SpendViewer, org_db
from aispend.web.templating import render

__all__ = ["FORMS", "ProviderForm", "for_org", "router"]

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderForm:
    provider: str
    title: str
    key_label: str | None
    steps: tuple[str, ...]
    extra: tuple[tuple[str, str], ...] = ()  # (option name, label)


FORMS: tuple[ProviderForm, ...] = (
    ProviderForm(
        "anthropic",
        "Anthropic Platform",
        "Admin API key (sk-ant-admin…)",
        (
            "Sign in to the Claude Console as an organisation admin.",
            "Open Settings → Admin keys and create a key; it is read-only for usage and cost here.",
            "Paste the key below. aispend checks it with one request and stores it encrypted.",
        ),
    ),
    ProviderForm(
        "openai",
        "OpenAI Platform",
        "Admin API key (sk-admin-…)",
        (
            "Sign in to platform.openai.com as an organisation owner.",
            "Open Settings → Organization → Admin keys and create a key with read access.",
            "Paste the key below.",
        ),
    ),
    ProviderForm(
        "claude_enterprise",
        "Claude Enterprise",
        "Analytics API key",
        (
            "In claude.ai, open Admin settings → Analytics API as a Primary Owner.",
            "Create a key with the read:analytics scope (add read:spend_limits and write:spend_limits "
            "to see and change spend limits).",
            "Paste the key below.",
        ),
    ),
    ProviderForm(
        "chatgpt_enterprise",
        "ChatGPT Enterprise",
        "API key with codex.enterprise.analytics.read",
        (
            "Ask your OpenAI account team to enable the codex.enterprise.analytics.read scope.",
            "Create a read-only API key with that scope in the ChatGPT Enterprise admin console.",
            "Copy the Workspace ID from Workspace settings, and paste both below.",
        ),
        (("workspace_id", "Workspace ID"),),
    ),
    ProviderForm(
        "gcp",
        "Google Cloud (Gemini, Vertex AI)",
        None,
        (
            "In Cloud Billing → Billing export, turn on the detailed usage cost export to BigQuery.",
            "Give this deployment's Google identity BigQuery Data Viewer on the export dataset and "
            "BigQuery Job User on a project.",
            "Paste the export table ID (project.dataset.gcp_billing_export_resource_v1_…) below.",
        ),
        (("table_id", "Billing export table ID"),),
    ),
)
_FORMS = {form.provider: form for form in FORMS}


def for_org(runtime: Runtime, org_id: int) -> Runtime:
    """The runtime acting for ``org_id`` (connections are written to ``runtime.org_id``)."""
    if org_id == runtime.org_id:
        return runtime
    acting = copy.copy(runtime)
    acting.__dict__.update(db=runtime.db, vault=runtime.vault, org_id=org_id)
    return acting


def _page(
    request: Request, principal: Principal, runtime: Runtime, status: int = 200, **context: object
) -> Response:
    with org_db(runtime, principal) as session:
        connections = connection_statuses(session, principal.org_id, datetime.now(UTC).date())
    values = {
        "connections": connections,
        "forms": FORMS,
        "can_connect": principal.can(Permission.manage_connections),
        "nav": "connections",
        **context,
    }
    return render(request, "connections.html", values, status=status)


@router.get("/connections")
def connections_page(request: Request, principal: SpendViewer, runtime: RuntimeDep) -> Response:
    return _page(request, principal, runtime)


def _backfill(runtime: Runtime, name: str) -> None:
    try:
        sync_connection(runtime, name)
    except (SyncFailedError, ConnectError, ConnectionBusyError) as error:
        # Recorded on the connection with its next step; the page shows it.
        log.warning("first sync of %s failed: %s", name, error)
    except Exception:
        # A background thread has no caller to tell: log it; the daily sync tries again.
        log.exception("first sync of %s stopped", name)


@router.post("/connections")
def connect(
    request: Request,
    principal: ConnectionManager,
    runtime: RuntimeDep,
    provider: Annotated[str, Form(max_length=40)],
    name: Annotated[str, Form(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")],
    key: Annotated[str, Form(max_length=2000)] = "",
    workspace_id: Annotated[str, Form(max_length=200)] = "",
    table_id: Annotated[str, Form(max_length=300)] = "",
    base_url: Annotated[str, Form(max_length=300)] = "",
    min_request_interval: Annotated[float | None, Form(ge=0, le=120)] = None,
) -> Response:
    form = _FORMS.get(provider)
    acting = for_org(runtime, principal.org_id)
    extra = {k: v.strip() for k, v in (("workspace_id", workspace_id), ("table_id", table_id)) if v.strip()}
    try:
        if form is None:
            raise ConnectError(f"Unknown provider {provider!r}.")
        missing = [label for option, label in form.extra if option not in extra]
        if missing:
            raise ConnectError(f"Enter the {', '.join(missing)}.")
        with audit.acting_as(principal.actor):
            if provider == "claude_enterprise":
                connection, _capabilities = connect_claude_enterprise(
                    acting,
                    name=name,
                    key=key,
                    base_url=base_url or None,
                    min_request_interval=min_request_interval,
                )
            else:
                connection = connect_provider(
                    acting,
                    provider=provider,
                    name=name,
                    key=key or None,
                    base_url=base_url or None,
                    min_request_interval=min_request_interval,
                    extra_options=extra,
                )
    except (ConnectError, VaultKeyError) as error:
        return _page(
            request, principal, runtime, 422, error=str(error), error_provider=provider, last_name=name
        )
    threading.Thread(
        target=_backfill, args=(acting, connection.name), daemon=True, name=f"backfill-{name}"
    ).start()
    return RedirectResponse(f"/connections?connected={connection.name}", status_code=303)


@router.post("/connections/{name}/disconnect")
def disconnect_connection(
    request: Request, principal: ConnectionManager, runtime: RuntimeDep, name: str
) -> Response:
    try:
        with audit.acting_as(principal.actor):
            disconnect(for_org(runtime, principal.org_id), name)
    except ConnectError as error:
        return _page(request, principal, runtime, 404, error=str(error))
    return RedirectResponse(f"/connections?disconnected={name}", status_code=303)

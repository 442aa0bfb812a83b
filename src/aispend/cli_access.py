"""``aispend users``, ``aispend tokens`` and ``aispend audit``: access control for the local operator.

Whoever runs these commands holds the deployment's database and key, so they act as
its operator: every change is audited with the actor ``cli:<os user>``.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import sys
from datetime import UTC, datetime, time, timedelta
from typing import Annotated

import typer
from rich.table import Table

from aispend import audit
from aispend.auth.apitokens import MAX_DAYS, issue_token, tokens_in
from aispend.auth.passwords import MIN_LENGTH, PasswordRejectedError, check_new_password
from aispend.auth.permissions import Role, TokenScope
from aispend.auth.resets import issue_reset, reset_link
from aispend.auth.users import (
    AccessError,
    add_member,
    find_user,
    members_of,
    organisation,
    remove_member,
    set_role,
)
from aispend.cli_common import ReportFormat as Format
from aispend.cli_common import err, out
from aispend.cli_common import fail as _fail
from aispend.cli_common import open_runtime as _runtime
from aispend.runtime import Runtime
from aispend.store.schema import ApiToken

__all__ = ["audit_command", "create_demo_admin", "tokens_app", "users_app"]

users_app = typer.Typer(help="Users and their roles; one-time password reset links.", no_args_is_help=True)
tokens_app = typer.Typer(help="Personal API tokens for /api/v1.", no_args_is_help=True)

DEMO_EMAIL = "demo@example.com"

RoleOption = Annotated[
    Role, typer.Option("--role", help="admin, finance_admin, it_admin, auditor or member.")
]
OrgOption = Annotated[
    str | None, typer.Option("--org", help="Organisation name (default: the deployment's first one).")
]


def _read_password(password_stdin: bool, email: str) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt(
            f"Password for {email} (at least {MIN_LENGTH} characters)",
            hide_input=True,
            confirmation_prompt=True,
        )
    try:
        check_new_password(password, email)
    except PasswordRejectedError as error:
        raise _fail(str(error)) from None
    return password


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="The person's email; they sign in with it.")],
    role: RoleOption = Role.member,
    org: OrgOption = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    no_password: Annotated[
        bool,
        typer.Option(
            "--no-password", help="Create no password: the user signs in by SSO, or by a reset link."
        ),
    ] = False,
) -> None:
    """Add a user with a role in an organisation (created if new). Asks for a password."""
    password = None if no_password else _read_password(password_stdin, email.strip().lower())
    runtime = _runtime()
    try:
        with runtime.db.session() as session:
            org_id = organisation(session, org, runtime.org_id, create=True)
            existed = find_user(session, email) is not None
            user = add_member(session, org_id=org_id, email=email, role=role, password=password)
    except (AccessError, PasswordRejectedError) as error:
        raise _fail(str(error)) from None
    note = " (an existing account: its password is unchanged)" if existed and password else ""
    out.print(f"{user.email} is {role.label} of {org or 'the default organisation'}{note}.", highlight=False)


def _org_option(runtime: Runtime, org: str | None) -> int:
    with runtime.db.session() as session:
        try:
            return organisation(session, org, runtime.org_id)
        except AccessError as error:
            raise _fail(str(error)) from None


@users_app.command("list")
def users_list(
    org: OrgOption = None,
    format: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
) -> None:
    """Members of an organisation and their roles."""
    runtime = _runtime()
    org_id = _org_option(runtime, org)
    with runtime.db.session() as session:
        members = members_of(session, org_id)
    rows: list[dict[str, object]] = [
        {
            "email": m.email,
            "role": m.role.value,
            "password": m.has_password,
            "single_sign_on": m.single_sign_on,
        }
        for m in members
    ]
    _print_rows(rows, format, ["email", "role", "password", "single_sign_on"])


@users_app.command("set-role")
def users_set_role(
    email: Annotated[str, typer.Argument(help="A member's email.")],
    role: Annotated[Role, typer.Argument(help="admin, finance_admin, it_admin, auditor or member.")],
    org: OrgOption = None,
) -> None:
    """Change a member's role. An organisation always keeps at least one Admin."""
    runtime = _runtime()
    org_id = _org_option(runtime, org)
    try:
        with runtime.db.session() as session:
            member = set_role(session, org_id=org_id, email=email, role=role)
    except AccessError as error:
        raise _fail(str(error)) from None
    out.print(f"{member.email} is now {member.role.label}.", highlight=False)


@users_app.command("remove")
def users_remove(
    email: Annotated[str, typer.Argument(help="A member's email.")],
    org: OrgOption = None,
) -> None:
    """Remove a member from an organisation, ending their sessions and tokens there."""
    runtime = _runtime()
    org_id = _org_option(runtime, org)
    try:
        with runtime.db.session() as session:
            remove_member(session, org_id=org_id, email=email)
    except AccessError as error:
        raise _fail(str(error)) from None
    out.print(f"Removed {email.strip().lower()}.", highlight=False)


@users_app.command("reset-password")
def users_reset_password(email: Annotated[str, typer.Argument(help="The account's email.")]) -> None:
    """Print a one-time link with which the user chooses a new password (no mail server needed)."""
    runtime = _runtime()
    with runtime.db.session() as session:
        user = find_user(session, email)
        if user is None:
            raise _fail(f"No account {email.strip().lower()}.")
        link = reset_link(runtime.settings, issue_reset(session, runtime.settings, user))
    out.print(
        f"Give this link to {user.email}; it works once, for {runtime.settings.password_reset_minutes} "
        f"minutes:\n{link}",
        highlight=False,
    )


@tokens_app.command("create")
def tokens_create(
    email: Annotated[str, typer.Argument(help="The token's owner; it acts with their role.")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'finance sheet'.")],
    scope: Annotated[
        TokenScope, typer.Option(help="read (view only) or full (all the owner's role allows).")
    ] = (TokenScope.read),
    days: Annotated[int, typer.Option(min=1, max=MAX_DAYS, help="Days until it expires.")] = 90,
    org: OrgOption = None,
) -> None:
    """Create a personal API token and print it, once."""
    runtime = _runtime()
    org_id = _org_option(runtime, org)
    try:
        with runtime.db.session() as session:
            user = find_user(session, email)
            if user is None:
                raise AccessError(f"No account {email.strip().lower()}.")
            view, secret = issue_token(
                session, user_id=user.id, org_id=org_id, name=name, scope=scope, days=days
            )
    except AccessError as error:
        raise _fail(str(error)) from None
    err.print(
        f"Token {view.id} ({view.name}, {view.scope.value}) expires {view.expires_at:%Y-%m-%d}. "
        "It is shown only now:"
    )
    out.print(secret, highlight=False)


@tokens_app.command("list")
def tokens_list(
    org: OrgOption = None,
    format: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
) -> None:
    """Every token of an organisation (never the tokens themselves: only their first characters)."""
    runtime = _runtime()
    org_id = _org_option(runtime, org)
    with runtime.db.session() as session:
        views = tokens_in(session, org_id)
    fields = [
        "id",
        "name",
        "owner",
        "prefix",
        "scope",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    _print_rows([view.as_json() for view in views], format, fields)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (`aispend tokens list`).")],
) -> None:
    """Revoke a token at once."""
    runtime = _runtime()
    with runtime.db.session() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise _fail(f"No token {token_id}.")
        if token.revoked_at is None:
            token.revoked_at = datetime.now(UTC)
            audit.record(
                session,
                org_id=token.org_id,
                action="api_token.revoked",
                target=f"api_token:{token.id}",
                before={"name": token.name, "token_prefix": token.prefix},
            )
    out.print(f"Token {token_id} is revoked.")


def audit_command(
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First UTC day (inclusive).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last UTC day (inclusive).")
    ] = None,
    action: Annotated[str, typer.Option(help="One action, or a prefix ending in a dot ('user.').")] = "",
    org: Annotated[
        str | None, typer.Option("--org", help="Only this organisation (default: every one, and none).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest entries to show.")] = 100,
    format: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
) -> None:
    """The audit log, newest first: who did what, to what, when and from where."""
    runtime = _runtime()
    org_id = _org_option(runtime, org) if org else None
    with runtime.db.session() as session:
        found = audit.entries(
            session,
            org_id=org_id,
            every_organisation=org is None,
            since=datetime.combine(since.date(), time(), UTC) if since else None,
            until=datetime.combine(until.date() + timedelta(days=1), time(), UTC) if until else None,
            action=action,
            limit=limit,
        )
        rows = [audit.entry_json(entry) for entry in found]
    fields = ["at", "org_id", "actor_email", "action", "target", "before", "after", "address"]
    _print_rows(rows, format, fields)


def _print_rows(rows: list[dict[str, object]], format: Format, fields: list[str]) -> None:
    if format is Format.json:
        out.print_json(json.dumps(rows, default=str))
        return
    if format is Format.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _cell(row.get(k)) for k in fields} for row in rows)
        sys.stdout.write(buffer.getvalue())
        return
    table = Table()
    for name in fields:
        # Fold long values onto more lines rather than cut them: an audit line must stay whole.
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(k)) for k in fields))
    out.print(table)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def create_demo_admin(runtime: Runtime) -> tuple[str, str]:
    """An Admin for ``aispend demo`` with a fresh random password; returns (email, password)."""
    password = secrets.token_urlsafe(12)
    with runtime.db.session() as session, audit.acting_as(audit.cli_actor()):
        add_member(session, org_id=runtime.org_id, email=DEMO_EMAIL, role=Role.admin, password=password)
    return DEMO_EMAIL, password

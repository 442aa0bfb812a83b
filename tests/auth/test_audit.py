"""The audit log records every action, keeps its actors, never holds a secret, never changes."""

from __future__ import annotations

import getpass
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from aispend import audit
from aispend.auth.sessions import SESSION_COOKIE
from aispend.cli import app as cli_app
from aispend.providers.anthropic.simulator import AnthropicSimulator, RunningSimulator
from aispend.runtime import Runtime
from aispend.store.schema import AuditEntry, User
from aispend.web.app import create_app
from tests.auth.helpers import csrf, login

PASSWORD = "audit trail password 1"
NEW_PASSWORD = "a brand new password 2"
SECRET_PAGE = re.compile(r'class="secret">([^<]+)<')


@pytest.fixture
def cli(env_for: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    for name, value in env_for.items():
        if name.startswith("AISPEND_"):
            monkeypatch.setenv(name, value)
    yield CliRunner()
    audit.set_actor(audit.SYSTEM)  # the CLI made this test's thread its operator


def run(cli: CliRunner, *args: str, input: str | None = None) -> str:
    result = cli.invoke(cli_app, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.stdout


def every_entry(runtime: Runtime) -> list[AuditEntry]:
    with runtime.db.session() as session:
        return audit.entries(session, org_id=None, every_organisation=True, limit=100_000)


def test_every_action_is_recorded_without_a_secret(
    runtime: Runtime,
    cli: CliRunner,
    simulator: AnthropicSimulator,
    served: RunningSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = simulator.org.settings.admin_key
    secrets = {PASSWORD, NEW_PASSWORD, key}
    responses: list[str] = []

    # The operator, on the command line: the first Admin, a connection, a sync, a second organisation.
    run(cli, "users", "add", "ada@example.com", "--role", "admin", "--password-stdin", input=PASSWORD + "\n")
    run(cli, "users", "add", "ada@example.com", "--role", "auditor", "--org", "Other Ltd", "--no-password")
    connect = ["connect", "anthropic", "--name", "acme", "--key-stdin", "--base-url", served.base_url]
    run(cli, *connect, "--min-request-interval", "0", input=key + "\n")
    run(cli, "sync", "--connection", "acme")
    simulator.inject("401", times=10)
    assert cli.invoke(cli_app, ["sync", "--connection", "acme"]).exit_code == 1
    simulator.inject("401", times=0)

    # Ada, in her browser.
    browser = TestClient(create_app(runtime), follow_redirects=False)
    assert login(browser, "ada@example.com", "not the password") == 401
    assert login(browser, "ada@example.com", PASSWORD) == 303
    secrets.add(browser.cookies[SESSION_COOKIE])
    created = browser.post(
        "/settings/tokens", data={"name": "sheet", "days": "5", "csrf_token": csrf(browser)}
    )
    secrets.add(SECRET_PAGE.search(created.text).group(1))  # type: ignore[union-attr]
    token_id = re.search(r"/settings/tokens/(\d+)/revoke", created.text).group(1)  # type: ignore[union-attr]
    responses.append(
        browser.post(f"/settings/tokens/{token_id}/revoke", data={"csrf_token": csrf(browser)}).text
    )
    added = browser.post(
        "/admin/users", data={"email": "bo@example.com", "role": "member", "csrf_token": csrf(browser)}
    )
    reset = SECRET_PAGE.search(added.text).group(1)  # type: ignore[union-attr]
    secrets.add(urlsplit(reset).path.rsplit("/", 1)[1])
    with runtime.db.session() as session:
        bo = session.scalars(select(User.id).where(User.email == "bo@example.com")).one()
    for response in (
        browser.post(f"/admin/users/{bo}/role", data={"role": "auditor", "csrf_token": csrf(browser)}),
        browser.get("/admin/users"),
        browser.get("/admin/audit"),
        browser.get("/api/v1/audit"),
    ):
        responses.append(response.text)

    # Bo uses the link, signs in, signs out; then Ada removes him and moves to her other organisation.
    bo_browser = TestClient(create_app(runtime), follow_redirects=False)
    path = urlsplit(reset).path
    bo_browser.get(path)
    responses.append(
        bo_browser.post(path, data={"password": NEW_PASSWORD, "csrf_token": csrf(bo_browser)}).text
    )
    assert login(bo_browser, "bo@example.com", NEW_PASSWORD) == 303
    responses.append(bo_browser.post("/logout", data={"csrf_token": csrf(bo_browser)}).text)
    responses.append(browser.post(f"/admin/users/{bo}/remove", data={"csrf_token": csrf(browser)}).text)
    with runtime.db.session() as session:
        other = session.scalars(
            select(text("id")).select_from(text("organisations")).where(text("name = 'Other Ltd'"))
        )
        other_id = other.one()
    responses.append(
        browser.post("/account/organisation", data={"org_id": other_id, "csrf_token": csrf(browser)}).text
    )
    run(cli, "disconnect", "acme")
    responses.append(run(cli, "audit", "--format", "json", "--limit", "1000"))

    entries = every_entry(runtime)
    assert set(audit.ACTIONS) <= {entry.action for entry in entries}
    operator = f"cli:{getpass.getuser()}"
    for action in ("connection.created", "credential.deleted", "connection.disconnected", "sync.failed"):
        assert {e.actor_email for e in entries if e.action == action} == {operator}, action
    used = [e for e in entries if e.action == "credential.used"]
    assert used
    assert {e.target for e in used} == {"connection:acme"}
    # Bo is gone; what he did keeps his id and email.
    bo_logins = [e for e in entries if e.action == "session.login" and e.actor_email == "bo@example.com"]
    assert bo_logins
    assert bo_logins[0].actor_id == bo
    ada_actions = {e.action for e in entries if e.actor_email == "ada@example.com"}
    assert {"user.role_changed", "api_token.created", "user.removed", "organisation.switched"} <= ada_actions

    written = json.dumps([audit.entry_json(entry) for entry in entries])
    # The server's logs; the test client's own request lines (httpx) are the browser's side.
    logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    for secret in secrets:
        assert secret not in written
        assert secret not in logs
        assert all(secret not in body for body in responses)
    database = Path(runtime.settings.resolved_database_url.removeprefix("sqlite:///"))
    if database.exists():
        stored = b"".join(path.read_bytes() for path in database.parent.glob(f"{database.name}*"))
        for secret in secrets:
            assert secret.encode() not in stored


def test_the_audit_log_refuses_changes(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        audit.record(session, org_id=runtime.org_id, action="test.recorded", target="x")
    with pytest.raises(audit.AuditLogIsAppendOnlyError), runtime.db.session() as session:
        session.scalars(select(AuditEntry)).one().target = "rewritten"
    with pytest.raises(audit.AuditLogIsAppendOnlyError), runtime.db.session() as session:
        session.delete(session.scalars(select(AuditEntry)).one())
    for statement in ("UPDATE audit_log SET target = 'rewritten'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), runtime.db.engine.begin() as conn:
            conn.execute(text(statement))
    assert [e.target for e in every_entry(runtime)] == ["x"]


def test_secret_fields_are_masked_whatever_the_caller_passes(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        audit.record(
            session,
            org_id=runtime.org_id,
            action="rates.changed",
            target="key sk-ant-admin01-abcdefghijklmnopqrstuvwxyz",
            before={
                "rate": "1.5",
                "api_key": "sk-ant-admin01-abcdefghijklmnop",
                "password": "hunter2hunter2",
            },
            after={
                "rate": "2.0",
                "nested": {"client_secret": "s3cr3t"},
                "key_fingerprint": "sk-ant-admin01-…x7Qa",
            },
        )
    (entry,) = every_entry(runtime)
    assert entry.before == {"rate": "1.5", "api_key": "[redacted]", "password": "[redacted]"}
    assert entry.after == {
        "rate": "2.0",
        "nested": {"client_secret": "[redacted]"},
        "key_fingerprint": "sk-ant-admin01-…x7Qa",
    }
    assert "abcdefghijklmnop" not in entry.target
    with pytest.raises(ValueError, match="dotted"), runtime.db.session() as session:
        audit.record(session, org_id=runtime.org_id, action="changed")

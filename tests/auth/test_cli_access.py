"""`aispend users`, `aispend tokens` and `aispend audit` on the command line."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aispend import audit, cli_access
from aispend.cli import app
from aispend.runtime import Runtime
from aispend.web.app import create_app
from tests.auth.helpers import csrf, login

PASSWORD = "first admin password"


@pytest.fixture
def cli(env_for: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    for name, value in env_for.items():
        if name.startswith("AISPEND_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setattr(cli_access.out, "width", 200)
    yield CliRunner()
    audit.set_actor(audit.SYSTEM)


def ok(cli: CliRunner, *args: str, input: str | None = None) -> str:
    result = cli.invoke(app, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.stdout


def fails(cli: CliRunner, *args: str, input: str | None = None) -> str:
    result = cli.invoke(app, list(args), input=input)
    assert result.exit_code == 1, result.output
    return result.output


def test_first_admin_from_a_prompt_then_signs_in(cli: CliRunner, runtime: Runtime) -> None:
    out = ok(cli, "users", "add", "Ada@Example.com", "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert "ada@example.com is Admin" in out
    assert PASSWORD not in out
    assert login(TestClient(create_app(runtime), follow_redirects=False), "ada@example.com", PASSWORD) == 303


def test_users_are_managed_from_the_command_line(cli: CliRunner) -> None:
    ok(cli, "users", "add", "ada@example.com", "--role", "admin", "--password-stdin", input=PASSWORD + "\n")
    ok(cli, "users", "add", "bo@example.com", "--no-password")
    assert "at least 12" in fails(cli, "users", "add", "cy@example.com", "--password-stdin", input="short\n")
    assert "already a member" in fails(cli, "users", "add", "bo@example.com", "--no-password")

    ok(cli, "users", "set-role", "bo@example.com", "finance_admin")
    listed = json.loads(ok(cli, "users", "list", "--format", "json"))
    assert [(u["email"], u["role"], u["password"]) for u in listed] == [
        ("ada@example.com", "admin", True),
        ("bo@example.com", "finance_admin", False),
    ]
    assert "last Admin" in fails(cli, "users", "set-role", "ada@example.com", "auditor")
    assert "last Admin" in fails(cli, "users", "remove", "ada@example.com")
    ok(cli, "users", "remove", "bo@example.com")
    rows = list(csv.DictReader(io.StringIO(ok(cli, "users", "list", "--format", "csv"))))
    assert [row["email"] for row in rows] == ["ada@example.com"]
    assert "No organisation named" in fails(cli, "users", "list", "--org", "Nope")


def test_a_reset_link_from_the_command_line_sets_a_password_once(cli: CliRunner, runtime: Runtime) -> None:
    ok(cli, "users", "add", "bo@example.com", "--role", "auditor", "--no-password")
    out = ok(cli, "users", "reset-password", "bo@example.com")
    link = re.search(r"http://\S+/password-reset/\S+", out).group(0)  # type: ignore[union-attr]
    assert link.startswith("http://127.0.0.1:8000/password-reset/")

    browser = TestClient(create_app(runtime), follow_redirects=False)
    path = urlsplit(link).path
    assert "bo@example.com" in browser.get(path).text
    assert browser.post(path, data={"password": "short", "csrf_token": csrf(browser)}).status_code == 422
    done = browser.post(path, data={"password": "bo's new password", "csrf_token": csrf(browser)})
    assert done.headers["location"] == "/login?done=reset"
    assert browser.get(path).status_code == 404  # used up
    assert login(browser, "bo@example.com", "bo's new password") == 303
    assert "No account" in fails(cli, "users", "reset-password", "nobody@example.com")


def test_tokens_from_the_command_line(cli: CliRunner, runtime: Runtime) -> None:
    ok(cli, "users", "add", "ada@example.com", "--role", "auditor", "--no-password")
    secret = ok(cli, "tokens", "create", "ada@example.com", "--name", "sheet", "--days", "10").strip()
    api = TestClient(create_app(runtime), headers={"Authorization": f"Bearer {secret}"})
    assert api.get("/api/v1/audit").status_code == 200

    (listed,) = json.loads(ok(cli, "tokens", "list", "--format", "json"))
    assert (listed["name"], listed["owner"], listed["scope"]) == ("sheet", "ada@example.com", "read")
    assert secret not in json.dumps(listed)
    ok(cli, "tokens", "revoke", str(listed["id"]))
    assert api.get("/api/v1/audit").status_code == 401
    assert "No token" in fails(cli, "tokens", "revoke", "999")


def test_audit_command_filters_and_formats(cli: CliRunner) -> None:
    ok(cli, "users", "add", "ada@example.com", "--role", "admin", "--no-password")
    ok(cli, "users", "add", "bo@example.com", "--no-password")
    ok(cli, "users", "set-role", "bo@example.com", "auditor")

    entries = json.loads(ok(cli, "audit", "--format", "json"))
    assert [e["action"] for e in entries][:1] == ["user.role_changed"]
    assert entries[0]["before"] == {"role": "member"}
    assert entries[0]["after"] == {"role": "auditor"}
    assert entries[0]["actor_email"].startswith("cli:")
    only_added = json.loads(ok(cli, "audit", "--action", "user.added", "--format", "json"))
    assert {e["action"] for e in only_added} == {"user.added"}
    assert len(json.loads(ok(cli, "audit", "--action", "user.", "--format", "json"))) == 5
    assert json.loads(ok(cli, "audit", "--since", "2999-01-01", "--format", "json")) == []
    table = ok(cli, "audit")
    assert "user.role_changed" in table
    rows = list(csv.DictReader(io.StringIO(ok(cli, "audit", "--format", "csv"))))
    assert rows[0]["action"] == "user.role_changed"

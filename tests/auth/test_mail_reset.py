"""Password reset by mail, when an SMTP server is configured."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from aispend.auth import mail
from aispend.auth.resets import MAILED_RESETS_PER_HOUR
from aispend.runtime import Runtime
from aispend.settings import Settings
from aispend.web.app import create_app
from tests.auth.helpers import csrf, login, page_csrf
from tests.conftest import make_user


class FakeSmtp:
    """Stands in for ``smtplib.SMTP``; keeps what would have been sent."""

    sent: list[EmailMessage] = []  # noqa: RUF012  (shared on purpose: one fake server per test)
    logins: list[tuple[str, str]] = []  # noqa: RUF012

    def __init__(self, host: str, port: int, timeout: float) -> None:
        assert (host, port) == ("mail.example.com", 2525)

    def __enter__(self) -> FakeSmtp:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def starttls(self, context: Any) -> None:
        return None

    def login(self, user: str, password: str) -> None:
        self.logins.append((user, password))

    def send_message(self, message: EmailMessage) -> None:
        self.sent.append(message)


@pytest.fixture
def mailing(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    FakeSmtp.sent, FakeSmtp.logins = [], []
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSmtp)
    runtime = Runtime(
        Settings(
            **{
                **settings.model_dump(),
                "smtp_host": "mail.example.com",
                "smtp_port": 2525,
                "smtp_username": "aispend",
                "smtp_password": "smtp-password-9",
                "public_url": "https://spend.example.com",
            }
        )
    )
    yield runtime
    runtime.close()


def request_reset(runtime: Runtime, email: str) -> str:
    browser = TestClient(create_app(runtime), follow_redirects=False)
    token = page_csrf(browser.get("/password-reset").text)
    response = browser.post("/password-reset", data={"email": email, "csrf_token": token})
    assert response.status_code == 200
    return re.sub(r'(value|content)="[^"]+"', "", response.text)  # each browser has its own CSRF token


def test_a_reset_link_is_mailed_and_works_once(mailing: Runtime) -> None:
    make_user(mailing, "auditor", email="bo@example.com")
    known = request_reset(mailing, "bo@example.com")
    unknown = request_reset(mailing, "nobody@example.com")
    assert known == unknown  # the form does not reveal who has an account

    (message,) = FakeSmtp.sent
    assert message["To"] == "bo@example.com"
    assert FakeSmtp.logins == [("aispend", "smtp-password-9")]
    link = re.search(r"https://spend\.example\.com/password-reset/\S+", message.get_content()).group(0)  # type: ignore[union-attr]
    browser = TestClient(create_app(mailing), follow_redirects=False)
    path = urlsplit(link).path
    browser.get(path)
    assert (
        browser.post(path, data={"password": "mailed new password", "csrf_token": csrf(browser)}).status_code
        == 303
    )
    assert login(browser, "bo@example.com", "mailed new password") == 303


def test_the_form_mails_an_account_at_most_three_links_an_hour(mailing: Runtime) -> None:
    make_user(mailing, "auditor", email="flood@example.com")
    answers = {request_reset(mailing, "flood@example.com") for _ in range(MAILED_RESETS_PER_HOUR + 2)}
    assert len(answers) == 1  # the same answer every time: the cap reveals nothing either
    assert [m["To"] for m in FakeSmtp.sent] == ["flood@example.com"] * MAILED_RESETS_PER_HOUR


def test_without_smtp_the_page_says_whom_to_ask(client: TestClient) -> None:
    page = client.get("/password-reset").text
    assert "aispend users reset-password EMAIL" in page
    assert 'name="email"' not in page

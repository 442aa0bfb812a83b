"""Sending mail (password reset links) through the configured SMTP server, if any."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from aispend.settings import Settings

__all__ = ["mail_configured", "send_mail"]


def mail_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def send_mail(settings: Settings, *, to: str, subject: str, body: str) -> None:
    """Send one plain-text message; raises ``smtplib.SMTPException`` or ``OSError`` on failure."""
    assert settings.smtp_host, "mail_configured() first"
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.http_timeout_seconds) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)

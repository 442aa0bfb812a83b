"""The one redactor: every log record and every error shown to a person passes through it."""

from __future__ import annotations

import logging
import re

__all__ = ["RedactingFilter", "install_log_redaction", "redact"]

# Provider keys: Anthropic (sk-ant-...), OpenAI (sk-..., sk-proj-..., sk-admin-...), bearer tokens.
_KEYLIKE = re.compile(r"sk-[A-Za-z0-9][A-Za-z0-9_\-]{11,}+(?!…)")  # possessive: idempotent
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/\-]{12,}=*")
_HEADER = re.compile(r"(?i)(x-api-key['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}]+")


def _mask(match: re.Match[str]) -> str:
    key = match.group(0)
    prefix = re.match(r"sk-(?:ant-)?[a-z]+\d*-", key)
    return f"{prefix.group(0) if prefix else 'sk-'}…[redacted]"


def redact(text: str) -> str:
    """Mask anything that looks like a credential, keeping only its kind prefix."""
    text = _KEYLIKE.sub(_mask, text)
    text = _BEARER.sub(r"\1[redacted]", text)
    return _HEADER.sub(r"\1[redacted]", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when set, so the traceback is rendered once, redacted.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_log_redaction() -> None:
    """Attach the redactor to every handler of the root logger."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())

"""The one redactor masks credentials in text and in log records, keeping only their kind."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from aispend.redact import RedactingFilter, install_log_redaction, redact

ADMIN = "sk-ant-admin01-Q9vT3xLmN8pR2sK7wY4bH6jD1fG5cZ0aE_uI-oP3qW8eR7tY6uAA"
API = "sk-ant-api03-R2D2abcdefghijklmnopqrstuvwxyz0123456789-igAA"
OPENAI_PROJECT = "sk-proj-abcDEF123456ghiJKL789012mnoPQR345678"
OPENAI_ADMIN = "sk-admin-ZYXwvu987654tsrQPO321098nml"
OPENAI_LEGACY = "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD"
OPAQUE = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5"

logger = logging.getLogger("aispend.tests.redact")


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        (ADMIN, "sk-ant-admin01-"),
        (API, "sk-ant-api03-"),
        (OPENAI_PROJECT, "sk-proj-"),
        (OPENAI_ADMIN, "sk-admin-"),
        (OPENAI_LEGACY, "sk-"),
    ],
)
def test_provider_keys_are_masked_keeping_their_kind(key: str, kind: str) -> None:
    cleaned = redact(f"request failed for key {key}, try again")

    assert key not in cleaned
    assert key[len(kind) : len(kind) + 8] not in cleaned
    assert cleaned == f"request failed for key {kind}…[redacted], try again"


def test_every_key_in_a_text_is_masked() -> None:
    cleaned = redact(f"{ADMIN} and {API} and {OPENAI_PROJECT}")

    assert cleaned == "sk-ant-admin01-…[redacted] and sk-ant-api03-…[redacted] and sk-proj-…[redacted]"


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {OPAQUE}",
        f"authorization: bearer {OPAQUE}",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ],
)
def test_bearer_tokens_are_masked(text: str) -> None:
    cleaned = redact(text)

    assert cleaned.lower().endswith("bearer [redacted]")
    assert OPAQUE not in cleaned
    assert "dozjgNryP4J3" not in cleaned


# Regression: the bearer pattern used to stop at '+', '/', '~' and '=' (RFC 6750 allows them).
def test_bearer_tokens_with_base64_characters_are_masked_whole() -> None:
    cleaned = redact("Authorization: Bearer abcDEF123456+ghi/JKL789~xyz==")

    assert cleaned == "Authorization: Bearer [redacted]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"x-api-key: {OPAQUE}", "x-api-key: [redacted]"),
        (f"X-Api-Key={OPAQUE}", "X-Api-Key=[redacted]"),
        (f"{{'x-api-key': '{OPAQUE}', 'accept': 'json'}}", "{'x-api-key': '[redacted]', 'accept': 'json'}"),
        (f'{{"x-api-key": "{OPAQUE}"}}', '{"x-api-key": "[redacted]"}'),
        (f"x-api-key: {ADMIN}", "x-api-key: [redacted]"),
    ],
)
def test_x_api_key_header_values_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Anthropic answered /v1/organizations/cost_report with 500 api_error.",
        "apikey_01Rj2N8SVvo6BePZj99NhmiT used 1500 tokens",
        "sk-short",
        "",
    ],
)
def test_text_without_credentials_is_unchanged(text: str) -> None:
    assert redact(text) == text


@pytest.fixture
def redacting(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    log_filter = RedactingFilter()
    caplog.handler.addFilter(log_filter)
    caplog.set_level(logging.INFO, logger=logger.name)
    try:
        yield caplog
    finally:
        caplog.handler.removeFilter(log_filter)


def test_filter_rewrites_log_records_with_arguments(redacting: pytest.LogCaptureFixture) -> None:
    logger.warning("calling %s with key %s (attempt %d)", "/v1/organizations/me", ADMIN, 2)

    (record,) = redacting.records
    assert (
        record.getMessage() == "calling /v1/organizations/me with key sk-ant-admin01-…[redacted] (attempt 2)"
    )
    assert ADMIN not in redacting.text
    assert record.args is None


def test_filter_rewrites_messages_without_arguments(redacting: pytest.LogCaptureFixture) -> None:
    logger.info(f"headers {{'x-api-key': '{OPAQUE}'}}")

    assert OPAQUE not in redacting.text
    assert "[redacted]" in redacting.text


def test_filter_leaves_clean_records_alone(redacting: pytest.LogCaptureFixture) -> None:
    args = ("cost", 31)
    logger.info("synced %s for %d days", *args)

    (record,) = redacting.records
    assert record.msg == "synced %s for %d days"
    assert record.args == args


# Regression: the filter used to leave a logged traceback (exc_text) unredacted.
def test_filter_redacts_logged_exceptions(redacting: pytest.LogCaptureFixture) -> None:
    try:
        raise RuntimeError(f"upstream refused {ADMIN}")
    except RuntimeError:
        logger.exception("sync failed")

    assert "RuntimeError" in redacting.text
    assert ADMIN not in redacting.text


def test_install_log_redaction_adds_one_filter_per_handler() -> None:
    root = logging.getLogger()
    handler = logging.NullHandler()
    root.addHandler(handler)
    try:
        install_log_redaction()
        install_log_redaction()
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)


def test_redaction_is_idempotent() -> None:
    # Several handlers may each carry the filter; a second pass must not mangle the first.
    once = redact(f"key {ADMIN} and Bearer {'t' * 30} x-api-key: {'v' * 20}")
    assert redact(once) == once


# Legacy OpenAI keys are random base62 after "sk-": the first character may be upper case.
def test_keys_whose_secret_starts_upper_case_are_masked() -> None:
    key = "sk-" + "Q" + "abcdefghijklmnopqrstuvwxyz0123456789"

    assert redact(f"key {key} failed") == "key sk-…[redacted] failed"

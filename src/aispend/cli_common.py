"""What every CLI module shares: the consoles, failing with a message, opening the runtime."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from aispend import audit
from aispend.runtime import Runtime
from aispend.settings import Settings

__all__ = ["ReportFormat", "err", "fail", "open_runtime", "out", "today"]

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` as an error and return the exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def open_runtime(settings: Settings | None = None) -> Runtime:
    """The runtime with its database migrated; what the command changes is audited as ``cli:<os user>``."""
    try:
        runtime = Runtime(settings)
        runtime.configure_logging()
        _ = runtime.db  # migrations run on every command
        audit.set_actor(audit.cli_actor())
    except ValidationError as error:
        raise fail(f"invalid setting: {error}") from None
    except SQLAlchemyError as error:
        try:
            url = make_url(runtime.settings.resolved_database_url).render_as_string(hide_password=True)
        except SQLAlchemyError:
            url = "(unparseable URL)"
        raise fail(
            f"cannot open the database {url}: {type(error).__name__}: {str(error).splitlines()[0]}. "
            "Check AISPEND_DATABASE_URL and that the database server is running."
        ) from None
    return runtime


def today() -> date:
    return datetime.now(UTC).date()

"""``aispend limits`` (Claude Enterprise spend limits) and ``aispend credit-rate`` (Codex credits).

Every change these commands make is audited as ``cli:<os user>``. Amounts are US dollars;
``--amount 750`` is a $750.00 monthly limit.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from aispend.cli_common import ReportFormat as Format
from aispend.cli_common import err, out
from aispend.cli_common import fail as _fail
from aispend.cli_common import open_runtime as _runtime
from aispend.connections import ConnectError, connect_provider, get_connection
from aispend.credit_rates import clear_credit_rate, credit_rates, set_credit_rate
from aispend.limits import (
    LimitsError,
    approve_request,
    clear_limit,
    connect_claude_enterprise,
    deny_request,
    list_limits,
    list_requests,
    set_limit,
)
from aispend.providers.claude_enterprise.spendlimits import EffectiveLimit, IncreaseRequest
from aispend.reports.format import format_usd
from aispend.runtime import Runtime

if TYPE_CHECKING:
    from aispend.providers.simserver import RunningSimulator

__all__ = [
    "EnterpriseDemo",
    "connect_enterprise_demo",
    "credit_rate_app",
    "limits_app",
    "serve_enterprise_demo",
]

limits_app = typer.Typer(
    help="Claude Enterprise spend limits: every member's limit, changes, increase requests.",
    no_args_is_help=True,
)
credit_rate_app = typer.Typer(
    help="Contract rates (USD per credit) that price ChatGPT Enterprise Codex credits.", no_args_is_help=True
)

ConnectionOption = Annotated[
    str, typer.Option("--connection", help="The Claude Enterprise connection's name.")
]
RequestArgument = Annotated[
    str, typer.Argument(help="The request's id (slir_…), from `aispend limits requests`.")
]
NotifyOption = Annotated[bool, typer.Option("--notify/--no-notify", help="Tell the member by e-mail.")]


class Status(StrEnum):
    pending = "pending"
    approved = "approved"
    denied = "denied"


def _dollars(raw: str, what: str) -> Decimal:
    try:
        amount = Decimal(raw.replace(",", "").removeprefix("$"))
    except InvalidOperation:
        raise _fail(f"{what} must be an amount in US dollars such as 750 or 1250.50, not {raw!r}.") from None
    if not amount.is_finite() or amount < 0:
        raise _fail(f"{what} must be a positive amount in US dollars, not {raw!r}.")
    return amount


def _limit_text(amount: Decimal | None) -> str:
    if amount is None:
        return "unlimited"
    return "included usage only" if amount == 0 else format_usd(amount)


def _emit(format: Format, title: str, header: Sequence[str], rows: list[dict[str, Any]]) -> None:
    if format is Format.json:
        out.print_json(json.dumps(rows))
        return
    if format is Format.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(header), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
        return
    table = Table(*header, title=title)
    for row in rows:
        table.add_row(*(str(row[name]) if row[name] is not None else "-" for name in header))
    out.print(table)


def _limit_row(limit: EffectiveLimit, format: Format) -> dict[str, Any]:
    table = format is Format.table
    source = f"{limit.source} {limit.source_detail}".strip()
    return {
        "email": limit.email.lower(),
        "name": limit.name,
        "limit": _limit_text(limit.amount_usd) if table else _plain(limit.amount_usd),
        "source": source,
        "period": limit.period,
        "spent": format_usd(limit.period_to_date_usd) if table else str(limit.period_to_date_usd),
    }


def _plain(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:f}"


@limits_app.command("list")
def limits_list(
    connection: ConnectionOption, format: Annotated[Format, typer.Option()] = Format.table
) -> None:
    """Every member's limit in force, where it comes from, and their spend this period."""
    try:
        rows = list_limits(_runtime(), connection)
    except LimitsError as error:
        raise _fail(str(error)) from None
    header = ("email", "name", "limit", "source", "period", "spent")
    _emit(format, f"Spend limits of {connection}", header, [_limit_row(row, format) for row in rows])


@limits_app.command("set")
def limits_set(
    connection: ConnectionOption,
    user: Annotated[str, typer.Option("--user", help="The member's e-mail.")],
    amount: Annotated[str | None, typer.Option(help="Monthly limit in US dollars.")] = None,
    unlimited: Annotated[bool, typer.Option("--unlimited", help="No limit for this member.")] = False,
) -> None:
    """Set a member's own monthly limit (or --unlimited). Needs write:spend_limits; audited."""
    if (amount is None) == (not unlimited):
        raise _fail("give exactly one of --amount USD or --unlimited.")
    value = None if unlimited else _dollars(amount or "", "--amount")
    try:
        result = set_limit(_runtime(), connection, user, value)
    except LimitsError as error:
        raise _fail(str(error)) from None
    out.print(
        f"{user}: monthly limit {_limit_text(result.amount_usd)} (spend limit {result.id}).", highlight=False
    )


@limits_app.command("clear")
def limits_clear(
    connection: ConnectionOption,
    user: Annotated[str, typer.Option("--user", help="The member's e-mail.")],
) -> None:
    """Remove a member's own limit: they fall back to their group, seat tier or organisation limit."""
    try:
        now = clear_limit(_runtime(), connection, user)
    except LimitsError as error:
        raise _fail(str(error)) from None
    source = f"{now.source} {now.source_detail}".strip()
    out.print(f"{user}: own limit removed; now {_limit_text(now.amount_usd)} from {source}.", highlight=False)


def _request_row(request: IncreaseRequest, format: Format) -> dict[str, Any]:
    current = request.current
    table = format is Format.table
    return {
        "id": request.id,
        "email": request.email.lower(),
        "status": request.status,
        "created": request.created_at.strftime("%Y-%m-%d %H:%M UTC") if request.created_at else None,
        "limit": (_limit_text(current.amount_usd) if table else _plain(current.amount_usd))
        if current
        else None,
        "spent": (format_usd(current.period_to_date_usd) if table else str(current.period_to_date_usd))
        if current
        else None,
    }


@limits_app.command("requests")
def limits_requests(
    connection: ConnectionOption,
    status: Annotated[list[Status] | None, typer.Option(help="Only these statuses (repeatable).")] = None,
    format: Annotated[Format, typer.Option()] = Format.table,
) -> None:
    """Limit-increase requests, newest first, with the member's current limit while pending."""
    try:
        rows = list_requests(_runtime(), connection, tuple(s.value for s in status or ()))
    except LimitsError as error:
        raise _fail(str(error)) from None
    header = ("id", "email", "status", "created", "limit", "spent")
    _emit(format, f"Limit-increase requests of {connection}", header, [_request_row(r, format) for r in rows])


@limits_app.command("approve")
def limits_approve(
    request_id: RequestArgument,
    connection: ConnectionOption,
    amount: Annotated[str, typer.Option(help="The member's new monthly limit in US dollars.")],
    notify: NotifyOption = True,
) -> None:
    """Approve a limit-increase request with the member's new monthly limit. Audited."""
    value = _dollars(amount, "--amount")
    try:
        result = approve_request(_runtime(), connection, request_id, value, notify=notify)
    except LimitsError as error:
        raise _fail(str(error)) from None
    out.print(
        f"Approved {result.id}: {result.email} may now spend {format_usd(value)} a month.", highlight=False
    )


@limits_app.command("deny")
def limits_deny(
    request_id: RequestArgument, connection: ConnectionOption, notify: NotifyOption = True
) -> None:
    """Deny a limit-increase request. Audited."""
    try:
        result = deny_request(_runtime(), connection, request_id, notify=notify)
    except LimitsError as error:
        raise _fail(str(error)) from None
    out.print(f"Denied {result.id} ({result.email}).", highlight=False)


# ---------------------------------------------------------------------------------- credit rates

CreditConnection = Annotated[
    str, typer.Option("--connection", help="The ChatGPT Enterprise connection's name.")
]
FromOption = Annotated[
    datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First UTC day the rate applies to.")
]


@credit_rate_app.command("set")
def credit_rate_set(
    connection: CreditConnection,
    usd_per_credit: Annotated[str, typer.Option(help="Contract price of one credit in US dollars.")],
    effective_from: FromOption,
) -> None:
    """Price a connection's credits from a day on (until its next rate). Audited."""
    rate = _dollars(usd_per_credit, "--usd-per-credit")
    runtime = _runtime()
    with runtime.db.session() as session:
        try:
            stored = get_connection(session, runtime.org_id, connection)
            set_credit_rate(session, stored, effective_from.date(), rate)
        except (ConnectError, ValueError) as error:
            raise _fail(str(error)) from None
    out.print(f"{connection}: credits cost ${rate:f} each from {effective_from.date()} on.", highlight=False)


@credit_rate_app.command("list")
def credit_rate_list(
    connection: CreditConnection, format: Annotated[Format, typer.Option()] = Format.table
) -> None:
    """A connection's credit rates, oldest first; credits before the first one are unpriced."""
    runtime = _runtime()
    with runtime.db.session() as session:
        try:
            stored = get_connection(session, runtime.org_id, connection)
        except ConnectError as error:
            raise _fail(str(error)) from None
        rates = credit_rates(session, runtime.org_id, stored.id)
    rows = [{"from": r.effective_from.isoformat(), "usd_per_credit": f"{r.usd_per_credit:f}"} for r in rates]
    if not rows and format is Format.table:
        out.print(f"{connection} has no credit rate: its credits are shown unpriced.")
        return
    _emit(format, f"Credit rates of {connection}", ("from", "usd_per_credit"), rows)


@credit_rate_app.command("clear")
def credit_rate_clear(connection: CreditConnection, effective_from: FromOption) -> None:
    """Remove the rate that starts on a day. Audited."""
    runtime = _runtime()
    with runtime.db.session() as session:
        try:
            stored = get_connection(session, runtime.org_id, connection)
            removed = clear_credit_rate(session, stored, effective_from.date())
        except (ConnectError, ValueError) as error:
            raise _fail(str(error)) from None
    if not removed:
        raise _fail(f"{connection} has no rate starting on {effective_from.date()}.")
    out.print(f"{connection}: the rate from {effective_from.date()} is removed.", highlight=False)


# ---------------------------------------------------------------------------------- demo


@dataclass
class EnterpriseDemo:
    """Both Enterprise simulators, served for ``aispend demo``, and their keys."""

    claude: RunningSimulator
    claude_key: str
    chatgpt: RunningSimulator
    chatgpt_key: str
    workspace_id: str

    def stop(self) -> None:
        self.claude.stop()
        self.chatgpt.stop()


def serve_enterprise_demo(days: int) -> EnterpriseDemo:
    """Serve a simulated Claude Enterprise organisation and ChatGPT Enterprise workspace, unpaced."""
    from aispend.providers.chatgpt_enterprise.simdata import CodexSettings
    from aispend.providers.chatgpt_enterprise.simulator import ChatGPTEnterpriseSimulator
    from aispend.providers.claude_enterprise.simdata import EnterpriseSettings
    from aispend.providers.claude_enterprise.simulator import ClaudeEnterpriseSimulator, serve

    claude = ClaudeEnterpriseSimulator(EnterpriseSettings(history_days=days + 5, rate_limit=(0, 60.0)))
    # The documented row shape: the other shapes carry fields the connector warns about.
    codex = CodexSettings(history_days=days + 5, rate_limit=(0, 60.0), shape="documented")
    chatgpt = ChatGPTEnterpriseSimulator(codex)
    return EnterpriseDemo(
        serve(claude),
        claude.settings.full_key,
        serve(chatgpt),
        chatgpt.settings.key,
        chatgpt.settings.workspace_id,
    )


def connect_enterprise_demo(runtime: Runtime, demo: EnterpriseDemo) -> list[str]:
    """Connect both simulators (unpaced); returns the connections' names."""
    claude, _ = connect_claude_enterprise(
        runtime,
        name="claude-enterprise-demo",
        key=demo.claude_key,
        base_url=demo.claude.base_url,
        min_request_interval=0,
    )
    chatgpt = connect_provider(
        runtime,
        provider="chatgpt_enterprise",
        name="chatgpt-enterprise-demo",
        key=demo.chatgpt_key,
        base_url=demo.chatgpt.base_url,
        min_request_interval=0,
        extra_options={"workspace_id": demo.workspace_id},
    )
    with runtime.db.session() as session:
        # A demo contract: 4 cents a credit, for every simulated day.
        stored = get_connection(session, runtime.org_id, chatgpt.name)
        start = datetime.now(UTC).date() - timedelta(days=400)
        set_credit_rate(session, stored, start, Decimal("0.04"))
    err.print(
        f"Simulated Claude Enterprise on {demo.claude.base_url}, "
        f"ChatGPT Enterprise on {demo.chatgpt.base_url}.",
        highlight=False,
    )
    return [claude.name, chatgpt.name]

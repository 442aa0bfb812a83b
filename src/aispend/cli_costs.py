"""``aispend rates``, ``credits``, ``rerate``, ``report reconcile`` and ``report savings``.

Rate cards and credits are the organisation's contract terms; every change is audited as
``cli:<os user>``. Money is US dollars; dates are UTC days, inclusive.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from aispend.cli_common import ReportFormat as Format
from aispend.cli_common import err, out
from aispend.cli_common import fail as _fail
from aispend.cli_common import open_runtime as _runtime
from aispend.cli_common import today as _today
from aispend.connections import ConnectError, get_connection
from aispend.pricing.credits import CREDIT_KINDS, add_credit, burn_down
from aispend.pricing.priced import add_rates
from aispend.pricing.rates import facts_priced_by, rate_cards
from aispend.pricing.reconcile import DEFAULT_THRESHOLD_PCT, reconcile
from aispend.pricing.rerate import RerateDiff, apply_rerate, rerate_diff
from aispend.pricing.savings import savings
from aispend.providers.registry import PROVIDERS
from aispend.reports.format import format_usd
from aispend.reports.queries import report_period

__all__ = ["credits_app", "rates_app", "reconcile_command", "rerate_command", "savings_command"]

rates_app = typer.Typer(
    help="Rate cards: negotiated discounts, rates and commitments, effective-dated and versioned.",
    no_args_is_help=True,
)
credits_app = typer.Typer(
    help="Prepaid and promotional credits and their remaining balance.", no_args_is_help=True
)


class Level(StrEnum):
    day = "day"
    month = "month"
    both = "both"


DayOption = Annotated[datetime, typer.Option(formats=["%Y-%m-%d"])]
FormatOption = Annotated[Format, typer.Option("--format", help="Output format.")]


def _money(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _fail(f"{what} must be a number, not {text!r}") from None
    if not value.is_finite():
        raise _fail(f"{what} must be a finite number")
    return value


def _rates(values: list[str]) -> dict[str, Decimal]:
    rates = {}
    for item in values:
        kind, sep, price = item.partition("=")
        if not sep:
            raise _fail(f"--rate takes KIND=USD_PER_MILLION_TOKENS, e.g. input=2.5; got {item!r}")
        rates[kind.strip()] = _money(price.strip(), f"the rate of {kind.strip()}")
    return rates


def _provider(provider: str | None) -> str | None:
    if provider is not None and provider not in PROVIDERS:
        raise _fail(f"unknown provider {provider!r}; choose one of {', '.join(PROVIDERS)}")
    return provider


def _emit(format: Format, title: str, header: list[str], rows: list[dict[str, Any]]) -> None:
    if format is Format.json:
        out.print_json(json.dumps(rows))
        return
    if format is Format.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _cell(row.get(k)) for k in header} for row in rows)
        sys.stdout.write(buffer.getvalue())
        return
    table = Table(*header, title=title)
    for row in rows:
        table.add_row(*(_cell(row.get(k)) for k in header))
    out.print(table)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_cell(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


@rates_app.command("add")
def rates_add(
    name: Annotated[str, typer.Option(help="The card's name; an existing card gets a new version.")],
    effective_from: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First UTC day.")],
    provider: Annotated[
        str | None, typer.Option(help="Only this provider (a new card; default: all).")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help="Only models matching this pattern, e.g. 'claude-opus-*' (default: all)."),
    ] = None,
    discount: Annotated[str, typer.Option(help="Percent off list price, e.g. 20.")] = "0",
    rate: Annotated[
        list[str] | None,
        typer.Option(
            help="An explicit rate, KIND=USD per million tokens (input, output, cache_read, ...).",
            show_default=False,
        ),
    ] = None,
    commitment: Annotated[str | None, typer.Option(help="Committed spend per month, USD.")] = None,
    note: Annotated[str, typer.Option(help="Where the terms come from (contract, order form).")] = "",
) -> None:
    """Add a rate card, or a new version of one. Open days are priced again at once."""
    runtime = _runtime()
    today = _today()
    try:
        with runtime.db.session() as session:
            version, repriced = add_rates(
                session,
                runtime.org_id,
                today=today,
                name=name,
                effective_from=effective_from.date(),
                provider=_provider(provider),
                model_pattern=model,
                discount_pct=_money(discount, "--discount"),
                rates=_rates(rate or []),
                commitment_usd=None if commitment is None else _money(commitment, "--commitment"),
                note=note,
            )
    except ValueError as error:
        raise _fail(f"{error}.") from None
    out.print(
        f"Rate card [bold]{name}[/] v{version.version} from {version.effective_from}: "
        f"{repriced:,} usage facts priced from {version.auto_from}.",
        highlight=False,
    )
    if version.effective_from < version.auto_from:
        err.print(
            f"Days {version.effective_from} to {_day_before(version.auto_from)} "
            "are in a closed period and keep their prices. See what re-rating them changes with "
            f"`aispend rerate --since {version.effective_from} --until {_day_before(version.auto_from)}`, "
            "then add --apply.",
            highlight=False,
        )


def _day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)


@rates_app.command("list")
def rates_list(format: FormatOption = Format.table) -> None:
    """Every rate card with its current terms."""
    runtime = _runtime()
    with runtime.db.session() as session:
        cards = rate_cards(session, runtime.org_id)
    rows = []
    for name, versions in cards.items():
        latest = versions[-1]
        rows.append(
            {
                "name": name,
                "provider": latest.provider or "all",
                "models": latest.model_pattern,
                "versions": len(versions),
                **latest.as_json(),
            }
        )
    header = [
        "name",
        "provider",
        "models",
        "versions",
        "effective_from",
        "discount_pct",
        "rates",
        "commitment_usd",
    ]
    if not rows and format is Format.table:
        out.print("No rate cards: effective cost is the reported cost. Add one with `aispend rates add`.")
        return
    _emit(format, "Rate cards (latest version)", header, rows)


@rates_app.command("show")
def rates_show(
    name: Annotated[str, typer.Argument(help="The card's name.")], format: FormatOption = Format.table
) -> None:
    """A rate card's every version, oldest first, and how many usage facts each prices."""
    runtime = _runtime()
    with runtime.db.session() as session:
        versions = rate_cards(session, runtime.org_id).get(name)
        counts = facts_priced_by(session, runtime.org_id)
    if not versions:
        raise _fail(f"no rate card named {name!r}; `aispend rates list` shows them")
    rows = [{**version.as_json(), "facts_priced": counts.get(version.id, 0)} for version in versions]
    if format is Format.json:
        scope = {"name": name, "provider": versions[0].provider or None, "models": versions[0].model_pattern}
        out.print_json(json.dumps({**scope, "versions": rows}))
        return
    header = [
        "version",
        "effective_from",
        "auto_from",
        "discount_pct",
        "rates",
        "commitment_usd",
        "facts_priced",
        "created_at",
        "created_by",
        "note",
    ]
    scope_text = f"provider {versions[0].provider or 'all'}, models {versions[0].model_pattern}"
    _emit(format, f"Rate card {name} ({scope_text})", header, rows)


@credits_app.command("add")
def credits_add(
    name: Annotated[str, typer.Option(help="A name for the credit, e.g. 'openai-prepay-2026'.")],
    amount: Annotated[str, typer.Option(help="Amount in US dollars.")],
    valid_from: Annotated[
        datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First UTC day it pays for.")
    ],
    valid_until: Annotated[
        datetime, typer.Option("--until", formats=["%Y-%m-%d"], help="Last UTC day it pays for.")
    ],
    provider: Annotated[str | None, typer.Option(help="Only this provider's spend (default: any).")] = None,
    kind: Annotated[str, typer.Option(help=f"{' or '.join(CREDIT_KINDS)}.")] = "prepaid",
) -> None:
    """Add a prepaid or promotional credit."""
    runtime = _runtime()
    try:
        with runtime.db.session() as session:
            add_credit(
                session,
                runtime.org_id,
                name=name,
                amount_usd=_money(amount, "--amount"),
                valid_from=valid_from.date(),
                valid_until=valid_until.date(),
                provider=_provider(provider) or "",
                kind=kind,
            )
    except ValueError as error:
        raise _fail(f"{error}.") from None
    out.print(
        f"Credit [bold]{name}[/]: {format_usd(_money(amount, '--amount'))} for {provider or 'any provider'}, "
        f"{valid_from.date()} to {valid_until.date()}.",
        highlight=False,
    )


@credits_app.command("list")
def credits_list(
    as_of: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Balances at the end of this UTC day (default: today)."),
    ] = None,
    format: FormatOption = Format.table,
) -> None:
    """Credits with what they have paid for, what remains and what expired."""
    runtime = _runtime()
    day = as_of.date() if as_of else _today()
    with runtime.db.session() as session:
        rows = [balance.as_json(day) for balance in burn_down(session, runtime.org_id, day).balances]
    if not rows and format is Format.table:
        out.print("No credits. Add one with `aispend credits add`.")
        return
    header = [
        "name",
        "provider",
        "kind",
        "amount_usd",
        "valid_from",
        "valid_until",
        "burned_usd",
        "remaining_usd",
        "expired_usd",
        "status",
    ]
    _emit(format, f"Credits as of {day}", header, rows)


def _print_diff(diff: RerateDiff, format: Format) -> None:
    if format is Format.json:
        out.print_json(json.dumps(diff.as_json()))
        return
    header = [
        "connection",
        "model",
        "old_version",
        "new_version",
        "facts",
        "first_day",
        "last_day",
        "list_usd",
    ]
    header += ["old_effective_usd", "new_effective_usd"]
    rows = [change.as_json() for change in diff.changes]
    if format is Format.csv:
        _emit(format, "", header, rows)
        return
    verb = "Re-rated" if diff.applied else "Re-rating would change"
    if rows:
        _emit(format, f"{verb} {diff.since} to {diff.until} (UTC, inclusive)", header, rows)
    before, after = format_usd(diff.effective_before_usd), format_usd(diff.effective_after_usd)
    sign = "+" if diff.delta_usd >= 0 else ""
    out.print(
        f"{verb} {diff.facts_changed:,} usage facts: effective cost {before} -> {after} "
        f"({sign}{format_usd(diff.delta_usd)}).",
        highlight=False,
    )
    if not diff.applied and diff.facts_changed:
        err.print("Nothing was changed. Run again with --apply to apply it.")


def rerate_command(
    since: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="First UTC day to re-rate.")],
    until: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="Last UTC day to re-rate.")],
    apply: Annotated[bool, typer.Option("--apply", help="Apply it (default: only show the diff).")] = False,
    format: FormatOption = Format.table,
) -> None:
    """Price a period again with every rate card version: a dry-run diff, or --apply it (audited)."""
    runtime = _runtime()
    try:
        with runtime.db.session() as session:
            act = apply_rerate if apply else rerate_diff
            diff = act(session, runtime.org_id, since=since.date(), until=until.date())
    except ValueError as error:
        raise _fail(f"{error}.") from None
    _print_diff(diff, format)


_RECONCILE_FIELDS = [
    "level",
    "period",
    "connection",
    "provider",
    "reported_usd",
    "provider_list_usd",
    "list_usd",
    "effective_usd",
    "credits_usd",
    "net_usd",
    "drift_usd",
    "drift_pct",
    "flagged",
    "unpriced_rows",
    "unpriced_models",
    "causes",
]


def _print_reconciliation(body: dict[str, Any], format: Format) -> None:
    if format is Format.json:
        out.print_json(json.dumps(body))
        return
    rows = [{**row, "causes": [cause["code"] for cause in row["causes"]]} for row in body["rows"]]
    if format is Format.csv:
        _emit(format, "", _RECONCILE_FIELDS, rows)
    else:
        table = Table(
            "connection",
            "period",
            "reported",
            "list",
            "effective",
            "credits",
            "net",
            "drift",
            "drift %",
            "causes",
            title=f"Reconciliation, {body['since']} to {body['until']} (UTC, inclusive); "
            f"drift over {body['threshold_pct']}% flagged",
        )
        for row in rows:
            style = "bold" if row["level"] == "month" else ""
            flag = "[bold red]! [/]" if row["flagged"] else ""
            table.add_row(
                row["connection"],
                row["period"],
                *(
                    format_usd(Decimal(row[f]))
                    for f in ("reported_usd", "list_usd", "effective_usd", "credits_usd")
                ),
                format_usd(Decimal(row["net_usd"])),
                flag + format_usd(Decimal(row["drift_usd"])),
                "" if row["drift_pct"] is None else f"{row['drift_pct']}%",
                ", ".join(row["causes"]) if row["flagged"] else "",
                style=style,
            )
        out.print(table)
        for credit in body["credits"]:
            out.print(
                f"Credit {credit['name']}: {format_usd(Decimal(credit['remaining_usd']))} left of "
                f"{format_usd(Decimal(credit['amount_usd']))} ({credit['status']}).",
                highlight=False,
            )
        for commitment in body["commitments"]:
            spent, committed, short = (
                format_usd(Decimal(commitment[f])) for f in ("spend_usd", "committed_usd", "shortfall_usd")
            )
            out.print(
                f"Commitment {commitment['card']} {commitment['month']}: spent {spent} of {committed}, "
                f"shortfall {short}.",
                highlight=False,
            )
    for warning in body["warnings"]:
        err.print(f"[bold yellow]warning:[/] {warning['message']}", highlight=False)


def reconcile_command(
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First UTC day (inclusive).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last UTC day (inclusive).")
    ] = None,
    connection: Annotated[str | None, typer.Option(help="Only this connection.")] = None,
    threshold: Annotated[str, typer.Option(help="Flag drift over this percentage.")] = str(
        DEFAULT_THRESHOLD_PCT
    ),
    by: Annotated[Level, typer.Option(help="Rows per day, per month, or both.")] = Level.both,
    format: FormatOption = Format.table,
) -> None:
    """Reported vs list vs effective cost per connection, day and month, with drift and its known causes."""
    runtime = _runtime()
    today = _today()
    try:
        first, last = report_period(since.date() if since else None, until.date() if until else None, today)
        with runtime.db.session() as session:
            connection_id = get_connection(session, runtime.org_id, connection).id if connection else None
            result = reconcile(
                session,
                runtime.org_id,
                since=first,
                until=last,
                today=today,
                connection_id=connection_id,
                threshold_pct=_money(threshold, "--threshold"),
                levels=("day", "month") if by is Level.both else (by.value,),
            )
    except (ValueError, ConnectError) as error:
        raise _fail(f"{error}.") from None
    _print_reconciliation(result.as_json(), format)


_SAVINGS_FIELDS = [
    "provider",
    "model",
    "cache_hit_ratio",
    "cache_savings_usd",
    "cache_write_premium_usd",
    "cache_net_savings_usd",
    "batch_savings_usd",
    "batch_eligible_usd",
    "batch_potential_savings_usd",
]


def savings_command(
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First UTC day (inclusive).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last UTC day (inclusive).")
    ] = None,
    connection: Annotated[str | None, typer.Option(help="Only this connection.")] = None,
    format: FormatOption = Format.table,
) -> None:
    """What prompt caching and the Batch API saved, and what moving to batch could save (list prices)."""
    runtime = _runtime()
    try:
        first, last = report_period(
            since.date() if since else None, until.date() if until else None, _today()
        )
        with runtime.db.session() as session:
            scope = [get_connection(session, runtime.org_id, connection).id] if connection else None
            body = savings(session, runtime.org_id, since=first, until=last, connection_ids=scope)
    except (ValueError, ConnectError) as error:
        raise _fail(f"{error}.") from None
    if format is Format.json:
        out.print_json(json.dumps(body))
        return
    rows = [*body["rows"], body["total"]]
    if format is Format.csv:
        _emit(format, "", _SAVINGS_FIELDS, rows)
        return
    table = Table(
        "provider",
        "model",
        "cache hit",
        "cache saved",
        "cache write premium",
        "batch saved",
        "batch-eligible",
        "batch could save",
        title=f"Savings at list prices, {body['since']} to {body['until']} (UTC, inclusive)",
    )
    for row in rows:
        ratio = row["cache_hit_ratio"]
        table.add_row(
            row["provider"],
            row["model"],
            "" if ratio is None else f"{Decimal(ratio) * 100:.1f}%",
            *(
                format_usd(Decimal(row[name]))
                for name in (
                    "cache_savings_usd",
                    "cache_write_premium_usd",
                    "batch_savings_usd",
                    "batch_eligible_usd",
                    "batch_potential_savings_usd",
                )
            ),
            style="bold" if row is body["total"] else "",
        )
    out.print(table)

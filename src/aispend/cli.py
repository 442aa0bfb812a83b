"""The ``aispend`` command line. Command names and flags are a contract: extend, never break."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from aispend.cli_access import audit_command, create_demo_admin, tokens_app, users_app
from aispend.cli_common import ReportFormat, err, out
from aispend.cli_common import fail as _fail
from aispend.cli_common import open_runtime as _runtime
from aispend.cli_common import today as _today
from aispend.cli_costs import credits_app, rates_app, reconcile_command, rerate_command, savings_command
from aispend.cli_enterprise import connect_enterprise_demo, credit_rate_app, limits_app, serve_enterprise_demo
from aispend.connections import (
    ConnectError,
    active_connection_names,
    connect_provider,
    disconnect,
    get_connection,
    list_connections,
)
from aispend.limits import connect_claude_enterprise
from aispend.providers.registry import PROVIDERS
from aispend.reports.format import format_tokens, format_usd
from aispend.reports.queries import SpendFilters, SpendReport, report_period, spend_report
from aispend.runtime import Runtime
from aispend.settings import Settings
from aispend.sync.locks import ConnectionBusyError
from aispend.sync.runner import SyncFailedError, SyncProgress, sync_connection
from aispend.vault import VaultKeyError

if TYPE_CHECKING:
    from aispend.providers.simserver import RunningSimulator

__all__ = ["app", "main"]

app = typer.Typer(
    name="aispend",
    help="Import AI provider usage and cost, and report exact spend.",
    no_args_is_help=True,
    add_completion=True,
    # Local variables in a traceback could include a key being connected: never print them.
    pretty_exceptions_show_locals=False,
)
connect_app = typer.Typer(help="Connect a provider account with a read-only admin credential.")
report_app = typer.Typer(help="Reports on imported spend.")
app.add_typer(connect_app, name="connect")
app.add_typer(report_app, name="report")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.command("audit")(audit_command)
app.add_typer(limits_app, name="limits")
app.add_typer(credit_rate_app, name="credit-rate")
app.add_typer(rates_app, name="rates")
app.add_typer(credits_app, name="credits")
app.command("rerate")(rerate_command)
report_app.command("reconcile")(reconcile_command)
report_app.command("savings")(savings_command)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class Cost(StrEnum):
    reported = "reported"
    list = "list"
    effective = "effective"


class By(StrEnum):
    provider = "provider"
    model = "model"
    workspace = "workspace"
    project = "project"
    api_key = "api-key"
    user = "user"
    product = "product"
    token_kind = "token-kind"  # noqa: S105 (a grouping's name, not a secret)
    service_tier = "service-tier"
    day = "day"
    week = "week"
    month = "month"


def _read_key(key_env: str | None, key_stdin: bool) -> str:
    if bool(key_env) == key_stdin:
        raise _fail("give exactly one of --key-env VAR or --key-stdin (keys are never taken as arguments).")
    if key_env:
        key = os.environ.get(key_env, "")
        if not key:
            raise _fail(f"environment variable {key_env} is empty or not set.")
        return key.strip()
    key = sys.stdin.readline().strip()
    if not key:
        raise _fail("no key on standard input.")
    return key


KeyEnvOption = Annotated[str | None, typer.Option(help="Read the Admin key from this environment variable.")]
KeyStdinOption = Annotated[bool, typer.Option(help="Read the Admin key from standard input.")]
BaseUrlOption = Annotated[str | None, typer.Option(help="API base URL (a proxy or simulator).")]
IntervalOption = Annotated[
    float | None,
    typer.Option(help="Seconds between requests, replacing the default pace (0 = unpaced)."),
]


def _connect_with_key(
    provider: str,
    name: str,
    key_env: str | None,
    key_stdin: bool,
    base_url: str | None,
    min_request_interval: float | None,
) -> None:
    key = _read_key(key_env, key_stdin)
    runtime = _runtime()
    try:
        connection = connect_provider(
            runtime,
            provider=provider,
            name=name,
            key=key,
            base_url=base_url,
            min_request_interval=min_request_interval,
        )
    except (ConnectError, VaultKeyError) as error:
        raise _fail(str(error)) from None
    out.print(
        f"Connected [bold]{connection.name}[/]: {connection.provider_account_name} "
        f"({connection.provider_account_id}), key {connection.key_fingerprint}."
        f"\nRun `aispend sync --connection {connection.name}` to import its usage and cost.",
        highlight=False,
    )


@connect_app.command("anthropic")
def connect_anthropic(
    name: Annotated[str, typer.Option(help="A name for this connection, e.g. 'anthropic-prod'.")],
    key_env: KeyEnvOption = None,
    key_stdin: KeyStdinOption = False,
    base_url: BaseUrlOption = None,
    min_request_interval: IntervalOption = None,
) -> None:
    """Connect an Anthropic organisation with an Admin key (sk-ant-admin…)."""
    _connect_with_key("anthropic", name, key_env, key_stdin, base_url, min_request_interval)


@connect_app.command("openai")
def connect_openai(
    name: Annotated[str, typer.Option(help="A name for this connection, e.g. 'openai-prod'.")],
    key_env: KeyEnvOption = None,
    key_stdin: KeyStdinOption = False,
    base_url: BaseUrlOption = None,
    min_request_interval: IntervalOption = None,
) -> None:
    """Connect an OpenAI organisation with an Admin key (sk-admin-…)."""
    _connect_with_key("openai", name, key_env, key_stdin, base_url, min_request_interval)


@connect_app.command("gcp")
def connect_gcp(
    name: Annotated[str, typer.Option(help="A name for this connection, e.g. 'gcp-billing'.")],
    table_id: Annotated[str, typer.Option(help="The detailed billing export table, PROJECT.DATASET.TABLE.")],
    query_project: Annotated[
        str | None,
        typer.Option(help="Project that runs (and is billed for) the queries; default: the table's project."),
    ] = None,
    bigquery_endpoint: Annotated[
        str | None, typer.Option(help="BigQuery API endpoint, e.g. an emulator (default: Google's).")
    ] = None,
    services: Annotated[
        list[str] | None,
        typer.Option(
            help="Service IDs to read, repeated or comma-separated (default: Vertex AI, Gemini API)."
        ),
    ] = None,
) -> None:
    """Connect Google Cloud (Gemini, Vertex AI) through its BigQuery detailed billing export.

    No key: the export is read with this deployment's own Google identity (Application Default
    Credentials), which needs BigQuery Data Viewer on the dataset and BigQuery Job User on the
    query project.
    """
    options: dict[str, object] = {"table_id": table_id}
    if query_project:
        options["query_project"] = query_project
    if services:
        options["service_ids"] = [
            item.strip() for entry in services for item in entry.split(",") if item.strip()
        ]
    runtime = _runtime()
    try:
        connection = connect_provider(
            runtime, provider="gcp", name=name, key=None, base_url=bigquery_endpoint, extra_options=options
        )
    except ConnectError as error:
        raise _fail(str(error)) from None
    out.print(
        f"Connected [bold]{connection.name}[/]: Google Cloud {connection.provider_account_name}."
        f"\nRun `aispend sync --connection {connection.name}` to import its Gemini and Vertex AI spend.",
        highlight=False,
    )


EnterpriseKeyEnv = Annotated[str | None, typer.Option(help="Read the key from this environment variable.")]
EnterpriseKeyStdin = Annotated[bool, typer.Option(help="Read the key from standard input.")]


@connect_app.command("claude-enterprise")
def connect_claude_enterprise_command(
    name: Annotated[str, typer.Option(help="A name for this connection, e.g. 'claude-enterprise'.")],
    key_env: EnterpriseKeyEnv = None,
    key_stdin: EnterpriseKeyStdin = False,
    base_url: BaseUrlOption = None,
    min_request_interval: IntervalOption = None,
) -> None:
    """Connect a Claude Enterprise organisation with an Analytics API key (read:analytics; add
    read:spend_limits and write:spend_limits to read and change spend limits)."""
    key = _read_key(key_env, key_stdin)
    runtime = _runtime()
    try:
        connection, capabilities = connect_claude_enterprise(
            runtime, name=name, key=key, base_url=base_url, min_request_interval=min_request_interval
        )
    except (ConnectError, VaultKeyError) as error:
        raise _fail(str(error)) from None
    note = f" Spend limits unavailable: {capabilities.note}" if capabilities.note else ""
    out.print(
        f"Connected [bold]{connection.name}[/]: Claude Enterprise organisation "
        f"{connection.provider_account_id}, key {connection.key_fingerprint}, "
        f"scopes {', '.join(capabilities.scopes)}; "
        f"it can use: {', '.join(capabilities.names)}.{note}"
        f"\nRun `aispend sync --connection {connection.name}` to import its usage and spend.",
        highlight=False,
    )


@connect_app.command("chatgpt-enterprise")
def connect_chatgpt_enterprise_command(
    name: Annotated[str, typer.Option(help="A name for this connection, e.g. 'chatgpt-enterprise'.")],
    workspace_id: Annotated[
        str, typer.Option(help="The Workspace ID (ChatGPT admin console, Workspace details).")
    ],
    key_env: EnterpriseKeyEnv = None,
    key_stdin: EnterpriseKeyStdin = False,
    base_url: BaseUrlOption = None,
    min_request_interval: IntervalOption = None,
) -> None:
    """Connect a ChatGPT Enterprise workspace's Codex analytics with a Platform API key scoped to
    codex.enterprise.analytics.read."""
    key = _read_key(key_env, key_stdin)
    runtime = _runtime()
    try:
        connection = connect_provider(
            runtime,
            provider="chatgpt_enterprise",
            name=name,
            key=key,
            base_url=base_url,
            min_request_interval=min_request_interval,
            extra_options={"workspace_id": workspace_id.strip()},
        )
    except (ConnectError, VaultKeyError) as error:
        raise _fail(str(error)) from None
    out.print(
        f"Connected [bold]{connection.name}[/]: {connection.provider_account_name}, "
        f"key {connection.key_fingerprint}.\nRun `aispend sync --connection {connection.name}` to import "
        f"its Codex usage; credits stay unpriced until `aispend credit-rate set --connection "
        f"{connection.name} --usd-per-credit USD --from DATE`.",
        highlight=False,
    )


@app.command("connections")
def connections_command(
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
) -> None:
    """List connections: provider, organisation, status, last sync, data complete through, key."""
    views = list_connections(_runtime())
    if format is OutputFormat.json:
        out.print_json(json.dumps([view.as_json() for view in views]))
        return
    if not views:
        out.print("No connections yet. Add one with `aispend connect anthropic --name NAME --key-stdin`.")
        return
    table = Table(
        "name", "provider", "provider organisation", "status", "last sync", "complete through", "key"
    )
    for view in views:
        # A provider that says how fresh its data is (Claude Enterprise) is believed over our checkpoint.
        through = view.data_complete_through.isoformat() if view.data_complete_through else "-"
        if view.data_refreshed_at is not None:
            through = view.data_refreshed_at.strftime("%Y-%m-%d %H:%M UTC")
        can = f"\ncan: {', '.join(view.capabilities)}" if view.capabilities else ""
        table.add_row(
            view.name,
            view.provider + can,
            view.provider_account,
            view.status if not view.last_error else f"{view.status}: {view.last_error}",
            view.last_sync_at.strftime("%Y-%m-%d %H:%M UTC") if view.last_sync_at else "never",
            through,
            view.key_fingerprint,
        )
    out.print(table)


class _BarProgress(SyncProgress):
    def __init__(self, progress: Progress, name: str) -> None:
        self.progress = progress
        self.task = progress.add_task(name, total=None, rows=0, stream="")

    def planned(self, requests: int) -> None:
        self.progress.update(self.task, total=requests)

    def request_done(self, stream: str, requests: int, rows: int) -> None:
        total = self.progress.tasks[self.task].total or 0
        self.progress.update(
            self.task, completed=requests, total=max(total, requests), rows=rows, stream=stream
        )


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[stream]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("requests"),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeRemainingColumn(),
        console=err,
    )


def _sync_all(runtime: Runtime, names: list[str], since: date | None, until: date | None) -> int:
    failures = 0
    with _progress() as progress:
        for name in names:
            try:
                result = sync_connection(
                    runtime, name, since=since, until=until, progress=_BarProgress(progress, name)
                )
            except (SyncFailedError, ConnectError, ConnectionBusyError) as error:
                failures += 1
                progress.console.print(f"[bold red]{name}: sync failed:[/] {error}", highlight=False)
                continue
            skipped = f" Not available, skipped: {', '.join(result.skipped)}." if result.skipped else ""
            progress.console.print(
                f"{name}: {result.requests} requests, {result.rows:,} rows written.{skipped}", highlight=False
            )
    return failures


@app.command("sync")
def sync_command(
    connection: Annotated[str | None, typer.Option(help="Only this connection (default: all).")] = None,
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First UTC day to import.")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last UTC day to import.")
    ] = None,
) -> None:
    """Import usage and cost now, in the foreground, with a progress bar."""
    if since and until and until < since:
        raise _fail(f"--until {until.date()} is before --since {since.date()}.")
    runtime = _runtime()
    if connection is None:
        names = active_connection_names(runtime)
        if not names:
            raise _fail("no connections to sync; add one with `aispend connect anthropic`.")
    else:
        names = [connection]
    if _sync_all(runtime, names, since.date() if since else None, until.date() if until else None):
        raise typer.Exit(1)


@app.command("disconnect")
def disconnect_command(name: Annotated[str, typer.Argument(help="The connection's name.")]) -> None:
    """Stop imports and hard-delete the stored key. Imported data stays."""
    try:
        connection = disconnect(_runtime(), name)
    except ConnectError as error:
        raise _fail(str(error)) from None
    out.print(f"Disconnected {connection.name}: its key is deleted; its imported data stays.")


def _print_report(report: SpendReport, format: ReportFormat) -> None:
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {warning['message']}", highlight=False)
    if report.converted_from:
        err.print(
            f"note: costs billed in {', '.join(report.converted_from)} are converted to USD at the "
            "provider's own rate for each line.",
            highlight=False,
        )
    if report.unpriced_credits:
        err.print(
            f"[yellow]warning:[/] {report.unpriced_credits:,} Codex credits have no contract rate for their "
            "day and are not in these dollars; set one with `aispend credit-rate set`.",
            highlight=False,
        )
    if format is ReportFormat.json:
        out.print_json(json.dumps(report.as_json()))
        return
    if format is ReportFormat.csv:
        buffer = io.StringIO()
        rows = [*(row.as_json() for row in report.rows), report.total.as_json()]
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
        return
    table = Table(
        report.by,
        "cost",
        "input",
        "cache write",
        "cache read",
        "output",
        title=f"Spend by {report.by}, {report.since} to {report.until} (UTC, inclusive)"
        + "".join(f", {name.replace('_', ' ')} {value}" for name, value in report.filters.items()),
        show_footer=True,
    )
    table.columns[0].footer = "Total"
    table.columns[1].footer = format_usd(report.total.cost_usd)
    for column, name in zip(
        table.columns[2:],
        ("input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens"),
        strict=True,
    ):
        column.footer = format_tokens(getattr(report.total, name))
        column.justify = "right"
    table.columns[1].justify = "right"
    for row in report.rows:
        table.add_row(
            row.label,
            format_usd(row.cost_usd),
            format_tokens(row.input_tokens),
            format_tokens(row.cache_write_tokens),
            format_tokens(row.cache_read_tokens),
            format_tokens(row.output_tokens),
        )
    out.print(table)


@report_app.command("spend")
def report_spend(
    by: Annotated[By, typer.Option(help="Group rows by this dimension.")] = By.model,
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First UTC day (inclusive).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last UTC day (inclusive).")
    ] = None,
    connection: Annotated[str | None, typer.Option(help="Only this connection.")] = None,
    provider: Annotated[
        str | None, typer.Option(help=f"Only this provider's connections: {', '.join(PROVIDERS)}.")
    ] = None,
    cost: Annotated[
        Cost,
        typer.Option(
            help="reported: the providers' bills; list: usage at list price; effective: the bills with "
            "your rate cards applied (the reported cost where no card applies)."
        ),
    ] = Cost.effective,
    format: Annotated[ReportFormat, typer.Option("--format", help="Output format.")] = ReportFormat.table,
    model: Annotated[str | None, typer.Option(help="Only this model (or a by-model row key).")] = None,
    workspace: Annotated[str | None, typer.Option(help="Only this workspace or project (its id).")] = None,
    api_key: Annotated[str | None, typer.Option(help="Only this API key (its id).")] = None,
    user: Annotated[str | None, typer.Option(help="Only this person (e-mail or user id).")] = None,
    product: Annotated[str | None, typer.Option(help="Only this product: api, claude_code, codex...")] = None,
    service_tier: Annotated[
        str | None, typer.Option(help="Only this service tier: standard, batch, priority, flex, scale...")
    ] = None,
    token_kind: Annotated[
        str | None,
        typer.Option(
            help="Only this kind: input, cache-write, cache-read, output, or a non-token cost type "
            "(web_search...)."
        ),
    ] = None,
) -> None:
    """Spend by provider, model, workspace or project, API key, user, product, token kind, service tier,
    day, week or month (default: last 30 days), optionally filtered by any other dimension."""
    runtime = _runtime()
    try:
        first, last = report_period(
            since.date() if since else None, until.date() if until else None, _today()
        )
    except ValueError as error:
        raise _fail(f"{error}.") from None
    with runtime.db.session() as session:
        connection_id = None
        if connection:
            try:
                connection_id = get_connection(session, runtime.org_id, connection).id
            except ConnectError as error:
                raise _fail(str(error)) from None
        try:
            report = spend_report(
                session,
                runtime.org_id,
                by=by.value,
                since=first,
                until=last,
                connection_id=connection_id,
                provider=provider,
                cost=cost.value,
                filters=SpendFilters(
                    model=model,
                    workspace=workspace,
                    api_key=api_key,
                    user=user,
                    product=product,
                    service_tier=service_tier,
                    token_kind=token_kind,
                ),
            )
        except ValueError as error:
            raise _fail(f"{error}.") from None
    _print_report(report, format)


def _serve(runtime: Runtime, host: str, port: int, worker: bool) -> None:
    import uvicorn

    from aispend.web.app import create_app

    consumer = None
    if worker:
        from aispend.sync.jobs import build_queue

        consumer = build_queue(runtime).consumer()
        consumer.start()
    try:
        uvicorn.run(create_app(runtime), host=host, port=port, log_level="warning")
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)


@app.command("serve")
def serve_command(
    host: Annotated[
        str, typer.Option(help="Interface to bind; anything but 127.0.0.1 belongs behind HTTPS.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Do not run the embedded job worker.")
    ] = False,
) -> None:
    """Serve the JSON API (and run scheduled syncs, unless --no-worker)."""
    runtime = _runtime()
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(
            f"[bold yellow]warning:[/] binding to {host}: serve it behind HTTPS (a TLS reverse proxy), or "
            "passwords and session cookies cross the network in clear."
        )
    err.print(f"Serving on http://{host}:{port} (API docs at /api/docs). Ctrl-C stops.")
    _serve(runtime, host, port, worker=not no_worker)


@app.command("worker")
def worker_command(
    workers: Annotated[int, typer.Option(help="Worker threads.")] = 2,
) -> None:
    """Run the job worker: the daily schedule and queued syncs."""
    from aispend.sync.jobs import build_queue

    runtime = _runtime()
    err.print(f"Worker started; daily syncs at {runtime.settings.schedule_time:%H:%M} UTC. Ctrl-C stops.")
    build_queue(runtime).consumer(workers=workers).run()


def _serve_gcp_demo(days: int) -> tuple[RunningSimulator, str]:
    """A simulated Cloud Billing export behind a local stand-in for the BigQuery API, and its table."""
    from aispend.providers.gcp.simdata import SimulatorSettings as GcpSettings
    from aispend.providers.gcp.simulator import BigQuerySimulator, serve

    simulator = BigQuerySimulator(GcpSettings(history_days=days + 5))
    return serve(simulator), simulator.detailed_table


def _connect_gcp_demo(runtime: Runtime, gcp: tuple[RunningSimulator, str], days: int) -> str:
    server, table = gcp
    connection = connect_provider(
        runtime,
        provider="gcp",
        name="gcp-demo",
        key=None,
        base_url=server.base_url,
        extra_options={"table_id": table},
    )
    err.print(f"Simulated Google Cloud billing export {table} on {server.base_url}; importing {days} days.")
    return connection.name


@app.command("demo")
def demo_command(
    port: Annotated[int, typer.Option(help="Port of the API and dashboard.")] = 8000,
    days: Annotated[int, typer.Option(min=1, max=400, help="Days of simulated history to import.")] = 90,
) -> None:
    """Simulate every provider, import their spend, and serve it on localhost."""
    from aispend.providers.anthropic.simdata import SimulatorSettings
    from aispend.providers.anthropic.simulator import AnthropicSimulator, serve
    from aispend.providers.openai.simulator import OpenAISimulator, OpenAISimulatorSettings

    base = Settings()
    home = base.home / "demo"
    # The demo never touches real data: its own directory, database and key, whatever is configured.
    shutil.rmtree(home, ignore_errors=True)
    runtime = _runtime(
        Settings(
            home=home,
            database_url=f"sqlite:///{home / 'aispend.db'}",
            master_key=None,
            master_key_file=home / "master.key",
            log_level=base.log_level,
        )
    )
    simulator = AnthropicSimulator(SimulatorSettings(history_days=days + 5))
    server = serve(simulator)
    openai_simulator = OpenAISimulator(OpenAISimulatorSettings(history_days=days + 5))
    openai_server = serve(openai_simulator)
    gcp = _serve_gcp_demo(days)
    enterprise = serve_enterprise_demo(days)
    try:
        connection = connect_provider(
            runtime,
            provider="anthropic",
            name="anthropic-demo",
            key=simulator.org.settings.admin_key,
            base_url=server.base_url,
            min_request_interval=0,
        )
        openai_connection = connect_provider(
            runtime,
            provider="openai",
            name="openai-demo",
            key=openai_simulator.org.settings.admin_key,
            base_url=openai_server.base_url,
            min_request_interval=0,
        )
        err.print(
            f"Simulated Anthropic and OpenAI organisations on {server.base_url} and "
            f"{openai_server.base_url}; importing {days} days."
        )
        since = _today() - timedelta(days=days)
        if _sync_all(runtime, [connection.name, openai_connection.name], since, None):
            raise typer.Exit(1)
        if _sync_all(runtime, [_connect_gcp_demo(runtime, gcp, days)], since, None):
            raise typer.Exit(1)
        if _sync_all(runtime, connect_enterprise_demo(runtime, enterprise), since, None):
            raise typer.Exit(1)
        with runtime.db.session() as session:
            report = spend_report(
                session, runtime.org_id, by="model", since=since, until=_today() - timedelta(days=1)
            )
        _print_report(report, ReportFormat.table)
        email, password = create_demo_admin(runtime)
        err.print(
            f"\nSign in at http://127.0.0.1:{port}/login as {email} with password {password}", highlight=False
        )
        err.print(
            f"Serving on http://127.0.0.1:{port}  (try /api/v1/spend?by=workspace, docs at /api/docs). "
            f"Data directory: {home}. Ctrl-C stops."
        )
        _serve(runtime, "127.0.0.1", port, worker=False)
    finally:
        server.stop()
        openai_server.stop()
        gcp[0].stop()
        enterprise.stop()


def main() -> None:
    app()

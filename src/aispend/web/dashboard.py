"""What the dashboard pages show, computed once for a page and its JSON endpoint.

Everything here reads through ``reports.queries.spend_report`` (the one query layer) or
the sync tables, scoped to one organisation. Money stays ``Decimal`` until a template
formats it (``web.templating`` filters); the JSON bodies carry decimal strings.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from aispend.model import OVERLAPPING_STREAMS
from aispend.pricing.figures import DayFigures, day_figures
from aispend.pricing.reconcile import DEFAULT_THRESHOLD_PCT, ReconcileRow
from aispend.providers.registry import PROVIDERS, provider_info
from aispend.reports.queries import (
    Grouping,
    SpendReport,
    SpendRow,
    daily_spend_by_provider,
    spend_report,
    spend_reports,
)
from aispend.store.schema import Connection, FactPrice, SyncRun, SyncState, UsageFact

__all__ = [
    "ConnectionStatus",
    "ModelDetail",
    "Overview",
    "connection_statuses",
    "drift_warnings",
    "model_detail",
    "overview",
    "plain",
    "provider_label",
    "sync_runs",
    "sync_totals",
]

TOP = 5
MAX_CHART_DAYS = 732
"""The Overview charts every day of its period: at most two years of them."""
RUN_RATE_DAYS = 14
TOP_GROUPINGS: tuple[tuple[Grouping, str], ...] = (
    ("model", "models"),
    ("project", "workspaces and projects"),
    ("api-key", "API keys"),
)
TOP_GROUPINGS_PEOPLE: tuple[tuple[Grouping, str], ...] = (("user", "users"),)


def plain(amount: Decimal) -> str:
    """A decimal string for JSON: full precision, no exponent."""
    return format(amount.normalize(), "f") if amount else "0"


def provider_label(provider: str) -> str:
    try:
        return provider_info(provider).display_name
    except ValueError:
        return provider


@dataclass(frozen=True)
class MonthToDate:
    as_of: date  # the last complete UTC day counted
    month_start: date
    month_end: date
    spend: Decimal
    prior_since: date
    prior_until: date
    prior_spend: Decimal
    forecast: Decimal
    forecast_low: Decimal
    forecast_high: Decimal

    @property
    def change(self) -> Decimal | None:
        """Change against the same days of last month, as a fraction (None when last month was $0)."""
        return (self.spend - self.prior_spend) / self.prior_spend if self.prior_spend else None

    def as_json(self) -> dict[str, Any]:
        change = self.change
        return {
            "as_of": self.as_of.isoformat(),
            "month_start": self.month_start.isoformat(),
            "month_end": self.month_end.isoformat(),
            "spend_usd": plain(self.spend),
            "prior_since": self.prior_since.isoformat(),
            "prior_until": self.prior_until.isoformat(),
            "prior_spend_usd": plain(self.prior_spend),
            "change_percent": None if change is None else f"{change * 100:.1f}",
            "forecast_usd": plain(self.forecast),
            "forecast_low_usd": plain(self.forecast_low),
            "forecast_high_usd": plain(self.forecast_high),
        }


def _month_window(as_of: date) -> tuple[date, date, date, date]:
    """(month start, month end, first day of last month, last of its same days) for ``as_of``."""
    month_start = as_of.replace(day=1)
    month_end = as_of.replace(day=calendar.monthrange(as_of.year, as_of.month)[1])
    prior_start = (month_start - timedelta(days=1)).replace(day=1)
    prior_until = min(prior_start + timedelta(days=as_of.day - 1), month_start - timedelta(days=1))
    return month_start, month_end, prior_start, prior_until


def _history_start(as_of: date) -> date:
    """The first day month-to-date figures need: last month's start or 14 days back."""
    return min(_month_window(as_of)[2], as_of - timedelta(days=RUN_RATE_DAYS - 1))


def _month_figures(by_day: dict[date, Decimal], as_of: date) -> MonthToDate:
    month_start, month_end, prior_start, prior_until = _month_window(as_of)
    spend = sum((a for d, a in by_day.items() if month_start <= d <= as_of), Decimal(0))
    prior = sum((a for d, a in by_day.items() if prior_start <= d <= prior_until), Decimal(0))
    recent_since = as_of - timedelta(days=RUN_RATE_DAYS - 1)
    recent = [by_day.get(recent_since + timedelta(days=n), Decimal(0)) for n in range(RUN_RATE_DAYS)]
    mean = sum(recent, Decimal(0)) / len(recent)
    spread = (sum(((a - mean) ** 2 for a in recent), Decimal(0)) / len(recent)).sqrt()
    left = (month_end - as_of).days
    return MonthToDate(
        as_of=as_of,
        month_start=month_start,
        month_end=month_end,
        spend=spend,
        prior_since=prior_start,
        prior_until=prior_until,
        prior_spend=prior,
        forecast=spend + mean * left,
        forecast_low=spend + max(mean - spread, Decimal(0)) * left,
        forecast_high=spend + (mean + spread) * left,
    )


def _months_and_series(
    session: Session, org_id: int, today: date, since: date, until: date, providers: list[str]
) -> tuple[MonthToDate, dict[str, list[Decimal]]]:
    """Month-to-date figures and the chart's daily series per provider.

    The month-to-date figures add the recent daily run rate (mean of the last 14 complete
    days) for the days left; the forecast's range is that mean plus or minus one standard
    deviation of those days. One read covers both when the chart's period is near this month.
    """
    as_of = today - timedelta(days=1)
    history = _history_start(as_of)
    first, last = min(since, history), max(until, as_of)
    if (last - first).days + 1 > (until - since).days + 1 + RUN_RATE_DAYS + 62:
        # The chart's period lies far from this month: read the two apart.
        recent = daily_spend_by_provider(session, org_id, since=history, until=as_of)
        chart = daily_spend_by_provider(session, org_id, since=since, until=until)
    else:
        recent = chart = daily_spend_by_provider(session, org_id, since=first, until=last)
    by_day: dict[date, Decimal] = defaultdict(Decimal)
    for days in recent.values():
        for day, amount in days.items():
            by_day[day] += amount
    length = (until - since).days + 1
    series = {
        p: [chart.get(p, {}).get(since + timedelta(days=n), Decimal(0)) for n in range(length)]
        for p in providers
    }
    return _month_figures(by_day, as_of), series


@dataclass(frozen=True)
class ConnectionStatus:
    id: int
    name: str
    provider: str
    provider_label: str
    account: str
    status: str
    key_fingerprint: str
    last_sync_at: datetime | None
    complete_through: date | None
    last_error: str | None
    syncing: bool
    backfill_percent: float | None

    @property
    def next_step(self) -> str:
        """What to do about the last error, in words."""
        error = (self.last_error or "").lower()
        if not error:
            return ""
        if any(
            word in error for word in ("401", "403", "unauthori", "forbidden", "invalid", "revoked", "key")
        ):
            return "Create a new key at the provider, disconnect this connection and connect again with it."
        if any(word in error for word in ("429", "rate", "timeout", "timed out", "5")):
            return "The provider was busy or unreachable; the next sync retries by itself."
        return "Check the provider's status, then run the sync again (aispend sync)."

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "provider": self.provider,
            "provider_label": self.provider_label,
            "provider_organization": self.account,
            "status": self.status,
            "key_fingerprint": self.key_fingerprint,
            "last_sync_at": self.last_sync_at.isoformat() if self.last_sync_at else None,
            "data_complete_through": self.complete_through.isoformat() if self.complete_through else None,
            "last_error": self.last_error,
            "next_step": self.next_step or None,
            "syncing": self.syncing,
            "backfill_percent": self.backfill_percent,
        }


def connection_statuses(session: Session, org_id: int, today: date) -> list[ConnectionStatus]:
    """Every connection of the organisation with its freshness and backfill progress."""
    connections = session.scalars(
        select(Connection).where(Connection.org_id == org_id).order_by(Connection.name)
    ).all()
    states: dict[int, list[SyncState]] = {}
    for state in session.scalars(select(SyncState).where(SyncState.org_id == org_id)):
        states.setdefault(state.connection_id, []).append(state)
    running = set(
        session.scalars(
            select(SyncRun.connection_id).where(SyncRun.org_id == org_id, SyncRun.status == "running")
        )
    )
    out = []
    for c in connections:
        own = states.get(c.id, [])
        through = [s.complete_through for s in own if s.complete_through is not None]
        complete = min(through) - timedelta(days=1) if through else None
        out.append(
            ConnectionStatus(
                id=c.id,
                name=c.name,
                provider=c.provider,
                provider_label=provider_label(c.provider),
                account=f"{c.provider_account_name} ({c.provider_account_id})",
                status=c.status,
                key_fingerprint=c.key_fingerprint,
                last_sync_at=c.last_sync_at,
                complete_through=complete,
                last_error=c.last_error,
                syncing=c.id in running,
                backfill_percent=_backfill_percent(own, today),
            )
        )
    return out


def _backfill_percent(states: list[SyncState], today: date) -> float | None:
    """How much of the backfill window is imported, over all streams (None before the first sync)."""
    spans = [
        (s.backfill_from, s.complete_through or s.backfill_from)
        for s in states
        if s.backfill_from is not None
    ]
    if not spans:
        return None
    wanted = sum(max((today - start).days, 1) for start, _ in spans)
    done = sum(min(max((through - start).days, 0), max((today - start).days, 1)) for start, through in spans)
    return round(100 * done / wanted, 1)


@dataclass(frozen=True)
class Overview:
    since: date
    until: date
    month: MonthToDate
    total: SpendRow
    providers: list[str]
    days: list[date]
    daily: dict[str, list[Decimal]]
    tops: list[tuple[Grouping, str, SpendReport]]
    connections: list[ConnectionStatus]
    warnings: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "currency": "USD",
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "month_to_date": self.month.as_json(),
            "total": self.total.as_json(),
            "daily": {
                "days": [d.isoformat() for d in self.days],
                "series": [
                    {"provider": p, "label": provider_label(p), "cost_usd": [plain(a) for a in self.daily[p]]}
                    for p in self.providers
                ],
            },
            "top": {
                by: {"title": title, "rows": [row.as_json() for row in report.rows[:TOP]]}
                for by, title, report in self.tops
            },
            "connections": [c.as_json() for c in self.connections],
            "warnings": self.warnings,
        }


SessionFactory = Callable[[], AbstractContextManager[Session]]


def overview(open_session: SessionFactory, org_id: int, today: date, since: date, until: date) -> Overview:
    """The Overview page's data for the inclusive UTC days ``[since, until]``.

    ``open_session`` gives an organisation-scoped session (``web.deps.org_db``). Raises
    ``ValueError`` for a period longer than :data:`MAX_CHART_DAYS`.
    """
    if (until - since).days + 1 > MAX_CHART_DAYS:
        raise ValueError(f"the Overview shows at most {MAX_CHART_DAYS} days; choose a shorter period")
    with open_session() as session:
        providers = sorted(
            set(session.scalars(select(Connection.provider).where(Connection.org_id == org_id))),
            key=lambda p: list(PROVIDERS).index(p) if p in PROVIDERS else 99,
        )

        month, series = _months_and_series(session, org_id, today, since, until, providers)
        titled = (*TOP_GROUPINGS, *TOP_GROUPINGS_PEOPLE)
        reports = spend_reports(session, org_id, by=[by for by, _ in titled], since=since, until=until)
        tops = [(by, title, report) for (by, title), report in zip(titled, reports, strict=True)]
        statuses = connection_statuses(session, org_id, today)
        drift = drift_warnings(session, org_id, since, until)
    first = tops[0][2]
    warnings = [_jsonable(w) for w in first.warnings]
    warnings += drift
    if first.unpriced_credits:
        warnings.append(
            {
                "code": "unpriced_credits",
                "message": f"{plain(first.unpriced_credits)} seat-plan credits have no contract "
                "rate for their day and are not priced; set one with `aispend credit-rate`.",
            }
        )
    return Overview(
        since=since,
        until=until,
        month=month,
        total=first.total,
        providers=providers,
        days=[since + timedelta(days=n) for n in range((until - since).days + 1)],
        daily=series,
        tops=tops,
        connections=statuses,
        warnings=warnings,
    )


def drift_warnings(session: Session, org_id: int, since: date, until: date) -> list[dict[str, Any]]:
    """One warning per connection whose billed cost drifts from its usage at list price.

    The same test as the reconciliation's flag (over the threshold and at least a cent),
    applied to the whole period; ``link`` opens that connection's reconciliation.
    """
    periods: dict[int, DayFigures] = {}
    for (conn, _day), figures in day_figures(session, org_id, since, until).items():
        periods.setdefault(conn, DayFigures()).add(figures)
    if not periods:
        return []
    names = dict(
        session.execute(
            select(Connection.id, Connection.name).where(
                Connection.org_id == org_id, Connection.id.in_(list(periods))
            )
        ).all()
    )
    out = []
    for conn, figures in sorted(periods.items(), key=lambda item: names[item[0]]):
        row = ReconcileRow("month", f"{since}/{until}", names[conn], "", figures)
        if not row.flagged(DEFAULT_THRESHOLD_PCT):
            continue
        pct = "" if row.drift_pct is None else f" ({row.drift_pct:+}%)"
        out.append(
            {
                "code": "reconciliation_drift",
                "connection": names[conn],
                "reported_usd": plain(figures.reported_usd),
                "list_usd": plain(figures.list_usd),
                "drift_usd": plain(row.drift_usd),
                "drift_pct": None if row.drift_pct is None else plain(row.drift_pct),
                "message": f"{names[conn]}: its usage at list price comes to ${figures.list_usd:,.2f} "
                f"against ${figures.reported_usd:,.2f} billed{pct}, more than the "
                f"{DEFAULT_THRESHOLD_PCT}% the reconciliation allows.",
                "link": "/reconcile?"
                + urlencode({"since": since, "until": until, "connection": names[conn]}),
            }
        )
    return out


def _jsonable(warning: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in warning.items()}


def sync_runs(session: Session, org_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """The latest sync runs, newest first, with their connection's name and duration in seconds."""
    rows = session.execute(
        select(SyncRun, Connection.name, Connection.provider)
        .join(Connection, Connection.id == SyncRun.connection_id)
        .where(SyncRun.org_id == org_id)
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(limit)
    ).all()
    out = []
    for run, name, provider in rows:
        duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
        out.append(
            {
                "id": run.id,
                "connection": name,
                "provider": provider,
                "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "status": run.status,
                "requests": run.requests_made,
                "rows": run.rows_written,
                "duration_seconds": None if duration is None else round(duration, 1),
                "error": run.error,
            }
        )
    return out


def sync_totals(session: Session, org_id: int) -> dict[str, dict[str, int]]:
    """Per connection name: runs, failed runs, requests and rows over every run."""
    failed = func.sum(case((SyncRun.status == "failed", 1), else_=0))
    rows = session.execute(
        select(
            Connection.name,
            func.count(SyncRun.id),
            failed,
            func.coalesce(func.sum(SyncRun.requests_made), 0),
            func.coalesce(func.sum(SyncRun.rows_written), 0),
        )
        .join(SyncRun, SyncRun.connection_id == Connection.id)
        .where(Connection.org_id == org_id)
        .group_by(Connection.name)
    ).all()
    return {
        name: {"runs": runs, "failed": int(bad or 0), "requests": int(req), "rows": int(written)}
        for name, runs, bad, req, written in rows
    }


@dataclass(frozen=True)
class ModelDetail:
    model: str
    label: str
    since: date
    until: date
    row: SpendRow
    list_usd: Decimal
    batch_tokens: int

    @property
    def tokens(self) -> int:
        r = self.row
        return r.input_tokens + r.cache_write_tokens + r.cache_read_tokens + r.output_tokens

    def per_million(self, amount: Decimal) -> Decimal | None:
        return amount * 1_000_000 / self.tokens if self.tokens else None

    @property
    def cache_hit_ratio(self) -> Decimal | None:
        """Cache reads over every input token (uncached, cache writes and reads)."""
        r = self.row
        inputs = r.input_tokens + r.cache_write_tokens + r.cache_read_tokens
        return Decimal(r.cache_read_tokens) / inputs if inputs else None

    @property
    def batch_share(self) -> Decimal | None:
        return Decimal(self.batch_tokens) / self.tokens if self.tokens else None

    def as_json(self) -> dict[str, Any]:
        def maybe(value: Decimal | None, digits: str = "0.000001") -> str | None:
            return None if value is None else plain(value.quantize(Decimal(digits)))

        return {
            "model": self.model,
            "label": self.label,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "total": self.row.as_json(),
            "list_cost_usd": plain(self.list_usd),
            "cost_per_million_usd": maybe(self.per_million(self.row.cost_usd)),
            "list_per_million_usd": maybe(self.per_million(self.list_usd)),
            "cache_hit_ratio": maybe(self.cache_hit_ratio),
            "batch_share": maybe(self.batch_share),
        }


def model_detail(session: Session, org_id: int, model: str, since: date, until: date) -> ModelDetail | None:
    """One model's tokens by kind, cost against list price, cache hit ratio and batch share."""
    report = spend_report(session, org_id, by="model", since=since, until=until)
    row = next((r for r in report.rows if r.key == model), None)
    if row is None:
        return None
    counted = UsageFact.stream.not_in(OVERLAPPING_STREAMS)
    list_usd = session.scalar(
        select(func.coalesce(func.sum(FactPrice.list_usd), 0)).where(
            FactPrice.org_id == org_id,
            FactPrice.model == model,
            FactPrice.day >= since,
            FactPrice.day <= until,
            FactPrice.stream.not_in(OVERLAPPING_STREAMS),
        )
    )
    tokens = (
        UsageFact.input_tokens
        + UsageFact.cache_write_5m_tokens
        + UsageFact.cache_write_1h_tokens
        + UsageFact.cache_write_other_tokens
        + UsageFact.cache_read_tokens
        + UsageFact.output_tokens
    )
    batch = session.scalar(
        select(func.coalesce(func.sum(tokens), 0)).where(
            UsageFact.org_id == org_id,
            UsageFact.model == model,
            UsageFact.day >= since,
            UsageFact.day <= until,
            counted,
            or_(UsageFact.batch == "true", UsageFact.service_tier == "batch"),
        )
    )
    return ModelDetail(model, row.label, since, until, row, Decimal(list_usd or 0), int(batch or 0))

"""The spend report: one query layer for the CLI, the JSON API and exports.

Cost comes from what the provider billed (cost facts), split per API key by the
stored allocation; tokens come from the usage report. Rows of every grouping add up
to the same total, to the billionth of a dollar.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final, Literal, get_args

from sqlalchemy import func, literal, select, type_coerce
from sqlalchemy.orm import Session

from aispend.credit_rates import PricedCredits, priced_credits
from aispend.model import OVERLAPPING_STREAMS
from aispend.pricing.unpriced import unpriced_warnings
from aispend.providers.registry import PROVIDERS
from aispend.store.allocations import UNALLOCATED
from aispend.store.schema import AllocatedCost, Connection, CostFact, DirectoryItem, FactPrice, UsageFact
from aispend.store.types import Money

__all__ = [
    "COST_BASES",
    "GROUPINGS",
    "CostBasis",
    "Grouping",
    "SpendReport",
    "SpendRow",
    "report_period",
    "spend_report",
]

CostBasis = Literal["reported", "list", "effective"]
COST_BASES: Final[tuple[str, ...]] = get_args(CostBasis)
Grouping = Literal["provider", "model", "workspace", "project", "api-key", "user", "product", "day", "month"]
GROUPINGS: Final[tuple[str, ...]] = get_args(Grouping)
TOKEN_FIELDS = ("input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens")
UNATTRIBUTED = "unattributed"
ENTERPRISE_USER_COST = "enterprise_user_cost"

NON_TOKEN_LABELS = {
    "web_search": "Web search",
    "code_execution": "Code execution",
    "session_usage": "Managed Agents sessions",
    "file_search": "File search",
    "code_interpreter": "Code interpreter sessions",
    "vector_store": "Vector store storage",
    "grounding": "Grounding",
    "cache_storage": "Context cache storage",
    "credit": "Credits",
    "unparsed_sku": "SKUs not yet recognised",
    "other": "Other charges",
    "": "Other charges",
}
SPECIAL_KEY_LABELS = {
    UNALLOCATED: "Not attributable to an API key",
    UNATTRIBUTED: "Not attributed to a user",
}
_DESCRIPTION_MODEL = re.compile(r"^(?P<name>.+?) Usage - ")
API_PRODUCT = "api"
CODEX = "codex"
PRODUCT_LABELS = {
    API_PRODUCT: "API",
    CODEX: "Codex (credits at contract rate)",
    "chat": "Claude chat",
    "claude_code": "Claude Code",
    "cowork": "Claude Cowork",
    "office_agent": "Claude office agent",
    "claude_in_chrome": "Claude in Chrome",
    "claude_design": "Claude Design",
    "claude-in-slack": "Claude in Slack",
}


@dataclass
class SpendRow:
    key: str | None
    label: str
    cost_usd: Decimal = Decimal(0)
    input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0

    # The usage's money on the report's cost basis (list cost, or the rate cards' adjustment).
    basis_usd: Decimal = Decimal(0)

    def add_tokens(self, counts: Sequence[Any]) -> None:
        self.input_tokens += int(counts[0] or 0)
        self.cache_write_tokens += int(counts[1] or 0)
        self.cache_read_tokens += int(counts[2] or 0)
        self.output_tokens += int(counts[3] or 0)
        self.basis_usd += counts[4] or 0

    def settle(self, basis: CostBasis) -> None:
        """Turn the reported cost into the report's basis: list replaces it, effective adjusts it."""
        if basis == "list":
            self.cost_usd = self.basis_usd
        elif basis == "effective":
            self.cost_usd += self.basis_usd

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "cost_usd": _plain(self.cost_usd),
            **{name: getattr(self, name) for name in TOKEN_FIELDS},
        }


@dataclass
class SpendReport:
    by: Grouping
    since: date
    until: date
    rows: list[SpendRow]
    total: SpendRow
    currency: str = "USD"
    cost: CostBasis = "effective"
    # Seat-plan credits with no contract rate for their day: never priced at $0, counted here.
    unpriced_credits: Decimal = Decimal(0)
    # Billing currencies that were converted to USD (at the provider's own rate) in this report.
    converted_from: tuple[str, ...] = ()
    # Usage without a list price (``pricing.unpriced``): flagged and counted, never $0.
    warnings: tuple[dict[str, Any], ...] = ()

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "currency": self.currency,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "by": self.by,
            "rows": [row.as_json() for row in self.rows],
            "total": self.total.as_json(),
        }
        if self.cost != "effective":
            # Said only when it is not the default, so the default body keeps its shape.
            body["cost"] = self.cost
        if self.converted_from:
            body["converted_from"] = list(self.converted_from)
        if self.unpriced_credits:
            # Only when there are any, so the report's shape stays what it always was.
            body["unpriced_credits"] = format(self.unpriced_credits.normalize(), "f")
        if self.warnings:
            body["warnings"] = list(self.warnings)
        return body


def _plain(amount: Decimal) -> str:
    """Full stored precision, no exponent, no trailing zeros beyond the cents."""
    text = format(amount, "f")
    if "." in text:
        whole, fraction = text.split(".")
        fraction = fraction.rstrip("0").ljust(2, "0")
        text = f"{whole}.{fraction}"
    else:
        text += ".00"
    return text


def _token_columns(basis: CostBasis) -> list[Any]:
    """Token sums, then the money of the usage on ``basis`` (needs ``_priced`` on the statement)."""
    if basis == "list":
        money: Any = type_coerce(func.sum(FactPrice.list_usd), Money)
    elif basis == "effective":
        # Only facts a rate card priced have an effective price; elsewhere the reported cost stands.
        money = type_coerce(func.sum(FactPrice.effective_usd - FactPrice.list_usd), Money)
    else:
        money = literal(0)
    return [
        func.sum(UsageFact.input_tokens),
        func.sum(
            UsageFact.cache_write_5m_tokens
            + UsageFact.cache_write_1h_tokens
            + UsageFact.cache_write_other_tokens
        ),
        func.sum(UsageFact.cache_read_tokens),
        func.sum(UsageFact.output_tokens),
        money,
    ]


def _priced(statement: Any, basis: CostBasis) -> Any:
    if basis == "reported":
        return statement
    return statement.outerjoin(FactPrice, FactPrice.usage_fact_id == UsageFact.id)


class _Query:
    def __init__(
        self,
        session: Session,
        org_id: int,
        since: date,
        until: date,
        connection_ids: list[int] | None,
        basis: CostBasis = "reported",
    ):
        self.basis = basis
        self.session = session
        self.org_id = org_id
        self.since = since
        self.until = until
        self.connection_ids = connection_ids

    def scope(self, statement: Any, table: Any) -> Any:
        """Organisation, days and connections; cost only from streams that are not a second view."""
        statement = self.scope_days(statement, table)
        if table is CostFact:
            statement = statement.where(CostFact.stream.not_in(OVERLAPPING_STREAMS))
        return statement

    def scope_days(self, statement: Any, table: Any) -> Any:
        statement = statement.where(
            table.org_id == self.org_id, table.day >= self.since, table.day <= self.until
        )
        if self.connection_ids is not None:
            statement = statement.where(table.connection_id.in_(self.connection_ids))
        return statement

    def cost(self, *columns: Any, table: Any = CostFact) -> list[Any]:
        statement = select(*columns, func.sum(table.amount_usd)).group_by(*columns)
        return list(self.session.execute(self.scope(statement, table)).all())

    def lacking(self, grouping: str) -> dict[int, str]:
        """Connections whose provider cannot be grouped this way, with the row label that says so."""
        rows = self.session.execute(
            select(Connection.id, Connection.name, Connection.provider).where(
                Connection.org_id == self.org_id
            )
        )
        what = {"api-key": "API keys", "user": "users"}.get(grouping, grouping)
        return {
            conn: f"{PROVIDERS[provider].display_name} reports no {what} ({name})"
            for conn, name, provider in rows
            if provider in PROVIDERS and grouping in PROVIDERS[provider].lacks
        }

    def credits(self, *by: str) -> list[tuple[int, tuple[str, ...], Decimal]]:
        """(connection, key, dollars) of Codex credits priced at the contract rate of their day.

        Groups with no rate at all are left out, never shown as $0; ``unpriced`` counts them.
        """
        return [(p.connection_id, p.key, p.usd) for p in self._credits(by) if p.usd is not None]

    def unpriced(self) -> dict[int, Decimal]:
        """Credits without a rate, per connection."""
        out: dict[int, Decimal] = defaultdict(Decimal)
        for priced in self._credits(()):
            if priced.unpriced_credits:
                out[priced.connection_id] += priced.unpriced_credits
        return out

    def _credits(self, by: tuple[str, ...]) -> list[PricedCredits]:
        priced = priced_credits(self.session, self.org_id, since=self.since, until=self.until, by=by)
        return [p for p in priced if self.connection_ids is None or p.connection_id in self.connection_ids]

    def tokens(self, *columns: Any) -> list[Any]:
        """Token sums over every usage stream that is not a second view of another."""
        statement = _priced(
            select(*columns, *_token_columns(self.basis)).where(UsageFact.stream.not_in(OVERLAPPING_STREAMS)),
            self.basis,
        )
        if columns:
            statement = statement.group_by(*columns)
        return list(self.session.execute(self.scope(statement, UsageFact)).all())

    def connection_names(self) -> dict[int, str]:
        rows = self.session.execute(
            select(Connection.id, Connection.name).where(Connection.org_id == self.org_id)
        )
        return {conn: name for conn, name in rows}

    def names(self, kind: str) -> dict[tuple[int, str], str]:
        rows = self.session.execute(
            select(DirectoryItem.connection_id, DirectoryItem.provider_id, DirectoryItem.name).where(
                DirectoryItem.org_id == self.org_id, DirectoryItem.kind == kind
            )
        )
        return {(conn, pid): name for conn, pid, name in rows}


class _Rows:
    """Rows keyed by an internal key, created on first touch."""

    def __init__(self) -> None:
        self.rows: dict[Any, SpendRow] = {}

    def get(self, internal: Any, key: str | None, label: str) -> SpendRow:
        row = self.rows.get(internal)
        if row is None:
            row = self.rows[internal] = SpendRow(key, label)
        return row


def _model_labels(query: _Query) -> dict[str, str]:
    labels: dict[str, str] = {}
    rows = query.session.execute(
        query.scope(select(CostFact.model, CostFact.description).distinct(), CostFact).where(
            CostFact.model != ""
        )
    )
    for model, description in rows:
        match = _DESCRIPTION_MODEL.match(description or "")
        if match and model not in labels:
            labels[model] = match.group("name")
    return labels


def _by_model(query: _Query, rows: _Rows) -> None:
    # The allocated split, not the cost lines: it names the models behind model-less lines.
    labels = _model_labels(query)
    for model, cost_type, amount in query.cost(
        AllocatedCost.model, AllocatedCost.cost_type, table=AllocatedCost
    ):
        key = model or cost_type or "other"
        label = labels.get(model, model) if model else NON_TOKEN_LABELS.get(cost_type, cost_type)
        rows.get(key, key, label).cost_usd += amount
    for _, _, usd in query.credits():
        rows.get(CODEX, CODEX, PRODUCT_LABELS[CODEX]).cost_usd += usd
    for model, *counts in query.tokens(UsageFact.model):
        if model or any(counts):
            key = model or "other"
            rows.get(key, key, labels.get(model, model) or NON_TOKEN_LABELS["other"]).add_tokens(counts)


def _by_dimension(
    query: _Query, rows: _Rows, cost_table: Any, column: str, kind: str, empty: str, grouping: str
) -> None:
    names = query.names(kind)
    connections = query.connection_names()
    lacking = query.lacking(grouping)

    def label(conn: int, value: str) -> str:
        if conn in lacking:
            return lacking[conn]
        if value and value not in SPECIAL_KEY_LABELS:
            return names.get((conn, value), value)
        text = SPECIAL_KEY_LABELS.get(value, empty)
        # Rows without a provider id exist once per connection; say whose each is.
        return f"{text} ({connections[conn]})" if len(connections) > 1 else text

    def row(conn: int, value: str) -> SpendRow:
        # A provider without this dimension is one row that says so, not rows of zeros.
        value = "" if conn in lacking else value
        return rows.get((conn, value), value or None, label(conn, value))

    for conn, value, amount in query.cost(
        cost_table.connection_id, getattr(cost_table, column), table=cost_table
    ):
        row(conn, value).cost_usd += amount
    for conn, value, *counts in query.tokens(UsageFact.connection_id, getattr(UsageFact, column)):
        row(conn, value).add_tokens(counts)
    for conn, _, usd in query.credits():
        # Seat plans have no workspace or API key: their money is the connection's row without one.
        row(conn, "").cost_usd += usd


def _by_provider(query: _Query, rows: _Rows) -> None:
    def label(provider: str) -> str:
        info = PROVIDERS.get(provider)
        return info.display_name if info else provider

    join = CostFact.connection_id == Connection.id
    statement = select(Connection.provider, func.sum(CostFact.amount_usd)).join(Connection, join)
    for provider, amount in query.session.execute(
        query.scope(statement.group_by(Connection.provider), CostFact)
    ):
        rows.get(provider, provider, label(provider)).cost_usd += amount
    statement = (
        select(Connection.provider, *_token_columns(query.basis))
        .join(Connection, UsageFact.connection_id == Connection.id)
        .where(UsageFact.stream.not_in(OVERLAPPING_STREAMS))
        .group_by(Connection.provider)
    )
    for provider, *counts in query.session.execute(query.scope(_priced(statement, query.basis), UsageFact)):
        rows.get(provider, provider, label(provider)).add_tokens(counts)
    providers = dict(query.session.execute(select(Connection.id, Connection.provider)).all())
    for conn, _, usd in query.credits():
        provider = providers[conn]
        rows.get(provider, provider, label(provider)).cost_usd += usd
    for conn, credits in query.unpriced().items():
        row = rows.get(providers[conn], providers[conn], label(providers[conn]))
        row.label += f" ({credits.normalize():,f} credits unpriced)"


def _by_product(query: _Query, rows: _Rows) -> None:
    def label(product: str) -> str:
        return PRODUCT_LABELS.get(product, product.replace("_", " ").capitalize())

    for product, amount in query.cost(CostFact.product):
        product = product or API_PRODUCT
        rows.get(product, product, label(product)).cost_usd += amount
    for product, *counts in query.tokens(UsageFact.product):
        product = product or API_PRODUCT
        rows.get(product, product, label(product)).add_tokens(counts)
    for _, _, usd in query.credits():
        rows.get(CODEX, CODEX, label(CODEX)).cost_usd += usd


def _by_period(query: _Query, rows: _Rows, monthly: bool) -> None:
    def key(day: date) -> str:
        return day.strftime("%Y-%m") if monthly else day.isoformat()

    def label(day: date) -> str:
        return day.strftime("%B %Y") if monthly else day.strftime("%a %d %b %Y")

    for day, amount in query.cost(CostFact.day):
        rows.get(key(day), key(day), label(day)).cost_usd += amount
    for day, *counts in query.tokens(UsageFact.day):
        rows.get(key(day), key(day), label(day)).add_tokens(counts)
    for _, (day_text,), usd in query.credits("day"):
        day = date.fromisoformat(day_text)
        rows.get(key(day), key(day), label(day)).cost_usd += usd


class _People:
    """Who a provider's user id is: keyed by email where known, so one person is one row."""

    def __init__(self, query: _Query) -> None:
        self.by_id: dict[tuple[int, str], tuple[str, str]] = {}
        self.names: dict[str, str] = {}
        rows = query.session.execute(
            select(
                DirectoryItem.connection_id,
                DirectoryItem.provider_id,
                DirectoryItem.name,
                DirectoryItem.attributes,
            ).where(DirectoryItem.org_id == query.org_id, DirectoryItem.kind == "user")
        )
        for conn, provider_id, name, attributes in rows:
            email = str((attributes or {}).get("email") or "").lower()
            key = email or provider_id
            self.by_id[(conn, provider_id)] = (key, name or key)
            if email and name:
                self.names[email] = name

    def who(self, conn: int, user: str) -> tuple[str, str]:
        if user.startswith("api_key:"):
            return user, f"API key {user.removeprefix('api_key:')}"
        key, name = self.by_id.get((conn, user), (user.lower() if "@" in user else user, ""))
        name = name or self.names.get(key, "")
        return key, (f"{name} <{key}>" if name and name != key and "@" in key else name or key)


def _by_user(query: _Query, rows: _Rows, total: SpendRow) -> None:
    """Cost attributed to people: reported or allocated per user, plus Claude Code's own estimates.

    The rest of the bill is one row, so the rows still add up to the total.
    """
    people = _People(query)
    attributed = SpendRow(None, "")

    def row(conn: int, user: str) -> SpendRow:
        key, label = people.who(conn, user)
        return rows.get(key, key, label or "Unknown user")

    for conn, user, amount in query.cost(
        AllocatedCost.connection_id, AllocatedCost.user_id, table=AllocatedCost
    ):
        if user:
            row(conn, user).cost_usd += amount
            attributed.cost_usd += amount
    for conn, user, *counts in query.tokens(UsageFact.connection_id, UsageFact.user_id):
        if user:
            row(conn, user).add_tokens(counts)
            attributed.add_tokens(counts)
    # Claude Enterprise's per-person cost report splits its organisation's bill by seat.
    statement = (
        select(CostFact.connection_id, CostFact.user_id, func.sum(CostFact.amount_usd))
        .where(CostFact.stream == ENTERPRISE_USER_COST, CostFact.user_id != "")
        .group_by(CostFact.connection_id, CostFact.user_id)
    )
    for conn, user, amount in query.session.execute(query.scope_days(statement, CostFact)):
        row(conn, user).cost_usd += amount
        attributed.cost_usd += amount
    for conn, (user,), usd in query.credits("user_id"):
        if user:
            row(conn, user).cost_usd += usd
            attributed.cost_usd += usd
    for conn, user, estimate, *counts in _claude_code_rows(query):
        target = row(conn, user)
        target.cost_usd += estimate
        target.add_tokens(counts)
        attributed.cost_usd += estimate
        attributed.add_tokens(counts)
    lacking = query.lacking("user")
    for conn, amount in query.cost(CostFact.connection_id):
        if conn in lacking:
            rows.get(("lacking", conn), None, lacking[conn]).cost_usd += amount
            attributed.cost_usd += amount
    for conn, *counts in query.tokens(UsageFact.connection_id):
        if conn in lacking:
            rows.get(("lacking", conn), None, lacking[conn]).add_tokens(counts)
            attributed.add_tokens(counts)
    rest = rows.get(UNATTRIBUTED, UNATTRIBUTED, SPECIAL_KEY_LABELS[UNATTRIBUTED])
    rest.cost_usd = total.cost_usd - attributed.cost_usd
    for name in (*TOKEN_FIELDS, "basis_usd"):
        setattr(rest, name, getattr(total, name) - getattr(attributed, name))


def _claude_code_rows(query: _Query) -> Iterable[Any]:
    """Claude Code's per-user estimates: part of a bill already counted, shown per person."""
    statement = (
        select(
            UsageFact.connection_id,
            UsageFact.user_id,
            func.sum(UsageFact.estimated_cost_usd),
            *_token_columns("reported"),
        )
        .where(UsageFact.stream == "claude_code")
        .group_by(UsageFact.connection_id, UsageFact.user_id)
    )
    return query.session.execute(query.scope(statement, UsageFact)).all()


def _total(query: _Query) -> SpendRow:
    total = SpendRow(None, "Total")
    for (amount,) in query.session.execute(query.scope(select(func.sum(CostFact.amount_usd)), CostFact)):
        total.cost_usd = amount or Decimal(0)
    for _, _, usd in query.credits():
        total.cost_usd += usd
    for counts in query.tokens():
        total.add_tokens(counts)
    return total


def _connection_ids(
    session: Session, org_id: int, connection_id: int | None, provider: str | None
) -> list[int] | None:
    if provider is None:
        return None if connection_id is None else [connection_id]
    statement = select(Connection.id).where(Connection.org_id == org_id, Connection.provider == provider)
    if connection_id is not None:
        statement = statement.where(Connection.id == connection_id)
    return list(session.scalars(statement))


def report_period(since: date | None, until: date | None, today: date) -> tuple[date, date]:
    """Inclusive UTC days of a report; by default the 30 complete days before ``today``."""
    last = until or today - timedelta(days=1)
    month = timedelta(days=29)
    first = since or (last - month if last - date.min >= month else date.min)
    if last < first:
        raise ValueError(f"until ({last}) is before since ({first})")
    return first, last


def spend_report(
    session: Session,
    org_id: int,
    *,
    by: Grouping,
    since: date,
    until: date,
    connection_id: int | None = None,
    provider: str | None = None,
    cost: CostBasis = "effective",
) -> SpendReport:
    """Spend for the inclusive UTC days ``[since, until]``, grouped ``by`` one dimension.

    ``connection_id`` or ``provider`` narrow it to one connection or one provider's. ``cost``
    is what the money is: ``reported`` (the providers' bills), ``list`` (usage at list price)
    or ``effective`` (the bills with the organisation's rate cards applied; where no card
    prices a fact, the reported cost stands).
    """
    if cost not in COST_BASES:
        raise ValueError(f"cost must be one of {', '.join(COST_BASES)}, not {cost!r}")
    if by not in GROUPINGS:
        raise ValueError(f"cannot group by {by!r}; choose one of {', '.join(GROUPINGS)}")
    if until < since:
        raise ValueError(f"--until {until} is before --since {since}")
    if provider is not None and provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; choose one of {', '.join(PROVIDERS)}")
    connections = _connection_ids(session, org_id, connection_id, provider)
    query = _Query(session, org_id, since, until, connections, cost)
    total = _total(query)
    rows = _Rows()
    if by == "model":
        _by_model(query, rows)
    elif by in ("workspace", "project"):
        # OpenAI's projects and Google Cloud's projects stand where Anthropic's workspaces do.
        _by_dimension(query, rows, CostFact, "workspace_id", "workspace", "Default", by)
    elif by == "api-key":
        _by_dimension(
            query, rows, AllocatedCost, "api_key_id", "api_key", "No API key (Console, Workbench)", by
        )
    elif by == "provider":
        _by_provider(query, rows)
    elif by == "product":
        _by_product(query, rows)
    elif by in ("day", "month"):
        _by_period(query, rows, monthly=by == "month")
    else:
        _by_user(query, rows, total)
    ordered = list(rows.rows.values())
    for row in (*ordered, total):
        row.settle(cost)
    if by in ("day", "month"):
        ordered.sort(key=lambda row: row.key or "")
    else:
        ordered.sort(key=lambda row: (-row.cost_usd, row.key or ""))
    unpriced = sum(query.unpriced().values(), Decimal(0))
    currencies = query.session.scalars(
        query.scope(select(CostFact.currency).distinct(), CostFact).where(CostFact.currency != "USD")
    )
    return SpendReport(
        by=by,
        since=since,
        until=until,
        rows=ordered,
        total=total,
        cost=cost,
        unpriced_credits=unpriced,
        converted_from=tuple(sorted(currencies)),
        warnings=tuple(unpriced_warnings(session, org_id, since, until, query.connection_ids)),
    )

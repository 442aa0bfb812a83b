"""The spend report: one query layer for the CLI, the JSON API and exports.

Cost comes from what the provider billed (cost facts), split per API key by the
stored allocation; tokens come from the usage report. Rows of every grouping add up
to the same total, to the billionth of a dollar, with or without filters
(``reports.dimensions.SpendFilters``): a filter narrows the cost source and the usage
alike, so the filtered total is the sum of its rows too.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final, Literal, get_args

from sqlalchemy import false, func, literal, select, tuple_, type_coerce
from sqlalchemy.orm import Session

from aispend.credit_rates import PricedCredits, priced_credits
from aispend.model import OVERLAPPING_STREAMS
from aispend.pricing.allocate import allocate
from aispend.pricing.catalog import list_price_per_mtok
from aispend.pricing.unpriced import unpriced_warnings
from aispend.providers.registry import PROVIDERS
from aispend.reports.dimensions import (
    ALLOCATED_DIMENSIONS,
    NON_TOKEN_LABELS,
    TOKEN_KIND_LABELS,
    TOKEN_KINDS,
    SpendFilters,
    cost_kind,
    cost_model_key,
    cost_tier,
    cost_tier_of,
    kind_of_cost,
    product_key,
    refuse_mixed,
    tier_label,
    tiered,
    usage_model_key,
    usage_tier,
    usage_tier_of,
    week_key,
    week_label,
)
from aispend.store.allocations import UNALLOCATED
from aispend.store.schema import (
    AllocatedCost,
    Connection,
    CostFact,
    DirectoryItem,
    FactPrice,
    RateCardVersion,
    UsageFact,
)
from aispend.store.types import Money

__all__ = [
    "COST_BASES",
    "GROUPINGS",
    "PERIODS",
    "UNATTRIBUTED",
    "CostBasis",
    "Grouping",
    "SpendFilters",
    "SpendReport",
    "SpendRow",
    "daily_spend_by_provider",
    "report_period",
    "spend_report",
    "spend_reports",
]

CostBasis = Literal["reported", "list", "effective"]
COST_BASES: Final[tuple[str, ...]] = get_args(CostBasis)
Grouping = Literal[
    "provider",
    "model",
    "workspace",
    "project",
    "api-key",
    "user",
    "product",
    "token-kind",
    "service-tier",
    "day",
    "week",
    "month",
]
GROUPINGS: Final[tuple[str, ...]] = get_args(Grouping)
PERIODS: Final = ("day", "week", "month")
TOKEN_FIELDS = ("input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens")
UNATTRIBUTED = "unattributed"
ENTERPRISE_USER_COST = "enterprise_user_cost"

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
# Usage stream of non-token usage -> the cost type its quantity is billed as (as the allocation).
_QUANTITY_KINDS = {
    "web_search_calls": "web_search",
    "file_search_calls": "file_search",
    "code_interpreter_sessions": "code_interpreter",
    "vector_stores": "vector_store",
    "images": "images",
    "audio_speeches": "audio_speech",
    "audio_transcriptions": "audio_transcription",
}
# Token kind -> the catalog's token types whose list prices weigh it (see ``_kind_split``).
_PRICED_KINDS = (
    ("input", "input"),
    ("cache-write", "cache_write_5m"),
    ("cache-write", "cache_write_1h"),
    ("cache-write", "cache_write"),
    ("cache-read", "cache_read"),
    ("output", "output"),
)


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
    # The filters that narrowed the report, by name (``SpendFilters.active``).
    filters: dict[str, str] = field(default_factory=dict)

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
        if self.filters:
            body["filters"] = dict(self.filters)
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
        filters: SpendFilters | None = None,
    ):
        self.basis = basis
        # The money the usage queries read: without any rate card every effective price is
        # empty and the effective adjustment is zero, so the join to fact_prices is skipped.
        self.usage_basis: CostBasis = basis
        if basis == "effective":
            carded = select(RateCardVersion.id).where(RateCardVersion.org_id == org_id).limit(1)
            self.usage_basis = "effective" if session.scalar(carded) is not None else "reported"
        self.session = session
        self.org_id = org_id
        self.since = since
        self.until = until
        self.connection_ids = connection_ids
        self.filters = filters or SpendFilters()
        # Model, API key and user exist only in the allocated split: it answers for cost then.
        self.cost_table: Any = AllocatedCost if self.filters.dimensions() & ALLOCATED_DIMENSIONS else CostFact
        connections = session.execute(
            select(Connection.id, Connection.name, Connection.provider).where(Connection.org_id == org_id)
        ).all()
        self.providers = {conn: provider for conn, _name, provider in connections}
        self._connection_names = {conn: name for conn, name, _provider in connections}
        # (connection, provider user id) pairs that are the filtered person (see ``narrow_to_person``).
        self.person: list[tuple[int, str]] = []
        self.people: _People | None = None
        # Read once however many groupings ask (``spend_reports`` answers several from one query).
        self._lacking: dict[str, dict[int, str]] = {}
        self._priced: dict[tuple[tuple[str, ...], tuple[int, ...] | None], list[PricedCredits]] = {}
        self._names: dict[str, dict[tuple[int, str], str]] = {}
        self._per_connection: tuple[dict[int, Decimal], list[Any]] | None = None
        # Token rows at a fine grain (``read_tokens_finely``), and the usage columns they keep.
        self._fine: tuple[tuple[str, ...], list[Any]] | None = None
        self._fine_cost: tuple[tuple[str, ...], list[Any]] | None = None

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
        return statement.where(*self.conditions(table))

    def conditions(self, table: Any) -> list[Any]:
        """The filters, as conditions on ``table`` (each table answers the dimensions it holds).

        A token-kind filter narrows cost lines here; usage keeps its rows and ``tokens`` keeps
        only that kind's tokens and money.
        """
        f = self.filters
        out: list[Any] = []
        if f.workspace:
            out.append(table.workspace_id == f.workspace)
        if table is UsageFact:
            if f.model:
                out.append(usage_model_key() == f.model)
            if f.api_key:
                out.append(UsageFact.api_key_id == f.api_key)
            if f.user:
                out.append(self._person(UsageFact))
            if f.product:
                out.append(product_key(UsageFact) == f.product)
            if f.service_tier:
                out.append(usage_tier(self.tiered()) == f.service_tier)
        elif table is AllocatedCost:
            if f.model:
                out.append(cost_model_key(AllocatedCost) == f.model)
            if f.api_key:
                out.append(AllocatedCost.api_key_id == f.api_key)
            if f.user:
                out.append(self._person(AllocatedCost))
            if f.token_kind:
                out.append(cost_kind(AllocatedCost) == f.token_kind)
        elif table is CostFact:
            if f.product:
                out.append(product_key(CostFact) == f.product)
            if f.service_tier:
                out.append(cost_tier(self.tiered()) == f.service_tier)
            if f.token_kind:
                out.append(cost_kind(CostFact) == f.token_kind)
        return out

    def tiered(self) -> list[int]:
        """Connections whose provider leaves the standard tier unnamed."""
        return [conn for conn, provider in self.providers.items() if tiered(provider)]

    def _person(self, table: Any) -> Any:
        if not self.person:
            return false()
        return tuple_(table.connection_id, table.user_id).in_(self.person)

    def narrow_to_person(self) -> None:
        """Resolve the user filter (a person's row key) to the provider user ids that are that person."""
        people = self.people = _People(self)
        found: set[tuple[int, str]] = set()
        for table in (AllocatedCost, UsageFact):
            statement = (
                select(table.connection_id, table.user_id)
                .distinct()
                .where(
                    table.org_id == self.org_id,
                    table.day >= self.since,
                    table.day <= self.until,
                    table.user_id != "",
                )
            )
            for conn, user in self.session.execute(statement):
                if people.who(conn, user)[0] == self.filters.user:
                    found.add((conn, user))
        self.person = sorted(found)

    def cost(self, *columns: Any, table: Any = None) -> list[Any]:
        table = self.cost_table if table is None else table
        names = tuple(column.key for column in columns)
        fine = self._fine_cost
        if fine is not None and table is CostFact and set(names) <= set(fine[0]):
            return _regroup(fine, names)
        return self._read_cost(columns, table)

    def read_cost_finely(self, *columns: Any) -> None:
        """Read cost lines once by ``columns``; ``cost`` of the lines by any of them sums these."""
        if self.cost_table is CostFact:
            self._fine_cost = tuple(column.key for column in columns), self._read_cost(columns, CostFact)

    def _read_cost(self, columns: Sequence[Any], table: Any) -> list[Any]:
        statement = select(*columns, func.sum(table.amount_usd)).group_by(*columns)
        return list(self.session.execute(self.scope(statement, table)).all())

    def currencies(self) -> tuple[str, ...]:
        """Billing currencies other than USD among the cost lines (converted to USD in reports)."""
        if self._fine_cost is not None and "currency" in self._fine_cost[0]:
            found = {currency for currency, _ in _regroup(self._fine_cost, ("currency",))}
        else:
            found = set(self.session.scalars(self.scope(select(CostFact.currency).distinct(), CostFact)))
        return tuple(sorted(found - {"USD"}))

    def lacking(self, grouping: str) -> dict[int, str]:
        """Connections whose provider cannot be grouped this way, with the row label that says so."""
        if grouping not in self._lacking:
            what = {"api-key": "API keys", "user": "users"}.get(grouping, grouping)
            self._lacking[grouping] = {
                conn: f"{PROVIDERS[provider].display_name} reports no {what} ({name})"
                for conn, name in self.connection_names().items()
                if (provider := self.providers[conn]) in PROVIDERS and grouping in PROVIDERS[provider].lacks
            }
        return self._lacking[grouping]

    def credits_apply(self) -> bool:
        """Whether seat-plan credits (Codex) can match the filters: they have no workspace,
        API key or tier; their model, product and kind are ``codex``."""
        f = self.filters
        if f.workspace or f.api_key or f.service_tier:
            return False
        return all(value in (None, CODEX) for value in (f.model, f.product, f.token_kind))

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
        if not self.credits_apply():
            return []
        key = (by, None if self.connection_ids is None else tuple(self.connection_ids))
        if key not in self._priced:
            self._priced[key] = self._read_credits(by)
        return self._priced[key]

    def _read_credits(self, by: tuple[str, ...]) -> list[PricedCredits]:
        person = ("user_id",) if self.filters.user else ()
        priced = priced_credits(
            self.session, self.org_id, since=self.since, until=self.until, by=(*by, *person)
        )
        out = []
        for p in priced:
            if self.connection_ids is not None and p.connection_id not in self.connection_ids:
                continue
            if person:
                assert self.people is not None
                if self.people.who(p.connection_id, p.key[-1])[0] != self.filters.user:
                    continue
                p = replace(p, key=p.key[: len(by)])
            out.append(p)
        return out

    def tokens(self, *columns: Any) -> list[Any]:
        """Token sums over every usage stream that is not a second view of another.

        Under a token-kind filter, only that kind's tokens and its share of the usage's money.
        """
        kind = self.filters.token_kind
        if kind:
            return [
                (*key, *counts, money)
                for (key, found), (counts, money) in self.kind_tokens(*columns).items()
                if found == kind
            ]
        names = tuple(column.key for column in columns)
        if self._fine is not None and set(names) <= set(self._fine[0]):
            return _regroup(self._fine, names)
        return self._read_tokens(columns)

    def read_tokens_finely(self, *columns: Any) -> None:
        """Read token rows once by ``columns``; ``tokens`` by any of them then sums these rows."""
        if not self.filters.token_kind:
            self._fine = tuple(column.key for column in columns), self._read_tokens(columns)

    def _read_tokens(self, columns: Sequence[Any]) -> list[Any]:
        statement = _priced(
            select(*columns, *_token_columns(self.usage_basis)).where(
                UsageFact.stream.not_in(OVERLAPPING_STREAMS)
            ),
            self.usage_basis,
        )
        if columns:
            statement = statement.group_by(*columns)
        return list(self.session.execute(self.scope(statement, UsageFact)).all())

    def kind_tokens(self, *columns: Any) -> dict[tuple[tuple[Any, ...], str], tuple[list[int], Decimal]]:
        """Usage per ``columns`` and token kind: each kind's tokens, and its part of the money.

        A usage fact's list (or rate-card) money is stored whole, not per kind, so it is split
        over its kinds in proportion to their list prices on its day (largest remainder, so the
        parts add up exactly); non-token usage is its own kind (``web_search``...).
        """
        out: dict[tuple[tuple[Any, ...], str], tuple[list[int], Decimal]] = {}

        def add(key: tuple[Any, ...], kind: str, index: int | None, count: int, money: Decimal) -> None:
            counts, before = out.get((key, kind), ([0, 0, 0, 0], Decimal(0)))
            if index is not None:
                counts[index] += count
            out[(key, kind)] = counts, before + money

        n = len(columns)
        # Each fact's money is split on its own (its id is in the group), so a kind's share is
        # the same whatever the grouping: rows and the total add up to the billionth.
        detail = (
            UsageFact.connection_id,
            UsageFact.day,
            UsageFact.model,
            UsageFact.stream,
            UsageFact.unit,
            UsageFact.id,
        )
        priced = self.usage_basis != "reported"
        sums = [
            func.sum(getattr(UsageFact, name))
            for name in (
                "input_tokens",
                "cache_write_5m_tokens",
                "cache_write_1h_tokens",
                "cache_write_other_tokens",
                "cache_read_tokens",
                "output_tokens",
            )
        ]
        money = _token_columns(self.usage_basis)[-1]
        group = (*columns, *detail) if priced else columns
        statement = _priced(
            select(*group, *sums, money).where(UsageFact.stream.not_in(OVERLAPPING_STREAMS)),
            self.usage_basis,
        )
        if group:
            statement = statement.group_by(*group)
        for row in self.session.execute(self.scope(statement, UsageFact)):
            key = tuple(row[:n])
            tokens = [int(value or 0) for value in row[len(group) : len(group) + 6]]
            by_kind = dict(zip(TOKEN_KINDS, (tokens[0], sum(tokens[1:4]), tokens[4], tokens[5]), strict=True))
            for index, kind in enumerate(TOKEN_KINDS):
                if by_kind[kind]:
                    add(key, kind, index, by_kind[kind], Decimal(0))
            amount = Decimal(row[-1] or 0)
            if not amount:
                continue
            conn, day, model, stream, unit = row[n : n + 5]
            if unit:
                add(key, _QUANTITY_KINDS.get(stream, "other"), None, 0, amount)
                continue
            for kind, share in _kind_split(self.providers.get(conn, ""), model, day, tokens, amount).items():
                add(key, kind, None, 0, share)
        return out

    def per_connection(self) -> tuple[dict[int, Decimal], list[Any]]:
        """Cost per connection, and token rows ``(connection, *counts)``: the total's parts."""
        if self._per_connection is None:
            cost = {conn: amount for conn, amount in self.cost(self.cost_table.connection_id)}
            self._per_connection = cost, self.tokens(UsageFact.connection_id)
        return self._per_connection

    def connection_names(self) -> dict[int, str]:
        return self._connection_names

    def names(self, kind: str) -> dict[tuple[int, str], str]:
        if kind not in self._names:
            rows = self.session.execute(
                select(DirectoryItem.connection_id, DirectoryItem.provider_id, DirectoryItem.name).where(
                    DirectoryItem.org_id == self.org_id, DirectoryItem.kind == kind
                )
            )
            self._names[kind] = {(conn, pid): name for conn, pid, name in rows}
        return self._names[kind]


def _regroup(fine: tuple[tuple[str, ...], list[Any]], names: tuple[str, ...]) -> list[Any]:
    """Rows of ``fine`` (its columns, then sums) summed by the columns ``names``, a subset of its own."""
    kept, rows = fine
    index = [kept.index(name) for name in names]
    out: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        key = tuple(row[i] for i in index)
        values = row[len(kept) :]
        sums = out.setdefault(key, [0] * len(values))
        for n, value in enumerate(values):
            sums[n] += value or 0
    return [(*key, *sums) for key, sums in out.items()]


def _kind_split(
    provider: str, model: str, day: date, tokens: list[int], amount: Decimal
) -> dict[str, Decimal]:
    """``amount`` over a usage group's token kinds, weighted by tokens times list price."""
    counts = dict(zip((token_type for _, token_type in _PRICED_KINDS), tokens, strict=True))
    weights: dict[str, int] = defaultdict(int)
    plain: dict[str, int] = defaultdict(int)
    for kind, token_type in _PRICED_KINDS:
        count = counts[token_type]
        plain[kind] += count
        price = list_price_per_mtok(provider, model, token_type, day) if count else None
        if price is not None:
            # Whole billionths of a dollar: exact integers for allocate().
            weights[kind] += int(count * price * 1000)
    for chosen in (weights, plain):
        if any(value > 0 for value in chosen.values()):
            return allocate(amount, {kind: max(value, 0) for kind, value in chosen.items()})
    # Money with no tokens to carry it (web search requests only): its own row.
    return {"other": amount}


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
    query: _Query, rows: _Rows, cost_table: Any | None, column: str, kind: str, empty: str, grouping: str
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

    cost_table = cost_table or query.cost_table
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
    def row(conn: int) -> SpendRow:
        provider = query.providers[conn]
        info = PROVIDERS.get(provider)
        return rows.get(provider, provider, info.display_name if info else provider)

    cost, tokens = query.per_connection()
    for conn, amount in cost.items():
        row(conn).cost_usd += amount
    for conn, *counts in tokens:
        row(conn).add_tokens(counts)
    for conn, _, usd in query.credits():
        row(conn).cost_usd += usd
    for conn, credits in query.unpriced().items():
        row(conn).label += f" ({credits.normalize():,f} credits unpriced)"


def _by_product(query: _Query, rows: _Rows) -> None:
    def label(product: str) -> str:
        return PRODUCT_LABELS.get(product, product.replace("_", " ").capitalize())

    for product, amount in query.cost(CostFact.product, table=CostFact):
        product = product or API_PRODUCT
        rows.get(product, product, label(product)).cost_usd += amount
    for product, *counts in query.tokens(UsageFact.product):
        product = product or API_PRODUCT
        rows.get(product, product, label(product)).add_tokens(counts)
    for _, _, usd in query.credits():
        rows.get(CODEX, CODEX, label(CODEX)).cost_usd += usd


_PERIOD_KEYS: dict[str, tuple[Callable[[date], str], Callable[[date], str]]] = {
    "day": (date.isoformat, lambda day: day.strftime("%a %d %b %Y")),
    "week": (week_key, week_label),
    "month": (lambda day: day.strftime("%Y-%m"), lambda day: day.strftime("%B %Y")),
}


def _by_period(query: _Query, rows: _Rows, period: str) -> None:
    key, label = _PERIOD_KEYS[period]
    for day, amount in query.cost(query.cost_table.day):
        rows.get(key(day), key(day), label(day)).cost_usd += amount
    for day, *counts in query.tokens(UsageFact.day):
        rows.get(key(day), key(day), label(day)).add_tokens(counts)
    for _, (day_text,), usd in query.credits("day"):
        day = date.fromisoformat(day_text)
        rows.get(key(day), key(day), label(day)).cost_usd += usd


def _kind_label(kind: str) -> str:
    if kind == CODEX:
        return PRODUCT_LABELS[CODEX]
    return TOKEN_KIND_LABELS.get(kind) or NON_TOKEN_LABELS.get(kind) or kind.replace("_", " ").capitalize()


def _by_token_kind(query: _Query, rows: _Rows) -> None:
    """Cost by the kind its line bills; each kind's tokens, so a row's tokens are of its kind."""
    table = query.cost_table
    for token_type, cost_type, amount in query.cost(table.token_type, table.cost_type):
        kind = kind_of_cost(token_type, cost_type)
        rows.get(kind, kind, _kind_label(kind)).cost_usd += amount
    for ((), kind), (counts, money) in query.kind_tokens().items():
        if query.filters.token_kind in (None, kind):
            rows.get(kind, kind, _kind_label(kind)).add_tokens([*counts, money])
    for _, _, usd in query.credits():
        rows.get(CODEX, CODEX, _kind_label(CODEX)).cost_usd += usd


def _by_service_tier(query: _Query, rows: _Rows) -> None:
    """Cost by the tier its line was billed in, tokens by the tier they ran in.

    Where a provider names no tier (tool and storage lines, seat plans), its connection has
    one row that says so, never a zero row per tier.
    """
    names = query.connection_names()

    def row(conn: int, tier: str) -> SpendRow:
        if tier:
            return rows.get(tier, tier, tier_label(tier))
        return rows.get(("none", conn), None, f"No service tier reported ({names[conn]})")

    for conn, tier, token_type, amount in query.cost(
        CostFact.connection_id, CostFact.service_tier, CostFact.token_type, table=CostFact
    ):
        row(conn, cost_tier_of(tier, token_type, query.providers.get(conn, ""))).cost_usd += amount
    for conn, tier, batch, *counts in query.tokens(
        UsageFact.connection_id, UsageFact.service_tier, UsageFact.batch
    ):
        row(conn, usage_tier_of(tier, batch, query.providers.get(conn, ""))).add_tokens(counts)
    for conn, _, usd in query.credits():
        row(conn, "").cost_usd += usd


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
    people = query.people or _People(query)
    # A provider without users is one row that says so (below), whatever ids its facts carry.
    lacking = query.lacking("user")
    attributed = SpendRow(None, "")
    # Second views (Claude Enterprise's per-seat cost, Claude Code's estimates) describe bills
    # counted elsewhere and cannot be narrowed like them: only an unfiltered report shows them.
    whole = not query.filters.active()

    def row(conn: int, user: str) -> SpendRow:
        key, label = people.who(conn, user)
        return rows.get(key, key, label or "Unknown user")

    for conn, user, amount in query.cost(
        AllocatedCost.connection_id, AllocatedCost.user_id, table=AllocatedCost
    ):
        if user and conn not in lacking:
            row(conn, user).cost_usd += amount
            attributed.cost_usd += amount
    for conn, user, *counts in query.tokens(UsageFact.connection_id, UsageFact.user_id):
        if user and conn not in lacking:
            row(conn, user).add_tokens(counts)
            attributed.add_tokens(counts)
    # Claude Enterprise's per-person cost report splits its organisation's bill by seat.
    statement = (
        select(CostFact.connection_id, CostFact.user_id, func.sum(CostFact.amount_usd))
        .where(CostFact.stream == ENTERPRISE_USER_COST, CostFact.user_id != "")
        .group_by(CostFact.connection_id, CostFact.user_id)
    )
    for conn, user, amount in query.session.execute(query.scope_days(statement, CostFact)) if whole else ():
        row(conn, user).cost_usd += amount
        attributed.cost_usd += amount
    for conn, (user,), usd in query.credits("user_id"):
        if user:
            row(conn, user).cost_usd += usd
            attributed.cost_usd += usd
    for conn, user, estimate, *counts in _claude_code_rows(query) if whole else ():
        target = row(conn, user)
        target.cost_usd += estimate
        target.add_tokens(counts)
        attributed.cost_usd += estimate
        attributed.add_tokens(counts)
    cost, tokens = query.per_connection()
    for conn, amount in cost.items():
        if conn in lacking:
            rows.get(("lacking", conn), None, lacking[conn]).cost_usd += amount
            attributed.cost_usd += amount
    for conn, *counts in tokens:
        if conn in lacking:
            rows.get(("lacking", conn), None, lacking[conn]).add_tokens(counts)
            attributed.add_tokens(counts)
    rest = SpendRow(UNATTRIBUTED, SPECIAL_KEY_LABELS[UNATTRIBUTED])
    rest.cost_usd = total.cost_usd - attributed.cost_usd
    for name in (*TOKEN_FIELDS, "basis_usd"):
        setattr(rest, name, getattr(total, name) - getattr(attributed, name))
    if whole or any(getattr(rest, name) for name in ("cost_usd", *TOKEN_FIELDS, "basis_usd")):
        # A filtered report has no zero remainder row: nothing is left to attribute.
        rows.rows[UNATTRIBUTED] = rest


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
    cost, tokens = query.per_connection()
    total.cost_usd = sum(cost.values(), Decimal(0))
    for _, _, usd in query.credits():
        total.cost_usd += usd
    for _conn, *counts in tokens:
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


def _filter_warnings(query: _Query) -> list[dict[str, Any]]:
    """Leave out connections whose provider lacks a filtered dimension; a warning names each."""
    warnings: list[dict[str, Any]] = []
    names = query.connection_names()
    in_scope = query.connection_ids if query.connection_ids is not None else sorted(names)
    excluded: set[int] = set()
    for name, value in query.filters.active().items():
        for conn, why in query.lacking(name.replace("_", "-")).items():
            if conn in in_scope and conn not in excluded and _has_facts(query, conn):
                warnings.append(
                    {
                        "code": "filter_excludes_connection",
                        "filter": name,
                        "connection": names[conn],
                        "provider": query.providers[conn],
                        "message": f"{why}: its spend is left out of this report, "
                        f"which is filtered to {name.replace('_', ' ')} {value!r}.",
                    }
                )
            excluded.add(conn)
    if excluded:
        query.connection_ids = [conn for conn in in_scope if conn not in excluded]
    return warnings


def _has_facts(query: _Query, conn: int) -> bool:
    for table in (CostFact, UsageFact):
        found = query.session.scalar(
            select(table.id)
            .where(
                table.org_id == query.org_id,
                table.connection_id == conn,
                table.day >= query.since,
                table.day <= query.until,
            )
            .limit(1)
        )
        if found is not None:
            return True
    return False


def _second_view_warning(query: _Query) -> list[dict[str, Any]]:
    """By user with filters: say that per-seat cost and Claude Code estimates are not shown."""
    for stream, table in ((ENTERPRISE_USER_COST, CostFact), ("claude_code", UsageFact)):
        statement = select(table.id).where(table.stream == stream).limit(1)
        if query.session.scalar(query.scope_days(statement, table)) is not None:
            return [
                {
                    "code": "second_views_left_out",
                    "message": "Claude Enterprise's per-seat cost and Claude Code's per-person estimates "
                    "describe bills counted elsewhere and cannot be filtered like them: with a filter, "
                    "users are credited only with the cost allocated to them.",
                }
            ]
    return []


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
    filters: SpendFilters | None = None,
) -> SpendReport:
    """Spend for the inclusive UTC days ``[since, until]``, grouped ``by`` one dimension.

    ``connection_id`` or ``provider`` narrow it to one connection or one provider's. ``cost``
    is what the money is: ``reported`` (the providers' bills), ``list`` (usage at list price)
    or ``effective`` (the bills with the organisation's rate cards applied; where no card
    prices a fact, the reported cost stands).

    ``filters`` narrow cost and tokens alike to one value of any other dimensions; the rows
    still add up to the (filtered) total. A connection whose provider has no such dimension
    (Google Cloud has no API keys) is left out, and ``warnings`` say so. Model, API key and
    user cannot be combined with service tier or product (``dimensions.refuse_mixed``).
    """
    [report] = spend_reports(
        session,
        org_id,
        by=[by],
        since=since,
        until=until,
        connection_id=connection_id,
        provider=provider,
        cost=cost,
        filters=filters,
    )
    return report


def spend_reports(
    session: Session,
    org_id: int,
    *,
    by: Sequence[Grouping],
    since: date,
    until: date,
    connection_id: int | None = None,
    provider: str | None = None,
    cost: CostBasis = "effective",
    filters: SpendFilters | None = None,
) -> list[SpendReport]:
    """:func:`spend_report` for several groupings of the same spend, in ``by``'s order.

    What the groupings share (the total, names, credits, warnings) is read once: the Overview
    shows four groupings for the price of little more than one.
    """
    filters = filters or SpendFilters()
    query = _query(session, org_id, by, since, until, connection_id, provider, cost, filters)
    notes = _filter_warnings(query)
    if filters.user:
        query.narrow_to_person()
    if len(by) > 1:
        # One read of the usage serves every grouping's tokens (the Overview's four).
        query.read_tokens_finely(*_FINE_USAGE)
        query.read_cost_finely(CostFact.connection_id, CostFact.workspace_id, CostFact.currency)
    total = _total(query)
    grouped = [(grouping, _rows_by(query, grouping, total)) for grouping in by]
    total.settle(cost)
    unpriced = sum(query.unpriced().values(), Decimal(0))
    currencies = query.currencies()
    warnings = (*unpriced_warnings(session, org_id, since, until, query.connection_ids), *notes)
    second_views = _second_view_warning(query) if "user" in by and filters.active() else []
    return [
        SpendReport(
            by=grouping,
            since=since,
            until=until,
            rows=rows,
            total=total,
            cost=cost,
            unpriced_credits=unpriced,
            converted_from=currencies,
            warnings=(*warnings, *second_views) if grouping == "user" else warnings,
            filters=filters.active(),
        )
        for grouping, rows in grouped
    ]


_FINE_USAGE = (
    UsageFact.connection_id,
    UsageFact.model,
    UsageFact.workspace_id,
    UsageFact.api_key_id,
    UsageFact.user_id,
)


def _query(
    session: Session,
    org_id: int,
    by: Sequence[str],
    since: date,
    until: date,
    connection_id: int | None,
    provider: str | None,
    cost: CostBasis,
    filters: SpendFilters,
) -> _Query:
    """The checked request, as the query that answers it; a ``ValueError`` says what is wrong."""
    if cost not in COST_BASES:
        raise ValueError(f"cost must be one of {', '.join(COST_BASES)}, not {cost!r}")
    for grouping in by:
        if grouping not in GROUPINGS:
            raise ValueError(f"cannot group by {grouping!r}; choose one of {', '.join(GROUPINGS)}")
        refuse_mixed(grouping, filters)
    if until < since:
        raise ValueError(f"--until {until} is before --since {since}")
    if provider is not None and provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; choose one of {', '.join(PROVIDERS)}")
    connections = _connection_ids(session, org_id, connection_id, provider)
    return _Query(session, org_id, since, until, connections, cost, filters)


def _rows_by(query: _Query, by: str, total: SpendRow) -> list[SpendRow]:
    """One grouping's rows, settled on the query's cost basis and in the report's order.

    ``total`` must not be settled yet: the by-user remainder is taken from it.
    """
    rows = _Rows()
    if by == "model":
        _by_model(query, rows)
    elif by in ("workspace", "project"):
        # OpenAI's projects and Google Cloud's projects stand where Anthropic's workspaces do.
        _by_dimension(query, rows, None, "workspace_id", "workspace", "Default", by)
    elif by == "api-key":
        _by_dimension(
            query, rows, AllocatedCost, "api_key_id", "api_key", "No API key (Console, Workbench)", by
        )
    elif by == "provider":
        _by_provider(query, rows)
    elif by == "product":
        _by_product(query, rows)
    elif by == "token-kind":
        _by_token_kind(query, rows)
    elif by == "service-tier":
        _by_service_tier(query, rows)
    elif by in PERIODS:
        _by_period(query, rows, by)
    else:
        _by_user(query, rows, total)
    ordered = list(rows.rows.values())
    for row in ordered:
        row.settle(query.basis)
    if by in PERIODS:
        ordered.sort(key=lambda row: row.key or "")
    else:
        ordered.sort(key=lambda row: (-row.cost_usd, row.key or ""))
    return ordered


def daily_spend_by_provider(
    session: Session, org_id: int, *, since: date, until: date, cost: CostBasis = "effective"
) -> dict[str, dict[date, Decimal]]:
    """Each provider's spend per day of ``[since, until]`` (days without spend left out).

    The same money as ``spend_report(by="day", provider=...)`` for every provider at once.
    """
    query = _query(session, org_id, (), since, until, None, None, cost, SpendFilters())
    rows: dict[tuple[str, date], SpendRow] = {}

    def row(conn: int, day: date) -> SpendRow:
        return rows.setdefault((query.providers[conn], day), SpendRow(None, ""))

    for conn, day, amount in query.cost(CostFact.connection_id, CostFact.day):
        row(conn, day).cost_usd += amount
    # Only the usage's money matters here: none without a rate card (or on the reported basis).
    for conn, day, *counts in (
        query.tokens(UsageFact.connection_id, UsageFact.day) if query.usage_basis != "reported" else ()
    ):
        row(conn, day).add_tokens(counts)
    for conn, (day_text,), usd in query.credits("day"):
        row(conn, date.fromisoformat(day_text)).cost_usd += usd
    out: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for (provider, day), spent in rows.items():
        spent.settle(cost)
        out[provider][day] = spent.cost_usd
    return dict(out)

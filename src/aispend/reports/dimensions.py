"""The spend report's dimensions: filters, token kinds, service tiers and ISO weeks.

A filter narrows a report to one value of one dimension. Each is answered by the columns
of the fact tables that hold that dimension, as the same SQL expression the report groups
by, so a row of a grouping and the report filtered by that row's key hold the same facts.

Two families of dimension cannot be combined. Model, API key and user come from the stored
allocation of reported cost (``allocated_costs``, split down to key, user and model), which
keeps no service tier or product; service tier and product come from the cost lines
themselves. Mixing the two would need a split that is not stored, so it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any, Final

from sqlalchemy import and_, case, or_

from aispend.store.schema import AllocatedCost, CostFact, UsageFact

__all__ = [
    "ALLOCATED_DIMENSIONS",
    "FILTER_DIMENSIONS",
    "LINE_DIMENSIONS",
    "NON_TOKEN_LABELS",
    "SERVICE_TIER_LABELS",
    "TOKEN_KINDS",
    "TOKEN_KIND_LABELS",
    "SpendFilters",
    "cost_kind",
    "cost_model_key",
    "cost_tier",
    "cost_tier_of",
    "kind_of_cost",
    "product_key",
    "refuse_mixed",
    "tier_label",
    "tiered",
    "usage_model_key",
    "usage_tier",
    "usage_tier_of",
    "week_key",
    "week_label",
]

TOKEN_KINDS: Final = ("input", "cache-write", "cache-read", "output")
TOKEN_KIND_LABELS: Final = {
    "input": "Input tokens",
    "cache-write": "Cache write tokens",
    "cache-read": "Cache read tokens",
    "output": "Output tokens",
    # A token line whose kind the provider did not name.
    "tokens": "Tokens of an unnamed kind",
}
NON_TOKEN_LABELS: Final = {
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
SERVICE_TIER_LABELS: Final = {
    "standard": "Standard",
    "batch": "Batch",
    "priority": "Priority",
    "flex": "Flex",
    "scale": "Scale",
}
# Cost token_type -> token kind. Audio and image parts count inside input and output tokens.
_KIND_OF_TOKEN_TYPE: Final = {
    "input": "input",
    "input_audio": "input",
    "input_image": "input",
    "cache_write": "cache-write",
    "cache_write_5m": "cache-write",
    "cache_write_1h": "cache-write",
    "cache_read": "cache-read",
    "output": "output",
    "output_audio": "output",
    "output_image": "output",
}
# Providers whose reports name every tier but standard (the connectors' ``billed_tiers``):
# a token line or usage there without a tier is standard.
_STANDARD_WHEN_UNNAMED: Final = frozenset({"openai", "gcp"})

ALLOCATED_DIMENSIONS: Final = frozenset({"model", "api-key", "user"})
"""Dimensions answered by the allocated split of cost (``allocated_costs``)."""
LINE_DIMENSIONS: Final = frozenset({"service-tier", "product"})
"""Dimensions answered only by the cost lines, which the allocated split does not keep."""


@dataclass(frozen=True, slots=True)
class SpendFilters:
    """One value per dimension to narrow a spend report to; None (or ``""``) leaves it open.

    Values are the keys the report's rows carry: a model id (or a by-model row key such as
    ``web_search``), a workspace or project id, an API key id, a person's e-mail or user id,
    a product (``api``, ``claude_code``, ``codex``...), a service tier (``standard``,
    ``batch``...) or a token kind (``input``, ``cache-write``, ``cache-read``, ``output``, or a
    non-token cost type such as ``web_search``).
    """

    model: str | None = None
    workspace: str | None = None
    api_key: str | None = None
    user: str | None = None
    product: str | None = None
    service_tier: str | None = None
    token_kind: str | None = None

    def active(self) -> dict[str, str]:
        """The filters that narrow, by name (``api_key``...), in declaration order."""
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name))}

    def dimensions(self) -> set[str]:
        """The active filters as grouping names (``api-key``, ``service-tier``...)."""
        return {name.replace("_", "-") for name in self.active()}


FILTER_DIMENSIONS: Final = tuple(f.name for f in fields(SpendFilters))


def refuse_mixed(by: str, filters: SpendFilters) -> None:
    """Refuse a grouping and filters that need both the allocated split and the cost lines."""
    asked = {by} | filters.dimensions()
    # Workspace and project name the same column; the rest are not part of either family.
    allocated, lines = sorted(asked & ALLOCATED_DIMENSIONS), sorted(asked & LINE_DIMENSIONS)
    if allocated and lines:
        raise ValueError(
            f"cannot combine {', '.join(allocated)} with {', '.join(lines)}: cost is split to "
            f"{', '.join(allocated)} by the stored allocation, which keeps no {', '.join(lines)}; "
            "group or filter by one of them at a time"
        )


def cost_kind(table: Any) -> Any:
    """SQL: the token kind of a cost line (``input``...), else its cost type (``web_search``...)."""
    whens = [
        (table.token_type.in_([t for t, k in _KIND_OF_TOKEN_TYPE.items() if k == kind]), kind)
        for kind in TOKEN_KINDS
    ]
    return case(
        *whens,
        (table.cost_type.in_(("", "other")), "other"),
        else_=table.cost_type,
    )


def cost_model_key(table: Any = AllocatedCost) -> Any:
    """SQL: the by-model row key of an allocated cost (its model, else its cost type)."""
    return case(
        (table.model != "", table.model),
        (table.cost_type != "", table.cost_type),
        else_="other",
    )


def usage_model_key() -> Any:
    """SQL: the by-model row key of usage (its model, else ``other``)."""
    return case((UsageFact.model != "", UsageFact.model), else_="other")


def product_key(table: Any) -> Any:
    """SQL: the by-product row key (``api`` where no product is named)."""
    return case((table.product != "", table.product), else_="api")


def cost_tier(tiered_connections: list[int]) -> Any:
    """SQL: a cost line's service tier; ``""`` where its provider names none."""
    token_line = CostFact.token_type.in_(tuple(_KIND_OF_TOKEN_TYPE))
    return case(
        (CostFact.service_tier == "default", "standard"),
        (
            and_(
                CostFact.service_tier == "",
                token_line,
                CostFact.connection_id.in_(tiered_connections or [-1]),
            ),
            "standard",
        ),
        else_=CostFact.service_tier,
    )


def usage_tier(tiered_connections: list[int]) -> Any:
    """SQL: a usage fact's service tier (OpenAI's Batch API flag is the batch tier)."""
    return case(
        (or_(UsageFact.batch == "true", UsageFact.service_tier == "batch"), "batch"),
        (UsageFact.service_tier == "default", "standard"),
        (
            and_(UsageFact.service_tier == "", UsageFact.connection_id.in_(tiered_connections or [-1])),
            "standard",
        ),
        else_=UsageFact.service_tier,
    )


def tiered(provider: str) -> bool:
    """Whether a token line of ``provider``'s cost report without a tier is standard."""
    return provider in _STANDARD_WHEN_UNNAMED


# The same rules in Python, for grouping (the SQL above is for filtering): one definition
# each, and tests/reports check that a row and the report filtered by its key agree.


def kind_of_cost(token_type: str, cost_type: str) -> str:
    """The token kind of a cost line, else its cost type (as :func:`cost_kind`)."""
    kind = _KIND_OF_TOKEN_TYPE.get(token_type)
    if kind:
        return kind
    return "other" if cost_type in ("", "other") else cost_type


def cost_tier_of(service_tier: str, token_type: str, provider: str) -> str:
    """A cost line's service tier (as :func:`cost_tier`)."""
    if service_tier == "default":
        return "standard"
    if not service_tier and token_type in _KIND_OF_TOKEN_TYPE and tiered(provider):
        return "standard"
    return service_tier


def usage_tier_of(service_tier: str, batch: str, provider: str) -> str:
    """A usage fact's service tier (as :func:`usage_tier`)."""
    if batch == "true" or service_tier == "batch":
        return "batch"
    if service_tier == "default" or (not service_tier and tiered(provider)):
        return "standard"
    return service_tier


def tier_label(tier: str) -> str:
    return SERVICE_TIER_LABELS.get(tier, tier.replace("_", " ").capitalize())


def week_key(day: date) -> str:
    """ISO week of ``day``, e.g. ``2026-W48`` (sorts in calendar order)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_label(day: date) -> str:
    """The week's Monday in words: ``Week of 23 Nov 2026``."""
    monday = day - timedelta(days=day.weekday())
    return f"Week of {monday.day} {monday:%b %Y}"

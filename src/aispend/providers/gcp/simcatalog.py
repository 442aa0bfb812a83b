"""What the BigQuery simulator's billing export bills: services, SKUs, projects and credits.

Each SKU carries the truth about it (model, kind, tier, mode, modality) that the connector
must recover from the description alone; descriptions come from the reference
(``/work/shared/reference/gcp.md`` §2, with their real SKU ids) plus a few shaped the same
way (invented ids), including one no rule can read (an Imagen SKU) and one only the override
table reads (the embedding SKU).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

__all__ = [
    "CATALOG",
    "CREDIT_PLANS",
    "GEMINI_API",
    "OTHER_SERVICE",
    "PROJECTS",
    "SERVICE_NAMES",
    "VERTEX_AI",
    "CreditPlan",
    "SimProject",
    "SimSku",
    "Usage",
]

VERTEX_AI: Final = "C7E2-9256-1C43"
GEMINI_API: Final = "AEFD-7695-64FA"
OTHER_SERVICE: Final = "6F81-5844-456A"  # Compute Engine: rows the connector must leave out
SERVICE_NAMES: Final = {VERTEX_AI: "Vertex AI", GEMINI_API: "Gemini API", OTHER_SERVICE: "Compute Engine"}


@dataclass(frozen=True, slots=True)
class SimSku:
    """A SKU and the truth about it. ``price`` is US dollars per ``per`` units at list price."""

    id: str
    description: str
    service: str
    model: str
    kind: str
    price: Decimal
    per: int = 1_000_000
    unit: str = "count"
    tier: str = ""
    mode: str = ""
    modality: str = ""
    detail: str = ""
    readable: bool = True

    @property
    def truth_kind(self) -> str:
        """The kind a cost report should show: the ``other`` kinds by what they are."""
        return self.detail or self.kind

    @property
    def is_tokens(self) -> bool:
        return self.kind in ("input", "output", "cached_input", "thinking_output")


def _sku(
    sku_id: str, description: str, service: str, model: str, kind: str, per_million: str, **extra: object
) -> SimSku:
    return SimSku(sku_id, description, service, model, kind, Decimal(per_million), **extra)  # type: ignore[arg-type]


F25, P25, F3 = "gemini-2.5-flash", "gemini-2.5-pro", "gemini-3-flash"
CATALOG: Final[dict[str, SimSku]] = {
    sku.id: sku
    for sku in (
        # Vertex AI
        _sku(
            "9A1B-0C2D-3E4F",
            "Gemini 2.5 Flash GA Text Input - Predictions",
            VERTEX_AI,
            F25,
            "input",
            "0.30",
            mode="standard",
            modality="text",
        ),
        _sku(
            "9A1B-0C2D-3E50",
            "Gemini 2.5 Flash GA Text Output - Predictions",
            VERTEX_AI,
            F25,
            "output",
            "2.50",
            mode="standard",
            modality="text",
        ),
        _sku(
            "9A1B-0C2D-3E51",
            "Gemini 2.5 Flash GA Thinking Text Output - Predictions",
            VERTEX_AI,
            F25,
            "thinking_output",
            "2.50",
            mode="standard",
            modality="text",
        ),
        _sku(
            "9A1B-0C2D-3E52",
            "Gemini 2.5 Flash GA Input Text Caching",
            VERTEX_AI,
            F25,
            "cached_input",
            "0.03",
            mode="standard",
            modality="text",
        ),
        _sku(
            "9A1B-0C2D-3E53",
            "Gemini 2.5 Flash GA Image Input - Predictions",
            VERTEX_AI,
            F25,
            "input",
            "0.30",
            mode="standard",
            modality="image",
        ),
        _sku(
            "9A1B-0C2D-3E54",
            "Gemini 2.5 Flash GA Audio Input - Predictions",
            VERTEX_AI,
            F25,
            "input",
            "1.00",
            mode="standard",
            modality="audio",
        ),
        _sku(
            "9A1B-0C2D-3E55",
            "Gemini 2.5 Flash Global Priority Text Input - Predictions",
            VERTEX_AI,
            F25,
            "input",
            "0.54",
            mode="priority",
            modality="text",
        ),
        _sku(
            "7EBE-3B46-F75C",
            "Gemini 3 Flash Text Input - Predictions",
            VERTEX_AI,
            F3,
            "input",
            "0.50",
            mode="standard",
            modality="text",
        ),
        _sku(
            "0127-F0B7-365E",
            "Gemini 3 Flash Text Output - Predictions",
            VERTEX_AI,
            F3,
            "output",
            "3.00",
            mode="standard",
            modality="text",
        ),
        _sku(
            "E5C2-A033-7712",
            "Gemini 3 Flash Text Input Caching",
            VERTEX_AI,
            F3,
            "cached_input",
            "0.05",
            mode="standard",
            modality="text",
        ),
        _sku(
            "148C-9912-0E1E",
            "Gemini 3 Flash Text Input Caching Storage",
            VERTEX_AI,
            F3,
            "cache_storage",
            "1.00",
            unit="h",
            modality="text",
        ),
        _sku(
            "2AF0-41D8-C5F1",
            "Gemini 2.0 Flash Text Input (Long) - Predictions",
            VERTEX_AI,
            "gemini-2.0-flash",
            "input",
            "0.30",
            tier="long",
            mode="standard",
            modality="text",
        ),
        _sku(
            "A7E4-0EAD-1D2E",
            "Gemini 2.5 Pro Input Text Caching (Long)",
            VERTEX_AI,
            P25,
            "cached_input",
            "0.25",
            tier="long",
            mode="standard",
            modality="text",
        ),
        _sku(
            "5B6C-7D8E-9F01",
            "Gemini 2.5 Pro Text Input - Batch Predictions",
            VERTEX_AI,
            P25,
            "input",
            "0.625",
            mode="batch",
            modality="text",
        ),
        _sku(
            "5B6C-7D8E-9F02",
            "Gemini 2.5 Pro Text Output - Batch Predictions",
            VERTEX_AI,
            P25,
            "output",
            "5.00",
            mode="batch",
            modality="text",
        ),
        _sku(
            "6C7D-8E9F-0A12",
            "LLM Grounding with Google Search tool - Predictions",
            VERTEX_AI,
            "",
            "other",
            "35000",
            detail="grounding",
        ),
        _sku(
            "6C7D-8E9F-0A13",
            "Imagen 4 Fast image generation",
            VERTEX_AI,
            "",
            "other",
            "20000",
            modality="image",
            readable=False,
        ),
        # Gemini API
        _sku(
            "981A-C057-0BF9",
            "Generate content input token count gemini 2.5 flash short input text",
            GEMINI_API,
            F25,
            "input",
            "0.30",
            tier="short",
            mode="standard",
            modality="text",
        ),
        _sku(
            "911A-8880-A243",
            "Generate content output token count gemini 2.5 flash short input text",
            GEMINI_API,
            F25,
            "output",
            "2.50",
            tier="short",
            mode="standard",
            modality="text",
        ),
        _sku(
            "6EDB-2409-6348",
            "Generate content output token count gemini 2.5 flash short output text non-thinking",
            GEMINI_API,
            F25,
            "output",
            "2.50",
            tier="short",
            mode="standard",
            modality="text",
        ),
        _sku(
            "2D1C-F790-3C09",
            "Generate content input token count Gemini 2.5 Pro short input text",
            GEMINI_API,
            P25,
            "input",
            "1.25",
            tier="short",
            mode="standard",
            modality="text",
        ),
        _sku(
            "2D1C-F790-3C0A",
            "Generate content input token count Gemini 2.5 Pro long input text",
            GEMINI_API,
            P25,
            "input",
            "2.50",
            tier="long",
            mode="standard",
            modality="text",
        ),
        _sku(
            "5CDC-4C82-2AEC",
            "Generate content cached input token count gemini 2.5 flash input short text",
            GEMINI_API,
            F25,
            "cached_input",
            "0.075",
            tier="short",
            mode="standard",
            modality="text",
        ),
        _sku(
            "96EA-8692-BEAE",
            "GenerateContent text input token count for Gemini 2.0 Flash",
            GEMINI_API,
            "gemini-2.0-flash",
            "input",
            "0.10",
            mode="standard",
            modality="text",
        ),
        _sku(
            "07D6-73CA-C859",
            "Generate_content cached text input token count for gemini 3 flash",
            GEMINI_API,
            F3,
            "cached_input",
            "0.05",
            mode="standard",
            modality="text",
        ),
        _sku(
            "E211-E01C-0CB3",
            "EmbedContent input token count for gemini-embedding-001",
            GEMINI_API,
            "gemini-embedding-001",
            "input",
            "0.15",
            mode="standard",
        ),
        _sku(
            "1E2F-3A4B-5C6D",
            "Generate content output token count gemini 3.1 flash lite preview text",
            GEMINI_API,
            "gemini-3.1-flash-lite",
            "output",
            "1.50",
            mode="standard",
            modality="text",
        ),
        _sku(
            "3C4D-5E6F-7A8B",
            "Cached content storage token hours",
            GEMINI_API,
            "",
            "cache_storage",
            "1.00",
            unit="h",
        ),
        _sku(
            "4D5E-6F7A-8B9C",
            "Grounding with Google Search",
            GEMINI_API,
            "",
            "other",
            "35000",
            detail="grounding",
        ),
        # Not an AI service: filtered out by service id.
        _sku(
            "D0C4-7E01-0001",
            "N1 Predefined Instance Core running in Americas",
            OTHER_SERVICE,
            "",
            "other",
            "31600",
            unit="h",
            readable=False,
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Usage:
    """A SKU a project uses: its region and daily usage range."""

    sku: str
    region: str
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class SimProject:
    id: str
    number: str
    name: str
    labels: tuple[tuple[str, str], ...]
    uses: tuple[Usage, ...]
    # A fraction below list price this project negotiated (its `cost` is below `cost_at_list`).
    discount: Decimal = Decimal(0)
    # Its name and labels before a rename, for the first part of the history.
    former_name: str = ""
    former_labels: tuple[tuple[str, str], ...] = ()


def _uses(region: str, *items: tuple[str, int, int]) -> tuple[Usage, ...]:
    return tuple(Usage(sku, region, low, high) for sku, low, high in items)


M = 1_000_000
PROJECTS: Final = (
    SimProject(
        "acme-chatbot-prod",
        "318272934152",
        "Chatbot (prod)",
        (("env", "prod"), ("team", "support")),
        _uses(
            "us-central1",
            ("9A1B-0C2D-3E4F", 2 * M, 20 * M),
            ("9A1B-0C2D-3E50", 200_000, 2 * M),
            ("9A1B-0C2D-3E51", 100_000, 1 * M),
            ("9A1B-0C2D-3E52", 1 * M, 8 * M),
            ("9A1B-0C2D-3E53", 50_000, 400_000),
            ("9A1B-0C2D-3E54", 10_000, 90_000),
            ("6C7D-8E9F-0A12", 20, 400),
        )
        + _uses(
            "europe-west4",
            ("9A1B-0C2D-3E4F", 1 * M, 6 * M),
            ("9A1B-0C2D-3E50", 100_000, 900_000),
            ("7EBE-3B46-F75C", 1 * M, 5 * M),
            ("0127-F0B7-365E", 100_000, 800_000),
            ("E5C2-A033-7712", 500_000, 3 * M),
            ("148C-9912-0E1E", 500_000, 4 * M),
        )
        + _uses("global", ("9A1B-0C2D-3E55", 100_000, 1 * M)),
    ),
    SimProject(
        "acme-search-prod",
        "731944022871",
        "Search",
        (("env", "prod"), ("team", "search")),
        _uses(
            "global",
            ("981A-C057-0BF9", 1 * M, 15 * M),
            ("911A-8880-A243", 100_000, 1 * M),
            ("6EDB-2409-6348", 50_000, 600_000),
            ("2D1C-F790-3C09", 500_000, 4 * M),
            ("5CDC-4C82-2AEC", 1 * M, 9 * M),
            ("E211-E01C-0CB3", 2 * M, 30 * M),
            ("3C4D-5E6F-7A8B", 1 * M, 8 * M),
            ("4D5E-6F7A-8B9C", 10, 300),
        ),
    ),
    SimProject(
        "acme-research",
        "120496711350",
        "Research sandbox",
        (("env", "dev"), ("team", "research")),
        _uses(
            "global",
            ("2D1C-F790-3C0A", 200_000, 3 * M),
            ("96EA-8692-BEAE", 500_000, 5 * M),
            ("07D6-73CA-C859", 100_000, 2 * M),
            ("1E2F-3A4B-5C6D", 10_000, 300_000),
        )
        + _uses(
            "us-east5",
            ("2AF0-41D8-C5F1", 200_000, 2 * M),
            ("A7E4-0EAD-1D2E", 100_000, 1 * M),
            ("6C7D-8E9F-0A13", 5, 120),
            ("D0C4-7E01-0001", 10, 24),
        ),
        former_name="Research",
        former_labels=(("team", "research"),),
    ),
    SimProject(
        "acme-batch-jobs",
        "982715530064",
        "Nightly batch",
        (("team", "data"),),
        _uses(
            "us-central1",
            ("5B6C-7D8E-9F01", 5 * M, 60 * M),
            ("5B6C-7D8E-9F02", 500_000, 6 * M),
        ),
        discount=Decimal("0.1"),
    ),
)


@dataclass(frozen=True, slots=True)
class CreditPlan:
    """A credit program: which rows get it and what fraction of their cost it takes back."""

    type: str
    full_name: str
    name: str
    id: str
    fraction: Decimal
    projects: tuple[str, ...]
    services: tuple[str, ...]


CREDIT_PLANS: Final = (
    CreditPlan(
        "FREE_TIER", "Free tier", "", "FreeTier", Decimal("0.5"), ("acme-search-prod",), (GEMINI_API,)
    ),
    CreditPlan(
        "PROMOTION",
        "Google Developer Program Premium GenAI Credit",
        "Google Developer Program Premium GenAI Credit",
        "a1B2c3D4e5",
        Decimal("0.8"),
        ("acme-research",),
        (GEMINI_API, VERTEX_AI),
    ),
    CreditPlan(
        "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE",
        "Committed use discount - dollar based: Vertex AI",
        "",
        "",
        Decimal("0.2"),
        ("acme-chatbot-prod",),
        (VERTEX_AI,),
    ),
    CreditPlan(
        "DISCOUNT",
        "Spending based discount (contractual)",
        "",
        "",
        Decimal("0.05"),
        ("acme-chatbot-prod", "acme-batch-jobs"),
        (VERTEX_AI,),
    ),
)

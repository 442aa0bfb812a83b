"""Query rows -> records: gross and credit lines, billing currency and USD, tokens, projects."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from aispend.providers.gcp.money import exact, round_money, usd_exact
from aispend.providers.gcp.parse import parse_accounts, parse_cost_rows, parse_projects, parse_usage_rows

DAY = date(2026, 3, 2)
FLASH_OUT = "Generate content output token count gemini 2.5 flash short input text"


def cost_row(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "line": "gross",
        "usage_day": DAY,
        "project_id": "proj-a",
        "service_id": "AEFD-7695-64FA",
        "sku_id": "911A-8880-A243",
        "sku_description": FLASH_OUT,
        "region": "global",
        "cost_type": "regular",
        "currency": "USD",
        "conversion_rate": Decimal(1),
        "usage_unit": "count",
        "credit_type": "",
        "credit_name": "",
        "credit_full_name": "",
        "usage_amount": Decimal(1_000_000),
        "amount": Decimal("2.5"),
        "list_amount": Decimal("2.5"),
    }
    row.update(values)
    return row


def credit_row(**values: Any) -> dict[str, Any]:
    fields = {"line": "credit", "usage_unit": "", "usage_amount": Decimal(0), "list_amount": Decimal(0)}
    return cost_row(**{**fields, **values})


def test_gross_and_each_credit_are_lines_of_their_own_and_net_is_their_sum() -> None:
    rows = [
        cost_row(),
        credit_row(credit_type="FREE_TIER", credit_full_name="Free tier", amount=Decimal("-1.25")),
        credit_row(credit_type="PROMOTION", credit_name="Promo", credit_full_name="", amount=Decimal("-0.5")),
    ]
    [day] = parse_cost_rows(rows, "billing_export")
    gross, free, promo = day.cost

    assert day.day == DAY
    assert (gross.cost_type, gross.token_type, gross.model) == ("output", "output", "gemini-2.5-flash")
    assert (gross.context_window, gross.service_tier, gross.product) == ("short", "standard", "gemini_api")
    assert (gross.workspace_id, gross.inference_geo, gross.sku_id) == ("proj-a", "global", "911A-8880-A243")
    assert (gross.amount_usd, gross.list_amount_usd, gross.quantity, gross.unit) == (
        Decimal("2.5"),
        Decimal("2.5"),
        Decimal(1_000_000),
        "tokens",
    )
    assert gross.description == FLASH_OUT
    assert gross.method == "parsed_line_item"
    assert (free.cost_type, free.description, free.amount_usd) == (
        "credit",
        "FREE_TIER: Free tier",
        Decimal("-1.25"),
    )
    assert (promo.description, promo.model, promo.sku_id) == (
        "PROMOTION: Promo",
        "gemini-2.5-flash",
        "911A-8880-A243",
    )
    assert free.list_amount_usd is None
    assert free.quantity is None
    assert sum(line.amount_usd for line in day.cost) == Decimal("0.75")


def test_non_usd_amounts_keep_the_billing_currency_and_convert_at_the_exports_rate() -> None:
    rows = [
        cost_row(
            currency="JPY",
            conversion_rate=Decimal("151.234567"),
            amount=Decimal("1000"),
            list_amount=Decimal(1200),
        ),
        credit_row(
            currency="JPY", conversion_rate=Decimal("151.234567"), credit_type="DISCOUNT", amount=Decimal(-30)
        ),
    ]
    gross, credit = parse_cost_rows(rows, "billing_export")[0].cost

    assert (gross.currency, gross.amount, gross.conversion_rate) == (
        "JPY",
        Decimal(1000),
        Decimal("151.234567"),
    )
    # 1000 / 151.234567 = 6.61224493736...: one rounding, half-even, to a billionth.
    assert gross.amount_usd == Decimal("6.612244937")
    assert gross.amount_usd == round_money(usd_exact(Decimal(1000), Decimal("151.234567")))
    assert gross.list_amount_usd == round_money(usd_exact(Decimal(1200), Decimal("151.234567")))
    assert credit.amount_usd == round_money(usd_exact(Decimal(-30), Decimal("151.234567")))


def test_a_line_whose_rate_changed_during_the_day_adds_its_dollars_before_the_one_rounding() -> None:
    rows = [
        cost_row(currency="EUR", conversion_rate=Decimal("0.9"), amount=Decimal("1")),
        cost_row(currency="EUR", conversion_rate=Decimal("0.7"), amount=Decimal("1")),
    ]
    [line] = parse_cost_rows(rows, "billing_export")[0].cost

    exact_usd = Decimal(1) / Decimal("0.9") + Decimal(1) / Decimal("0.7")  # 2.53968253968...
    assert line.amount == Decimal(2)
    assert line.amount_usd == Decimal("2.539682540")
    assert abs(line.amount_usd - exact_usd) < Decimal("0.0000000005")
    assert line.conversion_rate == Decimal("0.787500000")
    assert line.quantity == Decimal(2_000_000)


def test_tax_and_adjustments_keep_their_type_and_unreadable_skus_are_kept() -> None:
    rows = [
        cost_row(cost_type="adjustment", amount=Decimal("-3")),
        cost_row(cost_type="rounding error", amount=Decimal("0.01")),
        cost_row(
            sku_id="6C7D-8E9F-0A13", sku_description="Imagen 4 Fast image generation", amount=Decimal(7)
        ),
    ]
    adjustment, rounding, imagen = parse_cost_rows(rows, "billing_export")[0].cost

    assert (adjustment.cost_type, adjustment.model) == ("adjustment", "gemini-2.5-flash")
    assert rounding.cost_type == "rounding_error"
    assert (imagen.cost_type, imagen.model, imagen.method) == ("unparsed_sku", "", "reported")
    assert imagen.description == "Imagen 4 Fast image generation"
    assert imagen.amount_usd == Decimal(7)


def test_rows_of_several_days_come_back_one_day_each_in_order() -> None:
    rows = [
        cost_row(usage_day=date(2026, 3, 3)),
        cost_row(),
        cost_row(usage_day=date(2026, 3, 3), region="x"),
    ]
    days = parse_cost_rows(rows, "billing_export")

    assert [(d.day, len(d.cost)) for d in days] == [(DAY, 1), (date(2026, 3, 3), 2)]


def usage_row(
    sku_id: str, description: str, amount: int | str, unit: str = "count", **values: Any
) -> dict[str, Any]:
    row = {
        "usage_day": DAY,
        "project_id": "proj-a",
        "service_id": "C7E2-9256-1C43",
        "sku_id": sku_id,
        "sku_description": description,
        "region": "us-central1",
        "usage_unit": unit,
        "usage_amount": Decimal(amount),
    }
    return {**row, **values}


def test_token_usage_per_model_with_thinking_modality_and_cache_splits() -> None:
    rows = [
        usage_row("a", "Gemini 2.5 Flash GA Text Input - Predictions", 1000),
        usage_row("b", "Gemini 2.5 Flash GA Image Input - Predictions", 200),
        usage_row("c", "Gemini 2.5 Flash GA Text Output - Predictions", 50),
        usage_row("d", "Gemini 2.5 Flash GA Thinking Text Output - Predictions", 30),
        usage_row("e", "Gemini 2.5 Flash GA Input Text Caching", 400),
        usage_row("f", "Gemini 2.5 Flash GA Text Input Caching Storage", "12345.5", unit="h"),
        usage_row("g", "LLM Grounding with Google Search tool - Predictions", 7),
        usage_row("h", "Imagen 4 Fast image generation", 3),
        usage_row("i", "Gemini 2.5 Pro Text Input - Batch Predictions", 999),
    ]
    [day] = parse_usage_rows(rows, "billing_usage")
    by_key = {(r.model, r.service_tier, r.variant, r.unit): r for r in day.usage}

    flash = by_key[("gemini-2.5-flash", "standard", "", "")]
    assert (flash.input_tokens, flash.input_text_tokens, flash.input_image_tokens) == (1200, 1000, 200)
    assert (flash.output_tokens, flash.reasoning_tokens, flash.output_text_tokens) == (80, 30, 50)
    assert (flash.cache_read_tokens, flash.input_cached_text_tokens) == (400, 400)
    assert (flash.workspace_id, flash.inference_geo, flash.product) == ("proj-a", "us-central1", "vertex_ai")
    storage = by_key[("gemini-2.5-flash", "", "cache_storage", "token_hours")]
    assert storage.quantity == Decimal("12345.5")
    assert by_key[("", "", "grounding", "count")].quantity == Decimal(7)
    assert by_key[("", "", "unparsed_sku:h", "count")].quantity == Decimal(3)
    assert by_key[("gemini-2.5-pro", "batch", "", "")].input_tokens == 999


def test_projects_take_their_latest_name_and_labels() -> None:
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    rows = [
        {
            "project_id": "p1",
            "project_name": "Old",
            "label_key": "team",
            "label_value": "a",
            "last_export": early,
        },
        {
            "project_id": "p1",
            "project_name": "New",
            "label_key": "team",
            "label_value": "b",
            "last_export": late,
        },
        {
            "project_id": "p1",
            "project_name": "New",
            "label_key": "env",
            "label_value": "prod",
            "last_export": late,
        },
        {"project_id": "p2", "project_name": "", "label_key": "", "label_value": "", "last_export": early},
    ]
    p1, p2 = parse_projects(rows)

    assert (p1.kind, p1.provider_id, p1.name, p1.attributes) == (
        "workspace",
        "p1",
        "New",
        {"env": "prod", "team": "b"},
    )
    assert (p2.name, p2.attributes) == ("p2", {})


def test_accounts() -> None:
    rows = [{"billing_account_id": "B"}, {"billing_account_id": "A"}, {"billing_account_id": "B"}]

    assert parse_accounts(rows) == ["A", "B"]


def test_floats_become_the_decimal_they_were_written_as() -> None:
    assert exact(0.1) == Decimal("0.1")
    assert exact(1.23456789e-5) == Decimal("0.0000123456789")
    assert exact(None) == Decimal(0)
    assert exact(Decimal("-2.500")) == Decimal("-2.500")

"""Display formatting: rounding happens here, once, half to even."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aispend.reports.format import format_tokens, format_usd


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("1234.565", "$1,234.56"),
        ("1234.575", "$1,234.58"),
        ("1234.5650001", "$1,234.57"),
        ("0.005", "$0.00"),
        ("0.015", "$0.02"),
        ("0", "$0.00"),
        ("1.2378912", "$1.24"),
        ("1234567.891", "$1,234,567.89"),
        ("-1234.565", "-$1,234.56"),
        ("-0.5", "-$0.50"),
        ("-0.001", "$0.00"),
        ("1E+3", "$1,000.00"),
    ],
)
def test_format_usd(amount: str, shown: str) -> None:
    assert format_usd(Decimal(amount)) == shown


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1.0k"),
        (1500, "1.5k"),
        (12_345_678, "12.3M"),
        (1_000_000, "1.0M"),
        (2_500_000_000, "2.5B"),
        (3_000_000_000_000, "3.0T"),
        (-1500, "-1.5k"),
        (-999, "-999"),
    ],
)
def test_format_tokens(count: int, shown: str) -> None:
    assert format_tokens(count) == shown


# Regression: the suffix used to be chosen before rounding (999_999 -> '1000.0k').
@pytest.mark.parametrize(("count", "shown"), [(999_999, "1.0M"), (999_999_999, "1.0B")])
def test_format_tokens_rounds_up_into_the_next_suffix(count: int, shown: str) -> None:
    assert format_tokens(count) == shown

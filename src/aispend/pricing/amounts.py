"""Exact amounts as JSON text: the spend report's convention, shared by the cost engine."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["plain_number", "plain_usd"]


def plain_usd(amount: Decimal) -> str:
    """Full stored precision, no exponent, at least the cents: ``"12.50"``, ``"0.000123"``."""
    text = format(amount, "f")
    if "." not in text:
        return f"{text}.00"
    whole, fraction = text.split(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"


def plain_number(value: Decimal) -> str:
    """A rate or a percentage as written, without an exponent or trailing zeros: ``"20"``, ``"2.5"``."""
    return format(value.normalize(), "f")

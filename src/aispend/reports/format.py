"""Numbers for people: ``$1,234.56``, ``12.3M``. Used only at display; data stays exact."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["format_tokens", "format_usd"]


def format_usd(amount: Decimal) -> str:
    cents = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents):,.2f}"


def format_tokens(count: int) -> str:
    # Round first, then pick the suffix, so 999,999 reads 1.0M rather than 1000.0k.
    size = abs(count)
    for limit, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "k")):
        if size >= limit or (limit > 1000 and round(size / limit, 1) >= 1):
            return f"{count / limit:.1f}{suffix}"
    return str(count)

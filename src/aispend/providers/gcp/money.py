"""Exact money from the billing export: NUMERIC sums, billing currency, conversion to USD.

The export stores ``cost``, ``cost_at_list``, ``credits.amount`` and
``currency_conversion_rate`` as FLOAT64. No arithmetic ever happens on those floats: the
queries cast each value to NUMERIC (BigQuery rounds a FLOAT64 to NUMERIC's nine decimal
places, the precision the store keeps anyway) *before* summing, so BigQuery adds exact
decimals and returns NUMERIC, which the client hands over as ``Decimal`` parsed from the JSON
text. Dollars are the billing-currency amount divided by the export's rate, each quotient kept
unrounded and rounded once, at the end, to a billionth. A value that still arrives as a float (a
FLOAT64 column) is converted with ``Decimal(str(value))``: ``str`` gives the shortest text that
reads back as the same float, i.e. the text BigQuery sent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from aispend.model import MONEY_QUANTUM

__all__ = ["add_exact", "effective_rate", "exact", "round_money", "usd_exact"]

_PRECISION = 60
"""Digits kept by intermediate quotients and sums: far beyond any amount, so the one rounding
to the stored precision is the only rounding that matters."""


def exact(value: object) -> Decimal:
    """A NUMERIC (``Decimal``), a FLOAT64 (``float``) or a JSON number text as an exact ``Decimal``."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, float | int | str):
        result = Decimal(str(value))
    else:
        raise TypeError(f"not a number: {value!r}")
    if not result.is_finite():
        raise ValueError(f"amount is not a finite number: {value!r}")
    return result


def usd_exact(amount: Decimal, rate: Decimal) -> Decimal:
    """``amount`` in the billing currency as US dollars, unrounded (to 60 significant digits).

    ``rate`` is the export's ``currency_conversion_rate``: billing-currency units per US
    dollar (1 for USD accounts), so dollars = amount / rate.
    """
    if rate <= 0:
        raise ValueError(f"currency conversion rate must be positive, not {rate}")
    with localcontext() as context:
        context.prec = _PRECISION
        return amount / rate


def add_exact(left: Decimal, right: Decimal) -> Decimal:
    """``left + right`` without the default context's 28-digit rounding."""
    with localcontext() as context:
        context.prec = _PRECISION
        return left + right


def round_money(amount: Decimal) -> Decimal:
    """The single rounding: half-even to the stored precision (a billionth)."""
    with localcontext() as context:
        context.prec = _PRECISION
        return amount.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)


def effective_rate(amount: Decimal, usd: Decimal) -> Decimal:
    """The single rate that turns ``amount`` into ``usd`` (for a line that merged several rates)."""
    with localcontext() as context:
        context.prec = _PRECISION
        return round_money(amount / usd)

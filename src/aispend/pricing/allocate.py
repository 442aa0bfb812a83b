"""Split a reported cost over the dimensions the cost report lacks, exactly.

The cost report says what a (day, workspace, model, token type) cost but not which
API key spent it; the usage report says how many tokens each key used. Each cost is
split in proportion to the keys' tokens of that type, with largest-remainder
rounding at the stored precision, so the parts always sum to the reported amount.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from decimal import Decimal
from typing import TypeVar

from aispend.model import MONEY_QUANTUM

__all__ = ["allocate"]

K = TypeVar("K", bound=Hashable)


def allocate(total: Decimal, weights: Mapping[K, int], quantum: Decimal = MONEY_QUANTUM) -> dict[K, Decimal]:
    """Split ``total`` over ``weights`` in proportion, in whole multiples of ``quantum``.

    ``total`` must already be a multiple of ``quantum``. Keys with zero weight get
    nothing; the leftover quanta after flooring go one each to the largest
    fractional remainders (ties: the larger weight, then key order as given), so
    the result sums to ``total`` exactly. Negative totals (refunds) split the same
    way with the sign carried through. Raises ``ValueError`` when no weight is
    positive: the caller decides where unattributable cost goes.
    """
    units, remainder = divmod(total, quantum)
    if remainder:
        raise ValueError(f"{total} is not a multiple of {quantum}")
    positive = {key: weight for key, weight in weights.items() if weight > 0}
    if len(positive) == 1:
        return {key: total for key in positive}
    whole = sum(positive.values())
    if whole == 0:
        raise ValueError("no positive weight to allocate over")
    sign = -1 if units < 0 else 1
    units_total = int(abs(units))
    shares: dict[K, int] = {}
    remainders: list[tuple[int, int, int, K]] = []
    for order, (key, weight) in enumerate(positive.items()):
        share, left = divmod(units_total * weight, whole)
        shares[key] = share
        remainders.append((-left, -weight, order, key))
    leftover = units_total - sum(shares.values())
    for _, _, _, key in sorted(remainders)[:leftover]:
        shares[key] += 1
    return {key: quantum * sign * share for key, share in shares.items()}

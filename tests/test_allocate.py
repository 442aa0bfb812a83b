"""``allocate`` splits money exactly: the parts always sum to the whole, to the last billionth."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aispend.model import MONEY_QUANTUM
from aispend.pricing.allocate import allocate

Q = MONEY_QUANTUM

# Totals as whole billionths of a dollar, up to about nine billion dollars either way.
units = st.integers(min_value=-(10**18), max_value=10**18)
keys = st.text(alphabet="abcdefghij", min_size=1, max_size=4)
weights = st.dictionaries(keys, st.integers(min_value=0, max_value=10**12), min_size=1, max_size=12).filter(
    lambda w: any(v > 0 for v in w.values())
)


def total_of(n: int) -> Decimal:
    return Q * n


@given(n=units, w=weights)
def test_shares_sum_exactly_to_the_total(n: int, w: dict[str, int]) -> None:
    total = total_of(n)

    shares = allocate(total, w)

    assert sum(shares.values(), Decimal(0)) == total
    assert all(share % Q == 0 for share in shares.values())


@given(n=units, w=weights)
def test_each_share_is_within_one_quantum_of_exact(n: int, w: dict[str, int]) -> None:
    total = total_of(n)
    whole = sum(w.values())

    shares = allocate(total, w)

    for key, share in shares.items():
        exact = Fraction(total) * w[key] / whole
        assert abs(Fraction(share) - exact) < Fraction(Q)
        # Refunds split with the sign carried through; nothing flips sign.
        assert share * total >= 0


@given(n=units, w=weights)
def test_zero_weight_keys_get_nothing(n: int, w: dict[str, int]) -> None:
    shares = allocate(total_of(n), w)

    assert set(shares) == {key for key, weight in w.items() if weight > 0}


@given(n=units, w=weights)
def test_deterministic_for_equal_inputs(n: int, w: dict[str, int]) -> None:
    first = allocate(total_of(n), w)
    again = allocate(total_of(n), dict(w))

    assert first == again
    assert list(first) == list(again)


@given(w=weights)
def test_zero_total_gives_zero_shares(w: dict[str, int]) -> None:
    shares = allocate(Decimal(0), w)

    assert all(share == 0 for share in shares.values())


@given(n=st.integers(min_value=-(10**12), max_value=10**12), w=weights)
def test_negative_total_mirrors_the_positive_split(n: int, w: dict[str, int]) -> None:
    positive = allocate(total_of(abs(n)), w)
    negative = allocate(total_of(-abs(n)), w)

    assert negative == {key: -share for key, share in positive.items()}


@pytest.mark.parametrize("w", [{}, {"a": 0}, {"a": 0, "b": 0}, {"a": -3, "b": 0}])
def test_no_positive_weight_is_refused(w: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="no positive weight"):
        allocate(Decimal("1.00"), w)


@pytest.mark.parametrize(
    "total", [Decimal("0.0000000005"), Decimal("1.0000000001"), Decimal("-0.00000000015")]
)
def test_total_that_is_not_a_multiple_of_the_quantum_is_refused(total: Decimal) -> None:
    with pytest.raises(ValueError, match="not a multiple"):
        allocate(total, {"a": 1})


def test_largest_remainder_goes_first_by_order() -> None:
    assert allocate(Q * 10, {"a": 1, "b": 1, "c": 1}) == {"a": Q * 4, "b": Q * 3, "c": Q * 3}
    assert allocate(Q * 10, {"c": 1, "b": 1, "a": 1}) == {"c": Q * 4, "b": Q * 3, "a": Q * 3}
    assert allocate(Q * -10, {"a": 1, "b": 1, "c": 1}) == {"a": Q * -4, "b": Q * -3, "c": Q * -3}


def test_largest_remainder_then_larger_weight_wins() -> None:
    # 1 quantum over 1:2 -> exact 1/3 and 2/3: the larger remainder takes it.
    assert allocate(Q, {"a": 1, "b": 2}) == {"a": Q * 0, "b": Q}
    # 2 quanta over 1:1:2 -> exact 0.5, 0.5, 1: b's tie with a goes to order; c is whole.
    assert allocate(Q * 2, {"a": 1, "b": 1, "c": 2}) == {"a": Q, "b": Q * 0, "c": Q}
    # 3 quanta over 3:1:2 (remainder 0.5 each for 3/2 and 1/2, none for c): the larger weight wins.
    assert allocate(Q * 3, {"b": 1, "a": 3, "c": 2}) == {"b": Q * 0, "a": Q * 2, "c": Q}


def test_dollars_split_in_the_usual_proportion() -> None:
    shares = allocate(Decimal("1.000000000"), {"k1": 100, "k2": 300, "idle": 0})

    assert shares == {"k1": Decimal("0.25"), "k2": Decimal("0.75")}


def test_a_coarser_quantum_can_be_given() -> None:
    shares = allocate(Decimal("1.00"), {"a": 1, "b": 1, "c": 1}, quantum=Decimal("0.01"))

    assert shares == {"a": Decimal("0.34"), "b": Decimal("0.33"), "c": Decimal("0.33")}

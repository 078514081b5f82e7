"""Tests that state the rule: exact fees on each side of each boundary, and a property."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shipping_fee import FREE_FROM_CENTS, shipping_fee


# --8<-- [start:strong]
@pytest.mark.parametrize("total, express, fee", [
    (0, False, 499),
    (FREE_FROM_CENTS - 1, False, 499),
    (FREE_FROM_CENTS, False, 0),
    (FREE_FROM_CENTS - 1, True, 1499),
    (FREE_FROM_CENTS, True, 1000),
])
def test_fee_on_each_side_of_each_boundary(total, express, fee):
    assert shipping_fee(total, express) == fee


def test_standard_is_the_default():
    assert shipping_fee(100) == shipping_fee(100, express=False)


def test_a_negative_total_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="^an order total cannot be negative$"):
        shipping_fee(-1)


@given(st.integers(min_value=0, max_value=10**7))
def test_express_always_adds_exactly_ten(total):
    assert shipping_fee(total, express=True) == shipping_fee(total) + 1000
# --8<-- [end:strong]

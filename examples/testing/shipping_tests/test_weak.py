"""Tests that run every line of shipping_fee.py and check almost nothing."""

import pytest
from shipping_fee import shipping_fee


# --8<-- [start:weak]
def test_express_costs_something():
    assert shipping_fee(1000, express=True) > 0


def test_a_negative_total_is_refused():
    with pytest.raises(ValueError):
        shipping_fee(-1)
# --8<-- [end:weak]

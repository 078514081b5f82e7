"""The same tests, each with the rates it needs from a fixture: any order passes."""

from decimal import Decimal

import pytest
from exchange_rates import load_rates, to_currency


# --8<-- [start:isolated]
@pytest.fixture
def rates():
    load_rates({"USD": "1.0850", "GBP": "0.8560"})
    yield
    load_rates({})  # the next test starts with none, as in a fresh process


def test_converts_to_dollars(rates):
    assert to_currency(Decimal("10"), "USD") == Decimal("10.85")


def test_converts_to_pounds(rates):
    assert to_currency(Decimal("10"), "GBP") == Decimal("8.56")
# --8<-- [end:isolated]

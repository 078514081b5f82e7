"""Two tests that pass in file order and fail in the other: the second relies on the rates
the first loaded."""

from decimal import Decimal

from exchange_rates import load_rates, to_currency


# --8<-- [start:dependent]
def test_loads_the_rates():
    load_rates({"USD": "1.0850", "GBP": "0.8560"})
    assert to_currency(Decimal("10"), "USD") == Decimal("10.85")


def test_converts_to_pounds():
    assert to_currency(Decimal("10"), "GBP") == Decimal("8.56")  # rates from the test above
# --8<-- [end:dependent]

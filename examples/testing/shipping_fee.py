"""A rule with boundaries, for Q46: its weak tests cover every line and check almost nothing.

    python -m coverage run --branch -m pytest shipping_tests/test_weak.py; coverage report
    mutmut run; mutmut results                  # setup.cfg says which tests judge the mutants
"""

# --8<-- [start:fee]
FREE_FROM_CENTS = 5000


def shipping_fee(total_cents: int, express: bool = False) -> int:
    """Shipping in cents: free from 50.00, else 4.99; express adds 10.00."""
    if total_cents < 0:
        raise ValueError("an order total cannot be negative")
    fee = 0 if total_cents >= FREE_FROM_CENTS else 499
    if express:
        fee += 1000
    return fee
# --8<-- [end:fee]

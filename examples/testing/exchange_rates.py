"""Currency conversion with rates kept in the process, for Q44: state that outlives a test
is how one test comes to depend on another having run first."""

from decimal import ROUND_HALF_EVEN, Decimal

# --8<-- [start:rates]
_rates: dict[str, Decimal] = {}  # units of the currency per euro, loaded once per process


def load_rates(rates: dict[str, str]) -> None:
    _rates.clear()
    _rates.update({code: Decimal(rate) for code, rate in rates.items()})


def to_currency(euros: Decimal, code: str) -> Decimal:
    if code not in _rates:
        raise LookupError(f"no rate for {code}: load_rates() first")
    return (euros * _rates[code]).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
# --8<-- [end:rates]

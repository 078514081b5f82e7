"""Q44: a dependence on test order. Two tests pass in file order; pytest-randomly shuffles
them, some seeds fail, and a failing seed fails again when given back; the isolated version
passes under every seed."""

import sys
from decimal import Decimal

import pytest
from exchange_rates import load_rates, to_currency

from support.includes import write_include
from support.paths import ROOT

pytest_plugins = ["pytester"]
SUITE = ROOT / "examples" / "testing" / "flaky_suite"
SEEDS = (42, 1234, 2718, 3141, 1618, 1414, 1732, 2236)  # as a CI log would print them


def test_converts_with_the_loaded_rates_and_refuses_without():
    load_rates({"USD": "1.0850"})
    assert to_currency(Decimal("2.50"), "USD") == Decimal("2.71")  # 2.7125, half to even
    load_rates({})
    with pytest.raises(LookupError, match="no rate for USD"):
        to_currency(Decimal("1"), "USD")


@pytest.fixture
def run(pytester, monkeypatch):
    """Run one file of the flaky suite in this process as a fresh one would: exchange_rates
    imported anew (the process-wide rates are the point), with pytest-randomly's order."""
    def run(name: str, *args: str) -> list[str]:
        monkeypatch.delitem(sys.modules, "exchange_rates", raising=False)
        path = pytester.makepyfile(**{name: (SUITE / f"{name}.py").read_text()})
        result = pytester.runpytest_inprocess(path, "-p", "randomly", *args)
        return [r.nodeid.split("::")[-1] for r in
                result.reprec.getreports("pytest_runtest_logreport")
                if r.failed and r.when == "call"]
    return run


@pytest.mark.slow
def test_random_order_finds_the_dependence_and_its_seed_replays_it(run):
    plain = run("test_rates_order_dependent", "-p", "no:randomly")
    dependent = {seed: run("test_rates_order_dependent", "-p", "randomly",
                           f"--randomly-seed={seed}") for seed in SEEDS}
    isolated = {seed: run("test_rates_isolated", f"--randomly-seed={seed}") for seed in SEEDS}
    failing = [seed for seed, failed in dependent.items() if failed]
    assert plain == []  # file order: green
    assert 0 < len(failing) < len(SEEDS)
    assert all(dependent[s] == ["test_converts_to_pounds"] for s in failing)
    replay = run("test_rates_order_dependent", f"--randomly-seed={failing[0]}")
    assert replay == ["test_converts_to_pounds"]
    assert not any(isolated.values())
    write_include("q44-order.md", "\n".join([
        f"| Suite, run with `-p randomly` under {len(SEEDS)} seeds | Seeds failing |",
        "|---|---|",
        f"| order-dependent (file order: passes) | {len(failing)}/{len(SEEDS)} "
        f"(seeds {', '.join(map(str, failing))}) |",
        f"| order-dependent, failing seed {failing[0]} given back | fails again, "
        "same test |",
        f"| isolated by a fixture | 0/{len(SEEDS)} |"]))

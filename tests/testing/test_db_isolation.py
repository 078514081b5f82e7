"""Q43: a database per test against one database and a rolled-back transaction per test: no
rows leak either way, and what each costs per test; and the published fixture suite run by
pytest's own pytester."""

import shutil
import time

import customer_store
import pytest
from db_isolation import fresh_database, rolled_back
from sqlalchemy import func, select

from support.includes import write_include
from support.paths import ROOT

pytest_plugins = ["pytester"]
EXAMPLES = ROOT / "examples" / "testing"


def count(conn) -> int:
    return conn.scalar(select(func.count()).select_from(customer_store.customers))


def one_test(conn) -> None:
    """What each test of a suite does here: write a row, and see only its own."""
    customer_store.add_customer(conn, "ann@example.com", "Ann")
    assert count(conn) == 1


def test_no_rows_leak_either_way_and_a_rollback_costs_far_less(database_url):
    runs, per_test, seconds = 3, [], {}
    start = time.perf_counter()
    for n in range(runs):
        name = f"per_test_{n}"
        with (fresh_database(database_url, name, customer_store.metadata) as engine,
              engine.begin() as conn):
            one_test(conn)  # committed: the next test's database is another one
        per_test.append(engine.url.database)
    seconds["database per test"] = (time.perf_counter() - start) / runs
    with fresh_database(database_url, "shared", customer_store.metadata) as engine:
        start = time.perf_counter()
        for _ in range(runs):
            with rolled_back(engine) as conn:
                one_test(conn)
        seconds["one database, rollback per test"] = (time.perf_counter() - start) / runs
        with engine.connect() as conn:
            assert count(conn) == 0  # nothing the tests wrote is left
    assert per_test == ["per_test_0", "per_test_1", "per_test_2"]
    ratio = seconds["database per test"] / seconds["one database, rollback per test"]
    assert ratio > 10, seconds
    write_include("q43-isolation.md", "\n".join(
        ["| Isolation | Time per test | Rows left for the next test |", "|---|---|---|"]
        + [f"| {way} | {s * 1000:,.1f} ms | 0 |" for way, s in seconds.items()]
        + [f"| **ratio** | **×{ratio:,.0f}** | |"]))


def test_the_fixture_suite_passes_and_leaves_no_database(pytester, database_url, postgres):
    for name in ("customer_store.py", "db_isolation.py"):
        shutil.copy(EXAMPLES / name, pytester.path / name)
    shutil.copytree(EXAMPLES / "fixture_suite", pytester.path / "fixture_suite")
    pytester.syspathinsert()
    result = pytester.runpytest_inprocess("fixture_suite", "-p", "no:randomly", "-s")
    result.assert_outcomes(passed=5)
    assert result.stdout.lines.count("created database test_master") == 1
    with postgres.connect() as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
    assert "test_master" not in names


def test_the_rollback_undoes_even_a_failing_test(database_url):
    with fresh_database(database_url, "failing", customer_store.metadata) as engine:
        with pytest.raises(AssertionError), rolled_back(engine) as conn:
            customer_store.add_customer(conn, "ann@example.com", "Ann")
            raise AssertionError("the test failed")
        with engine.connect() as conn:
            assert count(conn) == 0

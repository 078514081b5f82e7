"""Q41: one feature tested at three levels (unit, integration against the real PostgreSQL, end
to end in Chromium), three bugs planted in it (logic, SQL, page script), which level caught
which, and what a test at each level cost in one run."""

import contextlib
import threading
import time

import order_totals
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from support.includes import write_include
from support.planted import planted
from support.waiting import free_port, wait_until

MODULE = "examples/testing/order_totals.py"
# Order 1: 2 pens at 250 and 2 notebooks at 400, 10% off.
EXPECTED = {"order_id": 1, "subtotal_cents": 1300, "discount_percent": 10, "total_cents": 1170}
BUGS = {  # name: (find, replace, in which file)
    "logic": ("(100 - percent)", "(100 + percent)", MODULE),
    "SQL": ("p.id = l.product_id", "p.id = l.order_id", MODULE),
    "page script": ("order.total_cents / 100", "order.subtotal_cents / 100",
                    "examples/testing/order_total.js"),
}
LEVELS = ("unit", "integration", "end to end")


@pytest.fixture(scope="module", autouse=True)
def filled(database_url):
    engine = create_engine(database_url)
    order_totals.create_and_fill(engine)
    engine.dispose()


@contextlib.contextmanager
def served(app):
    """The app under uvicorn on a free loopback port, in a thread of this process."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(),
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, 10, "uvicorn started")
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


# The three levels, each a check of one module (the published one, or a planted copy).
def unit(module, _browser=None) -> None:
    assert module.apply_discount(1300, 10) == 1170
    assert module.apply_discount(999, 0) == 999
    assert module.apply_discount(999, 100) == 0


def integration(module, _browser=None) -> None:
    with TestClient(module.app) as client:
        assert client.get("/orders/1/total").json() == EXPECTED
        assert client.get("/orders/2/total").status_code == 404


def end_to_end(module, browser) -> None:
    with served(module.app) as base:
        page = browser.new_page()
        try:
            page.goto(f"{base}/orders/1")
            total = page.locator("#total")
            total.filter(has_not_text="…").wait_for(timeout=10_000)
            assert total.text_content() == "$11.70"
        finally:
            page.close()


CHECKS = {"unit": unit, "integration": integration, "end to end": end_to_end}


def test_unit_the_discount():
    unit(order_totals)


def test_integration_the_endpoint_and_its_sql_on_postgresql():
    integration(order_totals)


@pytest.mark.browser
def test_end_to_end_the_page_shows_the_total(browser):
    end_to_end(order_totals, browser)


def caught(level: str, module, browser) -> bool:
    try:
        CHECKS[level](module, browser)
    except (Exception, pytest.fail.Exception):  # the test went red
        return True
    return False


@pytest.mark.slow
@pytest.mark.browser
def test_each_level_catches_the_bugs_it_can_see(browser, tmp_path):
    catches = {level: [] for level in LEVELS}
    for bug, (find, replace, in_file) in BUGS.items():
        with planted(tmp_path / bug.replace(" ", "_"), MODULE, find, replace,
                     in_file) as module:
            for level in LEVELS:
                if caught(level, module, browser):
                    catches[level].append(bug)
    assert catches == {"unit": ["logic"], "integration": ["logic", "SQL"],
                       "end to end": ["logic", "SQL", "page script"]}
    write_include("q41-catches.md", "\n".join(
        ["| Planted bug | Unit | Integration (PostgreSQL) | End to end (Chromium) |",
         "|---|---|---|---|"]
        + [f"| {bug} | " + " | ".join("caught" if bug in catches[level] else "missed"
                                      for level in LEVELS) + " |" for bug in BUGS]
        + ["| **bugs caught** | " + " | ".join(f"**{len(catches[level])}/{len(BUGS)}**"
                                               for level in LEVELS) + " |"]))


@pytest.mark.slow
@pytest.mark.browser
def test_a_test_costs_more_at_each_level_up(browser):
    """Each level's check on the published code, timed in this run: the mean of a few runs
    each. PostgreSQL and Chromium are already running, as in a suite; each end-to-end check
    starts the app under uvicorn and opens a page."""
    runs = {"unit": 100, "integration": 5, "end to end": 2}
    cost = {}
    for level, n in runs.items():
        CHECKS[level](order_totals, browser)  # warm: imports, first connections
        start = time.perf_counter()
        for _ in range(n):
            CHECKS[level](order_totals, browser)
        cost[level] = (time.perf_counter() - start) / n
    # Microseconds against milliseconds: the order holds on a loaded machine.
    assert cost["unit"] * 1000 < cost["integration"] < cost["end to end"]
    write_include("q41-costs.md", "\n".join(
        ["| Level | One test | Relative to a unit test |", "|---|---|---|"]
        + [f"| {level} | {duration(cost[level])} | ×{cost[level] / cost['unit']:,.0f} |"
           for level in LEVELS]))


def duration(seconds: float) -> str:
    return f"{seconds * 1e6:.2g} µs" if seconds < 1e-3 else f"{seconds * 1000:,.0f} ms"


def test_main_prints_order_one(database_url, capsys):
    order_totals.main()
    assert capsys.readouterr().out == (
        "order 1: subtotal 1300 cents, 10% off, total 1170 cents\n")

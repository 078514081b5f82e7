"""examples/celery/testing_celery.py: four ways to test a task, and what each one hides.

The module has its own Redis (`own_stack`). The in-process worker and the subprocess
worker read the same queue, so they never run at the same time: the in-process one is
started and stopped inside the cost test, before the subprocess worker's fixture starts.
"""

import contextlib
import os
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
from kombu.exceptions import EncodeError

from support.broker_watch import NothingPublished
from support.docs_pages import run_line
from support.includes import write_include
from support.paths import DOCS
from support.proofs import never
from support.waiting import wait_until

pytestmark = pytest.mark.slow
INCLUDE = DOCS / "_includes" / "q33-costs.md"
LINES = [("pen", 2, 150), ("notebook", 1, 400)]


@pytest.fixture(scope="module")
def tc(own_stack):
    """The example module, its app (the client side) bound to this module's Redis."""
    import testing_celery

    own_stack.bind(testing_celery.app)
    return testing_celery


@pytest.fixture(scope="module")
def real_worker(own_stack):
    """`celery -A testing_celery worker`: a real process, reading `testing` only."""
    proc = own_stack.worker("testing_celery", "--pool=solo")
    yield proc
    own_stack.stop(proc)


@contextlib.contextmanager
def eager(app):
    """What many test suites set globally: .delay() runs the task right here, in-process."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def test_call_the_function_and_apply_it_no_broker_involved(tc, own_stack):
    assert tc.invoice_total(LINES) == 700  # the task object is callable: a plain call
    result = tc.invoice_total.apply((LINES,))  # runs here, with a task context
    assert (result.state, result.get()) == ("SUCCESS", 700)
    assert own_stack.redis.client(0).dbsize() == 0  # nothing was sent


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def test_what_each_approach_costs(tc, request):
    from celery.contrib.testing.worker import start_worker

    costs = {}
    _, costs["Call the function"] = timed(lambda: tc.invoice_total(LINES))
    _, costs["`.apply()`"] = timed(lambda: tc.invoice_total.apply((LINES,)).get())
    with eager(tc.app):
        _, costs["`task_always_eager`, `.delay()`"] = timed(
            lambda: tc.invoice_total.delay(LINES).get())

    def in_process():
        with start_worker(tc.app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            return tc.invoice_total.delay(LINES).get(timeout=30)

    value, costs["In-process worker (`start_worker`): start, one task, stop"] = timed(in_process)
    assert value == 700

    def subprocess_worker():
        request.getfixturevalue("real_worker")  # started here, stopped at the module's end
        return tc.invoice_total.delay(LINES).get(timeout=30)

    value, costs["Worker process (this guide): start, one task"] = timed(subprocess_worker)
    assert value == 700
    warm, costs["Worker process, one more task"] = timed(
        lambda: tc.invoice_total.delay(LINES).get(timeout=30))
    assert warm == 700

    figures = list(costs.values())
    assert figures[0] < figures[3] and figures[0] < figures[4]
    rows = "\n".join(f"| {what} | {seconds * 1000:,.1f} ms |" for what, seconds in costs.items())
    write_include(INCLUDE.name,
        "<!-- Written by tests/celery/test_testing_celery.py::test_what_each_approach_costs."
        " Do not edit. -->\n"
        "The same task each way, measured on this guide's last run (one sample each):\n\n"
        f"| Approach | Wall time |\n|---|---|\n{rows}\n")


def test_apply_accepts_an_object_eager_and_real_calls_refuse_it(tc, own_stack):
    order = tc.Order(id=7, lines=LINES)
    assert tc.total_of_order.apply((order,)).get() == 700  # green: nothing is serialized
    with eager(tc.app), pytest.raises(EncodeError, match="Order is not JSON serializable"):
        tc.total_of_order.delay(order)  # eager .delay() round-trips the arguments
    with pytest.raises(EncodeError, match="Order is not JSON serializable"):
        tc.total_of_order.delay(order)  # a real call: refused in the caller
    assert own_stack.redis.client(0).llen("testing") == 0


def test_eager_returns_an_object_a_real_worker_cannot_store(tc, real_worker):
    with eager(tc.app):
        assert tc.find_order.delay(7).get() == tc.Order(id=7, lines=[])  # green
    result = tc.find_order.delay(7)
    with pytest.raises(Exception) as failure:
        result.get(timeout=15)
    assert (result.state, type(failure.value).__name__) == ("FAILURE", "EncodeError")
    assert "Order is not JSON serializable" in str(failure.value)


def test_eager_runs_a_routed_task_no_worker_reads(tc, real_worker, own_stack):
    with eager(tc.app):
        assert tc.render_invoice.delay(7).get() == "invoice-7.pdf"  # green
    result = tc.render_invoice.delay(7)  # for real: routed to `reports`
    broker = own_stack.redis.client(0)
    wait_until(lambda: broker.llen("reports") == 1, 5, "the message in the reports list")
    never(lambda: "testing_celery.render_invoice[" in real_worker.log, 1.0, "the worker running it")
    assert result.state == "PENDING"


def test_eager_retries_at_once_a_worker_waits_between_tries(tc, real_worker):
    with eager(tc.app):
        retries, eager_s = timed(lambda: tc.sync_with_partner.delay(2).get())
    assert retries == 2 and eager_s < 0.5  # the 1 s retry delays never happened
    retries, real_s = timed(lambda: tc.sync_with_partner.delay(2).get(timeout=30))
    assert retries == 2 and real_s >= 2  # two retries, each 1 s later


def test_mock_delay_to_test_the_code_that_enqueues(tc, own_stack):
    """The caller's side: did it enqueue the right task with the right arguments? No
    broker, no worker, nothing sent; the task itself is tested on its own."""
    with (NothingPublished(own_stack.redis.client(0)),
          mock.patch.object(tc.render_invoice, "delay") as delay):
        delay.return_value.id = "the-task-id"
        assert tc.close_order(7) == {"order": 7, "invoice_task": "the-task-id"}
    delay.assert_called_once_with(7)


def test_eager_hides_a_task_failure_unless_task_eager_propagates(tc):
    """Eager, a task that raises gives a FAILURE result and the test goes on, green;
    `task_eager_propagates=True` raises the task's own error at the `.delay()` line."""
    with eager(tc.app):
        result = tc.invoice_total.delay(None)  # the task raises TypeError
        assert result.state == "FAILURE" and isinstance(result.result, TypeError)
        tc.app.conf.task_eager_propagates = True
        try:
            with pytest.raises(TypeError, match="'NoneType' object is not iterable"):
                tc.invoice_total.delay(None)
        finally:
            tc.app.conf.task_eager_propagates = False


def test_the_pages_commands_print_without_a_worker(own_stack):
    """The two `python -c` lines of Try it, as written; `reports` has no worker here."""
    page = (DOCS / "celery" / "q33-testing-celery.md").read_text()
    shown = [line for line in page.splitlines() if line.startswith("python -c ")]
    assert len(shown) == 2
    env = own_stack.env(PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    waiting = own_stack.redis.client(0).llen("reports")
    outputs = [run_line(line, env).stdout for line in shown]
    assert outputs == ["300\n", "invoice-7.pdf\n"]
    assert own_stack.redis.client(0).llen("reports") == waiting  # eager sent nothing
